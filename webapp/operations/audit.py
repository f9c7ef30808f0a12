"""The audit log: ``record`` adds a row in the caller's transaction; ``search`` reads them.

Every admin action calls ``record`` just before its own commit, so the action and
its audit row are written together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select

from webapp.core.forms import EARLIEST_DATE, LATEST_DATE
from webapp.core.timeutil import iso_utc
from webapp.extensions import db
from webapp.models import AuditEntry, User

# The actions recorded, by family (the filter's choices).
ACTIONS = (
    "model.promote",
    "model.rollback",
    "model.archive",
    "experiment.create",
    "experiment.edit",
    "experiment.start",
    "experiment.stop",
    "experiment.conclude",
    "rollout.create",
    "rollout.start",
    "rollout.pause",
    "rollout.resume",
    "rollout.advance",
    "rollout.complete",
    "rollout.rollback",
    "shadow.start",
    "shadow.stop",
    "token.create",
    "token.revoke",
    "import.csv",
    "queue.retry",
    "queue.cancel",
    "queue.stop",
    "queue.delete",
)
MAX_ACTOR = 254


def actor_label(actor: User | None, fallback: str = "system") -> str:
    """Return how an actor is shown: the user's e-mail, else ``fallback``."""
    return actor.email if actor is not None else fallback


def record(
    action: str,
    target_type: str,
    target_id: Any = None,
    actor: User | None = None,
    details: dict[str, Any] | None = None,
    via: str = "system",
) -> AuditEntry:
    """Add an audit row for ``action`` on ``target_type`` ``target_id`` (not committed).

    :param via: who acted when no user did (``cli`` for flask commands).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        actor=actor_label(actor, via)[:MAX_ACTOR],
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:64],
        details=details or {},
    )
    db.session.add(entry)
    return entry


@dataclass(frozen=True)
class Filters:
    """What the audit page and API may narrow the log by (all optional)."""

    action: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None

    def problems(self) -> list[dict[str, str]]:
        """Return ``{path, message}`` for each filter that cannot be applied."""
        found = []
        if self.action is not None and self.action not in ACTIONS:
            found.append({"path": "action", "message": "not a recorded action"})
        for name in ("since", "until"):
            day = getattr(self, name)
            if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
                found.append({"path": name, "message": "days go from 1900 to 2999"})
        if self.since and self.until and self.since > self.until:
            found.append({"path": "until", "message": "until is before since"})
        return found

    def query(self) -> Select:
        """Return the matching rows' query, newest first."""
        query = select(AuditEntry)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.actor:
            query = query.where(AuditEntry.actor == self.actor.strip().lower())
        if self.since:
            query = query.where(
                AuditEntry.created_at >= datetime.combine(self.since, time())
            )
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time())
            query = query.where(AuditEntry.created_at < end)
        return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


def actors() -> list[str]:
    """Return every actor that appears in the log, for the filter's suggestions."""
    return list(
        db.session.scalars(
            select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)
        )
    )


def describe(entry: AuditEntry) -> dict[str, Any]:
    """Return the JSON description of an audit row."""
    return {
        "id": entry.id,
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "details": entry.details,
        "created_at": iso_utc(entry.created_at),
    }

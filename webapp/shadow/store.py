"""Starting and stopping shadow periods; how long a version has been shadowed.

A period also ends by itself when its version starts serving or is retired:
the registry calls ``end_for`` wherever a version becomes active or archived
(promotion, a rollout completing or rolled back, a registry rollback), so a
version never goes on shadowing the serving it now is, nor keeps its type's
one shadow slot. Every start and stop is in the audit log, the automatic
ones with their reason.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import ModelVersion, PredictionLog, ShadowPeriod, User
from webapp.operations import audit
from webapp.registry.contract import Subject
from webapp.registry.plugins import installed_types

# Shadow periods listed per model type on pages and in the API.
PERIODS_SHOWN = 20


class ShadowError(ValueError):
    """A shadow start or stop that cannot be done (the API answers 409)."""


def open_period(model_type: str) -> ShadowPeriod | None:
    """Return the model type's open shadow period, if any."""
    return db.session.scalar(
        select(ShadowPeriod).where(
            ShadowPeriod.model_type == model_type, ShadowPeriod.stopped_at.is_(None)
        )
    )


def periods(model_type: str, limit: int = PERIODS_SHOWN) -> list[ShadowPeriod]:
    """Return the model type's latest shadow periods, newest first."""
    return list(
        db.session.scalars(
            select(ShadowPeriod)
            .where(ShadowPeriod.model_type == model_type)
            .order_by(ShadowPeriod.started_at.desc(), ShadowPeriod.id.desc())
            .limit(limit)
        )
    )


def refusal(version: ModelVersion) -> str | None:
    """Return why ``version`` cannot start shadowing (None: it can)."""
    types = installed_types(current_app)
    if version.model_type not in types:
        return f"{version.model_type} is not installed"
    if types.get(version.model_type).subject != Subject.PAIR:
        return f"{version.model_type} is not a pair type: only pair types shadow"
    if version.status == "active":
        return f"{version.label} is active: it already serves"
    if version.artifact_error:
        return f"{version.label} artifact refused: {version.artifact_error}"
    return None


def start(version: ModelVersion, actor: User | None) -> ShadowPeriod:
    """Open a shadow period of ``version`` from now on; commit.

    Only predictions served from now on are scored (the watermark is the log's
    highest id). :raises ShadowError: it cannot shadow, or its type already has
    an open period.
    """
    reason = refusal(version)
    if reason is not None:
        raise ShadowError(reason)
    existing = open_period(version.model_type)
    if existing is not None:
        raise ShadowError(
            f"{existing.version.label} is already shadowing; stop it first"
        )
    period = ShadowPeriod(
        model_type=version.model_type,
        version_id=version.id,
        started_at=utcnow(),
        started_by_id=actor.id if actor else None,
        watermark=db.session.scalar(select(func.max(PredictionLog.id))) or 0,
    )
    db.session.add(period)
    try:
        db.session.flush()  # the unique open-period index refuses a second one here
        audit.record(
            "shadow.start",
            "model_version",
            version.id,
            actor,
            {"version": version.label},
        )
        db.session.commit()
    except IntegrityError:  # another admin opened one at the same moment
        db.session.rollback()
        raise ShadowError(
            f"{version.model_type} is already shadowing; stop it first"
        ) from None
    return period


def stop(version: ModelVersion, actor: User | None) -> ShadowPeriod:
    """Close ``version``'s open shadow period; commit.

    :raises ShadowError: ``version`` is not shadowing (perhaps just stopped).
    """
    period = close(version, actor, "stopped by hand")
    if period is None:
        db.session.rollback()
        raise ShadowError(f"{version.label} is not shadowing")
    db.session.commit()
    db.session.refresh(period)
    return period


def close(
    version: ModelVersion, actor: User | None, reason: str
) -> ShadowPeriod | None:
    """Close ``version``'s open shadow period and audit why (not committed).

    Returns None, writing nothing, when it is not shadowing (perhaps just stopped).
    """
    period = open_period(version.model_type)
    if period is None or period.version_id != version.id:
        return None
    applied = db.session.execute(
        update(ShadowPeriod)
        .where(ShadowPeriod.id == period.id, ShadowPeriod.stopped_at.is_(None))
        .values(stopped_at=utcnow(), stopped_by_id=actor.id if actor else None)
        .execution_options(synchronize_session=False)
    )
    if applied.rowcount != 1:
        return None
    audit.record(
        "shadow.stop",
        "model_version",
        version.id,
        actor,
        {"version": version.label, "period": period.id, "reason": reason[:500]},
    )
    return period


def end_for(version: ModelVersion, actor: User | None, reason: str) -> None:
    """End ``version``'s shadow period, if any, as it now serves or never will.

    Called by the registry inside the transaction that activates or archives
    ``version`` (the caller commits): both happen together or not at all.
    """
    close(version, actor, reason)


def shadowed_minutes(version_id: int, now: datetime | None = None) -> float:
    """Return the minutes ``version_id`` has spent shadowing, all its periods together."""
    now = now or utcnow()
    found = db.session.scalars(
        select(ShadowPeriod).where(ShadowPeriod.version_id == version_id)
    ).all()
    return sum(period.minutes(now) for period in found)

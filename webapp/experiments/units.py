"""Units in experiments: sticky assignments, exposures and events from other systems.

A unit's first assignment is stored and reused, so later weight or coverage
changes never move a unit that was already assigned. Two first requests for
one unit at once store one row: the insert does nothing on a conflict, and
both read back the row that won. An exposure is recorded once per unit (a
unique partial index), the first time a covered unit is served its variant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from webapp.core.timeutil import utcnow
from webapp.experiments.assignment import assign
from webapp.extensions import db
from webapp.models import ExperimentAssignment, ExperimentEvent
from webapp.models.experiments import EVENT_TYPES

# Where an event's value must lie (None: the event takes no value).
VALUE_RANGES: dict[str, tuple[float, float] | None] = {
    "exposure": None,
    "acceptance": None,
    "success": None,
    "rating": (1.0, 5.0),
    # ROI as a fraction of the spend: a campaign cannot lose more than it cost.
    "roi": (-1.0, 1000.0),
}
# Statuses that take events; a stopped experiment still collects late conversions.
EVENT_STATUSES = ("running", "stopped")


@dataclass(frozen=True)
class AssignmentRule:
    """What the hash needs to assign a unit: the experiment's current split."""

    experiment_id: int
    key: str
    variant_keys: Sequence[str]
    weights: Sequence[float]
    coverage: float
    namespace: dict[str, Any] | None
    hash_version: int = 2

    @classmethod
    def of(cls, experiment) -> AssignmentRule:
        """Copy the split out of an ``Experiment`` row."""
        return cls(
            experiment.id,
            experiment.key,
            tuple(variant.key for variant in experiment.variants),
            tuple(variant.weight for variant in experiment.variants),
            experiment.coverage,
            experiment.namespace,
            experiment.hash_version,
        )

    def hashed_variant(self, unit_id: str) -> str | None:
        """Return the variant the hash gives ``unit_id`` now, or None (not covered)."""
        index = assign(
            self.key,
            unit_id,
            list(self.weights),
            self.coverage,
            self.namespace,
            self.hash_version,
        )
        return None if index is None else self.variant_keys[index]


def insert_ignoring_conflict(model, values: dict[str, Any] | None = None):
    """Return an INSERT of ``values`` that does nothing if a unique row exists.

    Without ``values``, the statement takes its rows when executed (many at once).
    """
    dialect = db.engine.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(model)
    if values is not None:
        statement = statement.values(**values)
    return statement.on_conflict_do_nothing()


def stored_variant(experiment_id: int, unit_id: str) -> str | None:
    """Return the variant stored for a unit, or None when it was never assigned."""
    return db.session.scalar(
        select(ExperimentAssignment.variant_key).where(
            ExperimentAssignment.experiment_id == experiment_id,
            ExperimentAssignment.unit_id == unit_id,
        )
    )


def assignment_for(rule: AssignmentRule, unit_id: str) -> str | None:
    """Return the unit's variant key (sticky), or None when it is not in the test.

    Not committed: the caller commits (serving with the unit's exposure, the
    API view).
    """
    unit_id = str(unit_id)
    stored = stored_variant(rule.experiment_id, unit_id)
    if stored is not None:
        return stored
    chosen = rule.hashed_variant(unit_id)
    if chosen is None:
        return None
    db.session.execute(
        insert_ignoring_conflict(
            ExperimentAssignment,
            {
                "experiment_id": rule.experiment_id,
                "unit_id": unit_id,
                "variant_key": chosen,
                "assigned_at": utcnow(),
            },
        )
    )
    # Another request may have stored the unit first: its row is the one.
    return stored_variant(rule.experiment_id, unit_id)


def record_exposure(experiment_id: int, unit_id: str, source: str = "serving") -> None:
    """Record the unit's exposure unless it has one (not committed)."""
    db.session.execute(
        insert_ignoring_conflict(
            ExperimentEvent,
            {
                "experiment_id": experiment_id,
                "unit_id": str(unit_id),
                "type": "exposure",
                "value": None,
                "source": source,
                "occurred_at": utcnow(),
            },
        )
    )


def event_problems(event_type: str, value: Any) -> list[dict[str, str]]:
    """Return the problems of an event's type and value (empty when it is valid)."""
    if event_type not in EVENT_TYPES:
        return [{"path": "type", "message": f"choose one of {', '.join(EVENT_TYPES)}"}]
    bounds = VALUE_RANGES[event_type]
    if bounds is None:
        if value is not None:
            return [{"path": "value", "message": f"a {event_type} takes no value"}]
        return []
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [{"path": "value", "message": f"a {event_type} needs a number"}]
    if not math.isfinite(value) or not bounds[0] <= value <= bounds[1]:
        return [
            {
                "path": "value",
                "message": f"a {event_type} lies in {bounds[0]:g}..{bounds[1]:g}",
            }
        ]
    return []


def record_event(
    experiment_id: int, unit_id: str, event_type: str, value: float | None, source: str
) -> bool:
    """Store one event (an exposure only once); commit; return whether it was new."""
    if event_type == "exposure":
        inserted = db.session.execute(
            insert_ignoring_conflict(
                ExperimentEvent,
                {
                    "experiment_id": experiment_id,
                    "unit_id": str(unit_id),
                    "type": "exposure",
                    "value": None,
                    "source": source,
                    "occurred_at": utcnow(),
                },
            ).returning(ExperimentEvent.id)
        ).first()
        db.session.commit()
        return inserted is not None
    db.session.add(
        ExperimentEvent(
            experiment_id=experiment_id,
            unit_id=str(unit_id),
            type=event_type,
            value=None if value is None else float(value),
            source=source,
            occurred_at=utcnow(),
        )
    )
    db.session.commit()
    return True

"""The JSON description of a shadow period (the API and the monitoring page alike)."""

from __future__ import annotations

from typing import Any

from webapp.core.timeutil import utcnow
from webapp.models import ShadowPeriod


def stamp(moment) -> str | None:
    """Return a UTC timestamp as ISO 8601 with Z (None stays None)."""
    return None if moment is None else moment.isoformat() + "Z"


def describe(period: ShadowPeriod) -> dict[str, Any]:
    """Return one shadow period as JSON."""
    return {
        "id": period.id,
        "model_type": period.model_type,
        "version": period.version.version,
        "running": period.running,
        "started_at": stamp(period.started_at),
        "stopped_at": stamp(period.stopped_at),
        "minutes": round(period.minutes(utcnow()), 1),
        "started_by": period.started_by.email if period.started_by else None,
        "stopped_by": period.stopped_by.email if period.stopped_by else None,
        "scored": period.scored,
        "last_pass_at": stamp(period.last_pass_at),
        "last_pass_status": period.last_pass_status,
        "last_pass_error": period.last_pass_error,
    }

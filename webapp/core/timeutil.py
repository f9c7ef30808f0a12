"""Time helpers: the app stores naive UTC datetimes everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime (the storage convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def start_of(day: date) -> datetime:
    """Return midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min)


def iso_utc(moment: datetime | None) -> str | None:
    """Return a naive UTC datetime as ISO 8601 with Z, as the JSON API writes times."""
    return None if moment is None else moment.isoformat() + "Z"

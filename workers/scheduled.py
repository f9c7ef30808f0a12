"""Periodic jobs enqueued by the RQ cron scheduler."""

from __future__ import annotations

from typing import Any


def periodic_jobs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the periodic jobs and their intervals for ``make_scheduler``."""
    return []

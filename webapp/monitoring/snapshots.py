"""Monitoring reports shared between processes: the periodic job computes, pages read.

A model type's report is kept in Redis as JSON beside the fingerprint of the
inputs it was computed from (``report.fingerprint``) and when. It is used by
the same rule as each process's own cache (``usable``): while it is younger than
MONITORING_CACHE_SECONDS and no version or shadow period changed since, and, if
predictions, outcomes or activity arrived since, while it is younger than
MONITORING_MAX_LAG_SECONDS (live traffic moves them every second; recomputing
the report for each page view would cost seconds a view). The scheduler's
``refresh_monitoring`` recomputes every installed type's report before it
ages out, so the first render of a web process (or of any process after a
restart) is a Redis read instead of the computation. The database stays the
truth: a missing, stale or unreadable snapshot only means computing it here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any, NamedTuple

import redis
from flask import current_app

from webapp.runtime.jobs import redis_connection

log = logging.getLogger(__name__)
PREFIX = "matchloop:monitoring"


# Settings a report depends on besides the database (its windows, samples, alerts).
SETTINGS = ("SUCCESS_MIN_RATING", "RISK_FAILURE_MAX_RATING")


def digest(value: Any) -> str:
    """Return a short stable hash of ``value``'s text."""
    return hashlib.sha256(str(value).encode()).hexdigest()[:16]


def database_prefix() -> str:
    """Return the key prefix of every report of this app's database."""
    return f"{PREFIX}:{digest(current_app.config['DATABASE_URL'])}"


def key(model_type: str) -> str:
    """Return the Redis key of ``model_type``'s report, for this database and settings."""
    config = current_app.config
    settings = sorted(
        (name, str(config.get(name)))
        for name in config
        if name.startswith("MONITORING_") or name in SETTINGS
    )
    return f"{database_prefix()}:{digest(settings)}:{model_type}"


class Mark(NamedTuple):
    """A report's inputs: what it must match (structure), what it may lag (data).

    Both are tuples of strings, so a mark read back from JSON compares equal.
    """

    structure: tuple[str, ...]
    data: tuple[str, ...]

    @classmethod
    def of(cls, structure: tuple, data: tuple) -> Mark:
        """Return the mark of these values (as strings)."""
        return cls(tuple(map(str, structure)), tuple(map(str, data)))


def lifetimes() -> tuple[float, float]:
    """Return (MONITORING_CACHE_SECONDS, MONITORING_MAX_LAG_SECONDS)."""
    config = current_app.config
    return (
        float(config["MONITORING_CACHE_SECONDS"]),
        float(config["MONITORING_MAX_LAG_SECONDS"]),
    )


def usable(computed_from: Mark, mark: Mark, age: float, seconds: float, lag: float):
    """Say whether a report computed from ``computed_from`` ``age`` s ago may be shown now."""
    if not 0 <= age < seconds or computed_from.structure != mark.structure:
        return False
    return computed_from.data == mark.data or age < lag


def load(
    model_type: str, mark: Mark, seconds: float, lag: float
) -> tuple[dict, float, Mark] | None:
    """Return (report, its age in seconds, what it was computed from) if usable, else None."""
    try:
        stored = redis_connection().get(key(model_type))
    except redis.RedisError as error:
        log.warning("monitoring snapshot not read (Redis: %s); computing it", error)
        return None
    if stored is None:
        return None
    entry = json.loads(stored)
    age = time.time() - entry["computed_at"]
    structure, data = entry["mark"]
    computed_from = Mark(tuple(structure), tuple(data))
    if not usable(computed_from, mark, age, seconds, lag):
        return None
    return entry["report"], age, computed_from


def save(model_type: str, mark: Mark, report: dict[str, Any], seconds: float) -> None:
    """Store ``report`` computed from inputs ``mark`` for every process to use."""
    entry = {"mark": list(mark), "computed_at": time.time(), "report": report}
    try:
        redis_connection().set(
            key(model_type), current_app.json.dumps(entry), ex=max(1, int(seconds))
        )
    except redis.RedisError as error:
        log.warning("monitoring snapshot not stored (Redis: %s)", error)


def forget_all() -> int:
    """Delete every stored report of this app's database; return how many.

    For whoever rewrites the database behind the app's back (the tests empty
    their tables between tests): the reports computed from it go with it.
    """
    connection = redis_connection()
    keys = list(connection.scan_iter(match=f"{database_prefix()}:*"))
    return connection.delete(*keys) if keys else 0

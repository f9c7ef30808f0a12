"""Which model version serves a subject: experiment > rollout > active > fallback.

Experiments and staged rollouts plug in here; today the active version serves.
Lookups are cached per process for a couple of seconds so a promotion takes
effect everywhere within seconds, without a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock

from webapp.extensions import db
from webapp.models import ModelVersion
from webapp.registry import active_version

CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class Route:
    """The version chosen for a subject, and why (``active``, later ``experiment`` ...)."""

    version_id: int | None
    reason: str
    variant: str | None = None


class ActiveVersionCache:
    """Per-process cache of the active version id of each model type."""

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, int | None]] = {}
        self._lock = Lock()

    def get(self, model_type: str) -> int | None:
        """Return the active version id (None when there is none)."""
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(model_type)
        if cached and now - cached[0] < self.ttl:
            return cached[1]
        version = active_version(model_type)
        version_id = version.id if version else None
        with self._lock:
            self._entries[model_type] = (now, version_id)
        return version_id

    def clear(self) -> None:
        """Forget cached lookups (tests, and after a promotion in this process)."""
        with self._lock:
            self._entries.clear()


def route(cache: ActiveVersionCache, model_type: str, subject: str) -> Route:
    """Return the version that serves ``subject`` for ``model_type``."""
    version_id = cache.get(model_type)
    if version_id is None:
        return Route(None, "no active version")
    return Route(version_id, "active")


def load_version(version_id: int) -> ModelVersion | None:
    """Return the version row (None if it was deleted meanwhile)."""
    return db.session.get(ModelVersion, version_id)

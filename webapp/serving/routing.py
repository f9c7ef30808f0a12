"""Which model version serves a subject: experiment > rollout > active > fallback.

Experiments and staged rollouts plug in here; today the active version serves.
Lookups are cached per process for a couple of seconds so a promotion takes
effect everywhere within seconds, without a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from threading import Lock

from webapp.models import ModelVersion
from webapp.registry.versions import active_version

CACHE_SECONDS = 2.0


@dataclass(frozen=True)
class ServedVersion:
    """What serving needs to know about a model version (no database session needed)."""

    id: int
    model_type: str
    version: int
    artifact_path: str
    sha256: str

    @property
    def label(self) -> str:
        """Human name: ``match_success v3``."""
        return f"{self.model_type} v{self.version}"

    @classmethod
    def of(cls, row: ModelVersion) -> ServedVersion:
        """Copy the serving facts out of a registry row."""
        return cls(row.id, row.model_type, row.version, row.artifact_path, row.sha256)


class FallsBack:
    """Mixin of scored answers: ``fallback`` is True when no version answered."""

    version: ServedVersion | None

    @property
    def fallback(self) -> bool:
        """True when the type's fallback (no model version) answered."""
        return self.version is None


@dataclass(frozen=True)
class Route:
    """The version chosen for a subject, and why (``active``, later ``experiment`` ...)."""

    version: ServedVersion | None
    reason: str
    variant: str | None = None


class ActiveVersionCache:
    """Per-process cache of the active version of each model type."""

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, ServedVersion | None]] = {}
        self._lock = Lock()

    def get(self, model_type: str) -> ServedVersion | None:
        """Return the active version (None when there is none)."""
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(model_type)
        if cached and now - cached[0] < self.ttl:
            return cached[1]
        row = active_version(model_type)
        served = ServedVersion.of(row) if row else None
        with self._lock:
            self._entries[model_type] = (now, served)
        return served

    def clear(self) -> None:
        """Forget cached lookups (tests, and after a promotion in this process)."""
        with self._lock:
            self._entries.clear()


def route(cache: ActiveVersionCache, model_type: str, subject: str) -> Route:
    """Return the version that serves ``subject`` for ``model_type``."""
    version = cache.get(model_type)
    if version is None:
        return Route(None, "no active version")
    return Route(version, "active")

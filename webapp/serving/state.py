"""Per-app serving state: caches that live as long as the process."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from threading import Lock

from flask import Flask, current_app
from threadpoolctl import threadpool_limits

from webapp.registry.artifacts import ArtifactCache
from webapp.serving import loading
from webapp.serving.coherence import RoutingCache
from webapp.serving.pools import PoolCache
from webapp.serving.routing import ExposureMemory

_KEY = "matchloop.serving"
# Artifacts kept loaded per process: every active version and experiment arm of
# every type, with room for the ones a routing change replaces.
ARTIFACTS_KEPT = 16


@dataclass
class ServingState:
    """Loaded artifacts, the routing table and the candidate pool of one app."""

    artifacts: ArtifactCache
    routing: RoutingCache
    pool: PoolCache
    exposures: ExposureMemory = field(default_factory=ExposureMemory)
    # Model failures at predict time in this process: label -> (when, reason).
    failures: dict[str, tuple[float, str]] = field(default_factory=dict)
    _lock: Lock = field(default_factory=Lock)

    def record_failure(self, version, reason: str) -> None:
        """Remember that ``version`` failed at predict time (reported by health)."""
        with self._lock:
            self.failures[version.label] = (time.time(), reason)

    def recent_failures(self, seconds: float = 3600) -> dict[str, str]:
        """Return the predict-time failures of the last ``seconds``, by version label."""
        cutoff = time.time() - seconds
        with self._lock:
            return {k: r for k, (t, r) in self.failures.items() if t >= cutoff}

    def clear(self) -> None:
        """Forget everything cached (after tests, or to force a reload)."""
        self.artifacts.clear()
        self.routing.clear()
        self.exposures.clear()
        self.pool.clear()
        with self._lock:
            self.failures.clear()


def serving_state(app: Flask | None = None) -> ServingState:
    """Return the app's serving state, creating it on first use."""
    app = app or current_app._get_current_object()
    state = app.extensions.get(_KEY)
    if state is None:
        # Predictions are small and latency-bound: native thread pools only add
        # contention between concurrent requests, so they get one thread each.
        threadpool_limits(limits=app.config["SERVING_THREADS"])
        artifacts = ArtifactCache(ARTIFACTS_KEPT)
        state = app.extensions[_KEY] = ServingState(
            artifacts=artifacts,
            routing=RoutingCache(
                app, preload=lambda table: loading.preload(artifacts, table)
            ),
            pool=PoolCache(app.config["RANKING_POOL_SECONDS"]),
        )
    return state


def existing_serving_state(app: Flask) -> ServingState | None:
    """Return the app's serving state if this process has built one, else None."""
    return app.extensions.get(_KEY)

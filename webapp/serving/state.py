"""Per-app serving state: caches that live as long as the process."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from threadpoolctl import threadpool_limits

from webapp.registry.artifacts import ArtifactCache
from webapp.serving.pools import PoolCache
from webapp.serving.routing import ActiveVersionCache

_KEY = "matchloop.serving"


@dataclass
class ServingState:
    """Loaded artifacts, active-version lookups and the candidate pool of one app."""

    artifacts: ArtifactCache
    active: ActiveVersionCache
    pool: PoolCache

    def clear(self) -> None:
        """Forget everything cached (after tests, or to force a reload)."""
        self.artifacts.clear()
        self.active.clear()
        self.pool.clear()


def serving_state(app: Flask | None = None) -> ServingState:
    """Return the app's serving state, creating it on first use."""
    app = app or current_app._get_current_object()
    state = app.extensions.get(_KEY)
    if state is None:
        # Predictions are small and latency-bound: native thread pools only add
        # contention between concurrent requests, so they get one thread each.
        threadpool_limits(limits=app.config["SERVING_THREADS"])
        state = app.extensions[_KEY] = ServingState(
            artifacts=ArtifactCache(),
            active=ActiveVersionCache(),
            pool=PoolCache(app.config["RANKING_POOL_SECONDS"]),
        )
    return state

"""Per-app serving state: caches that live as long as the process."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from threading import Lock, Thread

from flask import Flask, current_app
from threadpoolctl import threadpool_limits

from webapp.registry.artifacts import ArtifactCache
from webapp.serving import loading
from webapp.serving.coherence import RoutingCache
from webapp.serving.pools import PoolCache
from webapp.serving.routing import ExposureMemory

log = logging.getLogger(__name__)

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


def current_pool(require: tuple[str, int] | None = None, app: Flask | None = None):
    """Return this process's candidate pool (containing ``require`` if given).

    The one place that says which pool serves: its outcomes count as
    successes from SUCCESS_MIN_RATING up.
    """
    app = app or current_app._get_current_object()
    return serving_state(app).pool.get(int(app.config["SUCCESS_MIN_RATING"]), require)


def warm_in_background(app: Flask) -> Thread:
    """Load the routing table (and its artifacts), then build the candidate pool, in a thread.

    A web worker calls it as it starts (``gunicorn_conf.post_worker_init``), so
    its first requests do not pay for loading models or building the pool: a
    request that arrives meanwhile waits for the pool being built, never builds
    a second one.
    """

    def warm() -> None:
        with app.app_context():
            state = serving_state(app)
            try:
                state.routing.table()
            except Exception:  # the first request loads it (and says why it cannot)
                log.exception("warming the routing table failed")
            state.pool.start_building(app, int(app.config["SUCCESS_MIN_RATING"]))

    thread = Thread(target=warm, name="serving-warm-up", daemon=True)
    thread.start()
    return thread

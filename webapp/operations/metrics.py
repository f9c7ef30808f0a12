"""``/metrics`` in the Prometheus text format (off by default, behind a bearer token).

Two kinds of figures, each counted where it is cheap and true across processes:

- per request (predictions by type and version, fallbacks, latency): a counter
  increment and a histogram observation in the serving process, nothing written
  to the database. gunicorn runs several processes, so with
  ``PROMETHEUS_MULTIPROC_DIR`` set (``flask up`` sets it) prometheus_client's
  multiprocess mode keeps the values in files that every process's scrape
  adds up; without it each process reports its own.
- shared state (queue depth, training run durations): read at scrape time from
  Redis and the database, which already hold the truth for every process and
  machine, so nothing has to be kept in step.
"""

from __future__ import annotations

import hmac
import os
import time
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from redis.exceptions import RedisError
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiToken, TrainingRun

bp = Blueprint("metrics", __name__)
_KEY = "matchloop.metrics"
# Training runs take seconds to hours.
RUN_BUCKETS = (10, 30, 60, 120, 300, 600, 1800, 3600, 7200)
MAX_TOKEN_LENGTH = 200


@dataclass
class RequestMetrics:
    """The per-request instruments of one app."""

    registry: CollectorRegistry
    predictions: Counter
    fallbacks: Counter
    latency: Histogram


def instruments(app: Flask) -> RequestMetrics:
    """Return the app's instruments, created on first use (never at import)."""
    found = app.extensions.get(_KEY)
    if found is None:
        registry = CollectorRegistry()
        found = RequestMetrics(
            registry=registry,
            predictions=Counter(
                "matchloop_predictions",
                "Predictions served, by model type and version (fallback: none).",
                ["model_type", "version"],
                registry=registry,
            ),
            fallbacks=Counter(
                "matchloop_prediction_fallbacks",
                "Predictions the rule-based fallback answered, by model type.",
                ["model_type"],
                registry=registry,
            ),
            latency=Histogram(
                "matchloop_prediction_latency_seconds",
                "Time of requests that served predictions, by model type and version.",
                ["model_type", "version"],
                registry=registry,
            ),
        )
        app.extensions[_KEY] = found
    return found


def note_prediction(model_type: str, version: int | None) -> None:
    """Count one served prediction (``version`` None: the fallback answered)."""
    app = current_app._get_current_object()
    if not app.config["METRICS_ENABLED"]:
        return
    metrics = instruments(app)
    label = "fallback" if version is None else f"v{version}"
    metrics.predictions.labels(model_type, label).inc()
    if version is None:
        metrics.fallbacks.labels(model_type).inc()
    served = g.setdefault("metrics_served", set())
    served.add((model_type, label))


@bp.before_app_request
def start_clock() -> None:
    """Note when the request started, for the latency of predictions it serves."""
    g.metrics_started = time.perf_counter()


@bp.after_app_request
def observe_latency(response: Response) -> Response:
    """Observe the request's time once per model type and version it served."""
    served = g.pop("metrics_served", None)
    started = g.get("metrics_started")
    if served and started is not None:
        latency = instruments(current_app._get_current_object()).latency
        elapsed = time.perf_counter() - started
        for model_type, label in served:
            latency.labels(model_type, label).observe(elapsed)
    return response


class SharedStateCollector:
    """Queue depth from Redis and run durations from the database, read per scrape."""

    def collect(self):
        """Yield the queue depth and the finished training runs' durations."""
        from webapp.operations import queue

        depth = GaugeMetricFamily(
            "matchloop_queue_depth", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        up = GaugeMetricFamily(
            "matchloop_queue_up", "1 when the job queue (Redis) answers, else 0."
        )
        try:
            for name, count in queue.queue_depth().items():
                depth.add_metric([name], count)
            up.add_metric([], 1)
        except (RedisError, OSError):
            up.add_metric([], 0)
        yield depth
        yield up
        yield run_durations()


def run_durations() -> HistogramMetricFamily:
    """Return the histogram of finished training runs' durations by model type."""
    rows = db.session.execute(
        select(
            TrainingRun.model_type, TrainingRun.started_at, TrainingRun.finished_at
        ).where(
            TrainingRun.started_at.is_not(None), TrainingRun.finished_at.is_not(None)
        )
    ).all()
    durations: dict[str, list[float]] = {}
    for model_type, started, finished in rows:
        seconds = max((finished - started).total_seconds(), 0.0)
        durations.setdefault(model_type, []).append(seconds)
    family = HistogramMetricFamily(
        "matchloop_training_run_duration_seconds",
        "Durations of finished (succeeded or failed) training runs, by model type.",
        labels=["model_type"],
    )
    for model_type, values in sorted(durations.items()):
        buckets = [
            (str(float(bound)), sum(1 for v in values if v <= bound))
            for bound in RUN_BUCKETS
        ]
        buckets.append(("+Inf", len(values)))
        family.add_metric([model_type], buckets, sum(values))
    return family


def exposition_registry(app: Flask) -> CollectorRegistry:
    """Return the registry a scrape renders: every process's values plus shared state."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessCollector(instruments(app).registry))
    registry.register(SharedStateCollector())
    return registry


class _ProcessCollector:
    """Re-yields one registry's metrics into the scrape's registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self):
        """Yield the source registry's metrics."""
        yield from self.source.collect()


def access() -> int:
    """Return 200 for METRICS_TOKEN or an admin's API token, 403 for another
    user's token, 401 for none or an unknown one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return 401
    expected = current_app.config.get("METRICS_TOKEN")
    if expected and hmac.compare_digest(token.encode(), str(expected).encode()):
        return 200
    row = ApiToken.find_active(token)
    if row is None:
        return 401
    return 200 if row.user.is_admin else 403


@bp.route("/metrics")
def metrics():
    """Serve the Prometheus metrics: 404 when METRICS_ENABLED is off, 401 without a token."""
    app = current_app._get_current_object()
    if not app.config["METRICS_ENABLED"]:
        abort(404)
    status = access()
    if status == 403:
        return Response("Only admins' API tokens may read the metrics.\n", 403)
    if status != 200:
        return Response(
            "Send 'Authorization: Bearer <METRICS_TOKEN or an admin API token>'.\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = generate_latest(exposition_registry(app))
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST})

"""The prediction log: one row per served prediction, of any model type.

Every serving path writes through here, so each row says the same things the
same way: which type and version answered (none: the fallback), for whom, the
score and, as the type's outputs fill them, confidence, the interval with its
nominal level, the level, and for series types the forecast points. Monitoring
joins these rows with outcomes rated later.

Each row gets a unique ``prediction_id`` and its ``created_at`` when it is
served, and ``write`` stamps a ``request_id`` shared by every row one HTTP
request logs (a batch of pairs, a ranked list), or by one ``write`` call
outside a request (a CLI or a job), so readers can count requests, not rows. With PREDICTION_LOG_FLUSH = "async" (the default) ``write`` only queues
the rows and ``log_buffer`` inserts them in bulk off the request path; "sync"
inserts and commits them in the request (tests that read the log at once).

A shadow version's scores live in the same table with source ``SHADOW_SOURCE``
(and ``shadow_of_id``, the served row they scored again); they were never
shown, so every reader of served predictions filters with ``served()``.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import ColumnElement

from webapp.core.timeutil import utcnow
from webapp.experiments.units import insert_ignoring_conflict
from webapp.extensions import db
from webapp.models import PredictionLog
from webapp.operations import metrics
from webapp.serving.log_buffer import LogBuffer
from webapp.serving.routing import ServedVersion

_KEY = "matchloop.prediction_log"
_REQUEST_KEY = "matchloop.request_id"

# The source of a shadow version's score: logged, never shown, never evidence.
SHADOW_SOURCE = "shadow"


def served() -> ColumnElement[bool]:
    """Return the clause that keeps served predictions (leaves shadow scores out)."""
    return PredictionLog.source != SHADOW_SOURCE


def entry(
    model_type: str,
    version: ServedVersion | None,
    subject: str,
    source: str,
    *,
    score: float,
    variant: str | None = None,
    rollout_id: int | None = None,
    influencer_id: int | None = None,
    company_id: int | None = None,
    confidence: float | None = None,
    interval: tuple[float, float, float] | None = None,
    level: str | None = None,
    forecast: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return one log row's values, stamped with a new prediction id and the time now.

    :param rollout_id: the staged rollout that routed it (``variant``: its arm).
    :param interval: ``(low, high, nominal level)`` when the prediction has one.
    :param forecast: ``[{"period_start", "value", "lower", "upper"}, ...]``.
    """
    low, high, nominal = interval if interval is not None else (None, None, None)
    # A row is built only for a prediction being served: count it (in memory).
    metrics.note_prediction(model_type, version.version if version else None)
    return {
        "prediction_id": uuid.uuid4().hex,
        "created_at": utcnow(),
        "model_type": model_type,
        "version_id": version.id if version else None,
        "fallback": version is None,
        "subject": subject[:100],
        "influencer_id": influencer_id,
        "company_id": company_id,
        "score": float(score),
        "confidence": confidence,
        "interval_low": low,
        "interval_high": high,
        "interval_level": nominal,
        "level": level[:16] if level is not None else None,
        "forecast": forecast,
        "variant": variant,
        "rollout_id": rollout_id,
        "source": source,
    }


def request_id() -> str:
    """Return this HTTP request's id (the same for all its rows), or a new one outside."""
    if not has_request_context():
        return uuid.uuid4().hex
    # The WSGI environ lives exactly as long as the request (``g`` may outlive it).
    return request.environ.setdefault(_REQUEST_KEY, uuid.uuid4().hex)


def write(entries: list[dict[str, Any]]) -> None:
    """Log ``entries`` (from ``entry``): queue them (async) or insert and commit (sync).

    Every entry gets this request's ``request_id``.
    """
    if not entries:
        return
    stamp = request_id()
    for logged in entries:
        logged["request_id"] = stamp
    if current_app.config["PREDICTION_LOG_FLUSH"] == "async":
        buffer().add(entries)
        return
    db.session.execute(insert_ignoring_conflict(PredictionLog), entries)
    db.session.commit()


def buffer(app: Flask | None = None) -> LogBuffer:
    """Return the app's prediction-log buffer in this process, creating it on first use."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(_KEY)
    if found is None:
        found = app.extensions.setdefault(
            _KEY,
            LogBuffer(
                app,
                float(app.config["PREDICTION_LOG_FLUSH_SECONDS"]),
                int(app.config["PREDICTION_LOG_FLUSH_ROWS"]),
            ),
        )
    return found


def flush(app: Flask | None = None) -> int:
    """Write the rows this process still holds now; return how many were written."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(_KEY)
    return found.flush() if found is not None else 0

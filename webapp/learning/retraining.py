"""When to retrain: after every N new outcomes, never twice at once for one type."""

from __future__ import annotations

import logging

from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy import func, or_, select

from webapp.extensions import db
from webapp.learning import training_runs
from webapp.models import Outcome, TrainingRun
from webapp.registry.plugins import installed_types

log = logging.getLogger(__name__)
# Targets whose labels come from outcome ratings (new ratings make them stale).
OUTCOME_TARGETS = {"success", "roi", "risk"}


def new_outcomes_since_last_run(model_type: str) -> int:
    """Return how many outcomes arrived after the latest run of ``model_type`` was created.

    Runs that never started (the job could not be enqueued, or was lost) do not
    count: their outcomes are still waiting for a model.
    """
    watermark = db.session.scalar(
        select(func.max(TrainingRun.outcome_watermark)).where(
            TrainingRun.model_type == model_type,
            or_(TrainingRun.status != "failed", TrainingRun.started_at.is_not(None)),
        )
    )
    return db.session.scalar(
        select(func.count()).select_from(Outcome).where(Outcome.id > (watermark or 0))
    )


def due_types(app: Flask) -> list[str]:
    """Return the model types that have enough new outcomes and no run in progress."""
    threshold = int(app.config["RETRAIN_EVERY_N_OUTCOMES"])
    due = []
    for model_type in installed_types(app):
        if model_type.target not in OUTCOME_TARGETS:
            continue
        if training_runs.active_run(model_type.name) is not None:
            continue
        if new_outcomes_since_last_run(model_type.name) >= threshold:
            due.append(model_type.name)
    return due


def retrain_if_due(app: Flask) -> list[TrainingRun]:
    """Start an automatic run for every model type that is due; return the runs."""
    started = []
    for name in due_types(app):
        try:
            started.append(training_runs.start_training(name, trigger="auto"))
        except training_runs.TrainingBusy:
            continue  # another process started it a moment ago: that is the goal
        log.info("automatic retraining of %s started", name)
    return started


def retrain_after_new_outcomes(app: Flask) -> None:
    """Check for due retraining after outcomes were saved; a queue outage only logs.

    The outcomes are already committed and the scheduler repeats this check every
    SCHEDULER_INTERVAL seconds, so nothing is lost when Redis is briefly away.
    """
    try:
        retrain_if_due(app)
    except RedisError as error:
        log.warning("retraining check skipped, the queue is unreachable: %s", error)

"""When to retrain: as each type's RetrainPolicy says, never twice at once for one type.

A policy ``on="outcomes"`` retrains after N new outcomes (ratings), ``on="activity"``
after N new niche-activity periods (an import), ``on="manual"`` never on its own.
Each run records the highest outcome and activity id it saw; what arrived after
the latest run that started counts toward the next.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy import func, or_, select

from webapp.extensions import db
from webapp.learning import training_runs
from webapp.models import NicheActivity, Outcome, TrainingRun
from webapp.registry.contract import ModelType
from webapp.registry.plugins import installed_types

log = logging.getLogger(__name__)
# What each policy counts: (the run's watermark column, the table's id column).
WATERMARKS: dict[str, tuple[Any, Any]] = {
    "outcomes": (TrainingRun.outcome_watermark, Outcome.id),
    "activity": (TrainingRun.activity_watermark, NicheActivity.id),
}
# The setting giving a policy's threshold when the policy does not say (every=None).
THRESHOLD_SETTINGS = {
    "outcomes": "RETRAIN_EVERY_N_OUTCOMES",
    "activity": "RETRAIN_EVERY_N_ACTIVITY",
}


def new_items_since_last_run(model_type: str, on: str) -> int:
    """Return how many outcomes or activity rows arrived after ``model_type``'s latest run.

    Runs that never started (the job could not be enqueued, or was lost) do not
    count: what they would have learned from is still waiting for a model.
    """
    watermark_column, id_column = WATERMARKS[on]
    watermark = db.session.scalar(
        select(func.max(watermark_column)).where(
            TrainingRun.model_type == model_type,
            or_(TrainingRun.status != "failed", TrainingRun.started_at.is_not(None)),
        )
    )
    return db.session.scalar(select(func.count()).where(id_column > (watermark or 0)))


def new_outcomes_since_last_run(model_type: str) -> int:
    """Return how many outcomes arrived after the latest run of ``model_type`` was created."""
    return new_items_since_last_run(model_type, "outcomes")


def threshold(model_type: ModelType, app: Flask) -> int:
    """Return how many new items make ``model_type`` due."""
    if model_type.retraining.every is not None:
        return int(model_type.retraining.every)
    return int(app.config[THRESHOLD_SETTINGS[model_type.retraining.on]])


def due_types(app: Flask, on: str | None = None) -> list[str]:
    """Return the types with enough new items and no run in progress.

    :param on: only types whose policy retrains on this ("outcomes", "activity").
    """
    due = []
    for model_type in installed_types(app):
        policy = model_type.retraining.on
        if policy not in WATERMARKS or (on is not None and policy != on):
            continue
        if training_runs.active_run(model_type.name) is not None:
            continue
        if new_items_since_last_run(model_type.name, policy) >= threshold(
            model_type, app
        ):
            due.append(model_type.name)
    return due


def retrain_if_due(app: Flask, on: str | None = None) -> list[TrainingRun]:
    """Start an automatic run for every model type that is due; return the runs."""
    started = []
    for name in due_types(app, on):
        try:
            started.append(training_runs.start_training(name, trigger="auto"))
        except training_runs.TrainingBusy:
            continue  # another process started it a moment ago: that is the goal
        log.info("automatic retraining of %s started", name)
    return started


def _retrain_after(app: Flask, on: str) -> None:
    """Check the types retraining ``on`` this; a queue outage only logs.

    The data are already committed and the scheduler repeats this check every
    SCHEDULER_INTERVAL seconds, so nothing is lost when Redis is briefly away.
    """
    try:
        retrain_if_due(app, on)
    except RedisError as error:
        log.warning("retraining check skipped, the queue is unreachable: %s", error)


def retrain_after_new_outcomes(app: Flask) -> None:
    """Check the outcome-trained types after outcomes were saved (ratings, import)."""
    _retrain_after(app, "outcomes")


def retrain_after_new_activity(app: Flask) -> None:
    """Check the activity-trained types (trend) after niche activity was imported."""
    _retrain_after(app, "activity")

"""Starting training runs: commit the run row, then enqueue the job that reads it."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import NicheActivity, Outcome, TrainingRun, User
from webapp.models.training import ACTIVE_RUN_STATUSES
from webapp.registry.plugins import installed_types
from webapp.runtime import jobs


class TrainingBusy(RuntimeError):
    """A run of this model type is already queued or running."""

    def __init__(self, run: TrainingRun) -> None:
        super().__init__(
            f"{run.model_type} is already training (run {run.id}, {run.status})."
        )
        self.run = run


def active_run(model_type: str) -> TrainingRun | None:
    """Return the queued or running run of ``model_type``, if any."""
    return db.session.scalar(
        select(TrainingRun).where(
            TrainingRun.model_type == model_type,
            TrainingRun.status.in_(ACTIVE_RUN_STATUSES),
        )
    )


def outcome_watermark() -> int:
    """Return the highest outcome id (0 when there are none)."""
    return db.session.scalar(select(func.coalesce(func.max(Outcome.id), 0)))


def activity_watermark() -> int:
    """Return the highest niche-activity id (0 when there is none)."""
    return db.session.scalar(select(func.coalesce(func.max(NicheActivity.id), 0)))


def start_training(
    model_type: str,
    params: dict[str, Any] | None = None,
    trigger: str = "manual",
    user: User | None = None,
) -> TrainingRun:
    """Create a queued run of ``model_type`` and enqueue ``train_model(run_id)``.

    Raises KeyError for an unknown type and TrainingBusy when one is already
    queued or running (the database enforces that too).
    """
    installed_types(current_app).get(model_type)
    busy = active_run(model_type)
    if busy is not None:
        raise TrainingBusy(busy)
    run = TrainingRun(
        model_type=model_type,
        params=params or {},
        trigger=trigger,
        requested_by=user,
        outcome_watermark=outcome_watermark(),
        activity_watermark=activity_watermark(),
    )
    db.session.add(run)
    try:
        db.session.flush()
        # The job id is known before the job exists, so the worker can check it owns the run.
        run.job_id = f"train-run-{run.id}"
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise TrainingBusy(active_run(model_type)) from None
    try:
        jobs.enqueue(
            "workers.training.train_model",
            run.id,
            job_id=run.job_id,
            queue=jobs.TRAINING_QUEUE,
            timeout=current_app.config["TRAINING_JOB_TIMEOUT"],
        )
    except Exception as error:
        fail_run(run, f"could not enqueue the training job: {error}")
        raise
    return run


def fail_run(run: TrainingRun, reason: str) -> bool:
    """Mark ``run`` failed with ``reason`` unless it already finished; commit.

    One conditional UPDATE, so a run that succeeded meanwhile stays succeeded.
    Returns whether this call failed it.
    """
    result = db.session.execute(
        update(TrainingRun)
        .where(
            TrainingRun.id == run.id,
            TrainingRun.status.in_(ACTIVE_RUN_STATUSES),
        )
        .values(status="failed", error=reason, stage="failed", finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def status(run: TrainingRun) -> dict[str, Any]:
    """Return the JSON description of a run (API and live progress)."""
    return {
        "id": run.id,
        "type": run.model_type,
        "status": run.status,
        "progress": round(run.progress, 4),
        "stage": run.stage,
        "error": run.error,
        "trigger": run.trigger,
        "params": run.params,
        "version": run.version.version if run.version else None,
        "version_id": run.version_id,
        "created_at": run.created_at.isoformat() + "Z",
        "started_at": run.started_at.isoformat() + "Z" if run.started_at else None,
        "finished_at": run.finished_at.isoformat() + "Z" if run.finished_at else None,
        "duration_seconds": run.duration_seconds,
    }

"""Periodic jobs enqueued by the RQ cron scheduler (``flask --app wsgi scheduler``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning import retraining, training_runs
from webapp.models import PredictionLog, Rollout, TrainingRun
from webapp.models.training import ACTIVE_RUN_STATUSES
from webapp.monitoring import report
from webapp.registry.plugins import installed_types
from webapp.rollouts import evaluation
from webapp.runtime import jobs
from webapp.shadow import scoring

log = logging.getLogger(__name__)
# A queued run whose job Redis no longer knows is given this long before it is failed.
ORPHAN_GRACE = timedelta(minutes=2)


def check_retraining() -> int:
    """Start retraining for every model type with enough new outcomes; return how many."""
    return len(retraining.retrain_if_due(current_app._get_current_object()))


def reap_stale_runs() -> int:
    """Fail runs whose job was lost (worker died, Redis flushed); return how many.

    RQ is first told to fail the jobs whose worker stopped sending heartbeats
    (about 90 s after a worker is killed), so their runs are failed here too.
    """
    jobs.fail_abandoned_jobs()
    reaped = 0
    runs = db.session.scalars(
        select(TrainingRun).where(TrainingRun.status.in_(ACTIVE_RUN_STATUSES))
    ).all()
    for run in runs:
        job = jobs.fetch_job(run.job_id) if run.job_id else None
        status = job.get_status(refresh=True) if job is not None else None
        if status in ("failed", "stopped", "canceled"):
            reason = f"the worker reported the job {status}"
        elif job is None and utcnow() - run.created_at > ORPHAN_GRACE:
            reason = "the queue lost the job (worker or Redis restarted)"
        else:
            continue
        if training_runs.fail_run(run, reason):
            log.warning("training run %s failed: %s", run.id, reason)
            reaped += 1
    return reaped


def reap_runs_of_worker(worker_name: str, how: str) -> int:
    """Fail the runs a worker was training when it ended (``how``); return how many.

    ``flask up`` calls this as soon as it sees its worker die, so the run is
    failed at once instead of when the job's heartbeat runs out.
    """
    job_ids = jobs.started_jobs_of_worker(worker_name)
    if not job_ids:
        return 0
    runs = db.session.scalars(
        select(TrainingRun).where(
            TrainingRun.job_id.in_(job_ids),
            TrainingRun.status.in_(ACTIVE_RUN_STATUSES),
        )
    ).all()
    reaped = 0
    for run in runs:
        reason = f"the worker training it ended ({how})"
        if training_runs.fail_run(run, reason):
            log.warning("training run %s failed: %s", run.id, reason)
            reaped += 1
    return reaped


def purge_prediction_logs() -> int:
    """Delete prediction log rows older than PREDICTION_LOG_RETENTION_DAYS; return how many.

    Oldest first, at most PREDICTION_LOG_PURGE_BATCH rows per transaction (ids
    found through the ``created_at`` index), so no statement locks a large part
    of the log, and the web processes' bulk inserts go on between batches.
    """
    cutoff = utcnow() - timedelta(
        days=int(current_app.config["PREDICTION_LOG_RETENTION_DAYS"])
    )
    batch = int(current_app.config["PREDICTION_LOG_PURGE_BATCH"])
    purged = 0
    while True:
        ids = db.session.scalars(
            select(PredictionLog.id)
            .where(PredictionLog.created_at < cutoff)
            .order_by(PredictionLog.created_at)
            .limit(batch)
        ).all()
        if ids:
            db.session.execute(
                delete(PredictionLog).where(PredictionLog.id.in_(ids)),
                execution_options={"synchronize_session": False},
            )
        db.session.commit()
        purged += len(ids)
        if len(ids) < batch:
            return purged


def evaluate_rollouts() -> int:
    """Take one tick of every running rollout; return how many of them moved."""
    ids = db.session.scalars(
        select(Rollout.id).where(Rollout.status == "running").order_by(Rollout.id)
    ).all()
    changed = 0
    for rollout_id in ids:
        rollout = db.session.get(Rollout, rollout_id)
        decisions = evaluation.evaluate_rollout(rollout)
        if evaluation.changes_routing(decisions):
            changed += 1
            log.info("rollout %s: %s", rollout_id, decisions[-1].reason)
    # Each move announced itself (``routing_changed``) when it committed.
    return changed


def score_shadows() -> int:
    """Take one shadow pass of every open shadow period; return the rows scored.

    A failed pass is marked on its period and the others still run; then the
    job raises, naming every failure, so RQ records the job as failed.
    """
    scored, failures = 0, []
    for period_id in scoring.open_period_ids():
        try:
            scored += scoring.run_pass(period_id)
        except scoring.ShadowPassFailed as error:
            log.error("shadow period %s: pass failed: %s", period_id, error)
            failures.append(f"period {period_id}: {error}")
    if failures:
        raise scoring.ShadowPassFailed("; ".join(failures))
    return scored


def refresh_monitoring() -> int:
    """Compute every installed type's monitoring figures due again; return how many.

    Pages then read them from the shared snapshot (``webapp.monitoring.snapshots``)
    instead of computing them on a request.
    """
    names = sorted(installed_types(current_app).names())
    return sum(report.refresh(name) for name in names)


def periodic_jobs(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the periodic jobs and their intervals for ``make_scheduler``."""
    every = int(config["SCHEDULER_INTERVAL"])
    return [
        {"func": check_retraining, "interval": every},
        {"func": reap_stale_runs, "interval": every},
        {"func": purge_prediction_logs, "interval": 3600},
        {
            "func": evaluate_rollouts,
            "interval": int(config["ROLLOUT_EVALUATION_INTERVAL"]),
        },
        {"func": score_shadows, "interval": int(config["SHADOW_INTERVAL"])},
        {
            "func": refresh_monitoring,
            # Renewed at half of the shorter lifetime (snapshots.lifetimes), so a
            # page finds a usable snapshot between two passes.
            "interval": max(
                1,
                int(
                    min(
                        config["MONITORING_CACHE_SECONDS"],
                        config["MONITORING_MAX_LAG_SECONDS"],
                    )
                )
                // 2,
            ),
        },
    ]

"""train_model(run_id): build training data, fit the plugin, store and register the version.

A job owns its run while the run is ``running`` under the job's id. Every write
(progress, success, failure) is a conditional UPDATE on that ownership, so a
job whose run was failed meanwhile (its worker was declared dead, the reaper
gave up on it) writes nothing: it cannot flip a failed run to succeeded nor
register a version.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import update
from threadpoolctl import threadpool_limits

from webapp.core import formatting
from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning import ranking_quality, training_data
from webapp.models import TrainingRun
from webapp.registry import artifacts, versions
from webapp.registry.artifact_store import artifact_store
from webapp.registry.contract import SeriesData, TrainingFailed
from webapp.registry.plugins import installed_types
from webapp.runtime import jobs

log = logging.getLogger(__name__)
# Write progress to the database at most every this much of the way (and on stage changes).
PROGRESS_STEP = 0.02


class RunNotOwned(RuntimeError):
    """The run is no longer running under this job (failed meanwhile): stop, write nothing."""


def claim(run: TrainingRun, owner: str | None, **values) -> bool:
    """Update the run only while ``owner`` owns it (``running`` under that job id)."""
    result = db.session.execute(
        update(TrainingRun)
        .where(
            TrainingRun.id == run.id,
            TrainingRun.status == "running",
            TrainingRun.job_id.is_(None)
            if owner is None
            else TrainingRun.job_id == owner,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


class ProgressReporter:
    """Writes a run's progress and stage to its row so pages can show it live."""

    def __init__(self, run: TrainingRun, owner: str | None) -> None:
        self.run = run
        self.owner = owner
        self.progress = 0.0
        self.stage = ""

    def __call__(self, fraction: float, stage: str) -> None:
        """Record that the run is ``fraction`` done and doing ``stage``.

        Raises RunNotOwned when the run was taken from this job, which stops fit().
        """
        fraction = min(max(float(fraction), 0.0), 1.0)
        if fraction - self.progress < PROGRESS_STEP and stage == self.stage:
            return
        self.progress = max(self.progress, fraction)
        self.stage = stage[:120]
        owned = claim(self.run, self.owner, progress=self.progress, stage=self.stage)
        db.session.commit()
        if not owned:
            raise RunNotOwned(f"training run {self.run.id} is no longer this job's")


def start(run: TrainingRun, owner: str | None) -> bool:
    """Move the queued run to running under ``owner``; False when it is not queued."""
    condition = (
        TrainingRun.job_id.is_(None) if owner is None else TrainingRun.job_id == owner
    )
    result = db.session.execute(
        update(TrainingRun)
        .where(TrainingRun.id == run.id, TrainingRun.status == "queued", condition)
        .values(status="running", started_at=utcnow(), stage="starting")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def train_model(run_id: int) -> int | None:
    """Train the run's model type; return the new version id.

    On any failure the run is marked failed with the reason (if this job still
    owns it) and the exception is re-raised, so RQ records the job as failed too.
    """
    run = db.session.get(TrainingRun, run_id)
    if run is None:
        raise LookupError(f"training run {run_id} does not exist")
    owner = jobs.current_job_id() or run.job_id
    if not start(run, owner):
        db.session.refresh(run)
        log.warning("training run %s is %s, not queued; skipping", run_id, run.status)
        return run.version_id
    try:
        return _train(run, owner)
    except RunNotOwned:
        db.session.rollback()
        log.warning(
            "training run %s was taken from job %s; nothing written", run_id, owner
        )
        raise
    except Exception as error:
        db.session.rollback()
        reason = (
            str(error)
            if isinstance(error, TrainingFailed)
            else f"{type(error).__name__}: {error}"
        )
        failed = claim(
            run,
            owner,
            status="failed",
            error=reason,
            stage="failed",
            finished_at=utcnow(),
        )
        db.session.commit()
        log.error(
            "training run %s failed: %s%s",
            run_id,
            reason,
            "" if failed else " (no longer ours)",
        )
        raise


def _train(run: TrainingRun, owner: str | None) -> int:
    """Do the work of a running run, then register the version and mark it succeeded."""
    config = current_app.config
    model_type = installed_types(current_app).get(run.model_type)
    progress = ProgressReporter(run, owner)
    progress(0.01, "loading training data")
    data = training_data.build(model_type.target, config)
    if isinstance(data, SeriesData):
        # Series types judge length per series (too short: naive with a note).
        unit = "activity period"
    else:
        unit = "collaboration"
        minimum = int(config["MIN_TRAINING_SAMPLES"])
        if data.n_samples < minimum:
            raise TrainingFailed(
                f"Only {formatting.plural(data.n_samples, 'labelled collaboration')}; "
                f"at least {formatting.number(minimum)} are needed "
                "(MIN_TRAINING_SAMPLES)."
            )
    progress(0.04, f"training on {formatting.plural(data.n_samples, unit)}")
    with threadpool_limits(limits=int(config["TRAINING_THREADS"])):
        result = model_type.fit(data, dict(run.params), progress)
        if result.held_out is not None:
            progress(0.95, "measuring rankings on the final window")
            ranking = ranking_quality.measure_trained(model_type, data, result, config)
            if ranking is not None:
                result.metrics["ranking"] = ranking
    progress(0.97, "storing the artifact")
    return _register(run, owner, result, data)


def _register(run: TrainingRun, owner: str | None, result, data) -> int:
    """Store the artifact and register the version in one transaction with the success.

    The conditional UPDATE comes first: it locks the run row (PostgreSQL) or takes
    the write lock (SQLite), so nobody can fail the run between the ownership
    check and the commit; a run no longer ours gets no version and no file.
    """
    finished = utcnow()
    if not claim(run, owner, status="succeeded", progress=1.0, finished_at=finished):
        db.session.rollback()
        raise RunNotOwned(f"training run {run.id} is no longer this job's")
    store = artifact_store()
    number = versions.next_version_number(run.model_type)
    stored = artifacts.save(store, run.model_type, number, result.artifact)
    try:
        version = versions.register_version(run, number, result, stored, data)
        db.session.execute(
            update(TrainingRun)
            .where(TrainingRun.id == run.id)
            .values(version_id=version.id, stage=f"created {version.label}")
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        store.discard(stored.path)
        raise
    log.info("training run %s created %s", run.id, version.label)
    return version.id

"""train_model(run_id): build training data, fit the plugin, store and register the version."""

from __future__ import annotations

import logging

from flask import current_app
from threadpoolctl import threadpool_limits

from webapp.core import formatting
from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning import training_data
from webapp.models import TrainingRun
from webapp.registry import artifacts, versions
from webapp.registry.contract import TrainingFailed
from webapp.registry.plugins import installed_types

log = logging.getLogger(__name__)
# Write progress to the database at most every this much of the way (and on stage changes).
PROGRESS_STEP = 0.02


class ProgressReporter:
    """Writes a run's progress and stage to its row so pages can show it live."""

    def __init__(self, run: TrainingRun) -> None:
        self.run = run

    def __call__(self, fraction: float, stage: str) -> None:
        """Record that the run is ``fraction`` done and doing ``stage``."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        if fraction - self.run.progress < PROGRESS_STEP and stage == self.run.stage:
            return
        self.run.progress = max(self.run.progress, fraction)
        self.run.stage = stage[:120]
        db.session.commit()


def train_model(run_id: int) -> int | None:
    """Train the run's model type; return the new version id.

    On any failure the run is marked failed with the reason and the exception is
    re-raised, so RQ records the job as failed too.
    """
    run = db.session.get(TrainingRun, run_id)
    if run is None:
        raise LookupError(f"training run {run_id} does not exist")
    if run.status != "queued":
        log.warning("training run %s is %s, not queued; skipping", run_id, run.status)
        return run.version_id
    run.status, run.started_at, run.stage = "running", utcnow(), "starting"
    db.session.commit()
    try:
        return _train(run)
    except Exception as error:
        db.session.rollback()
        reason = (
            str(error)
            if isinstance(error, TrainingFailed)
            else f"{type(error).__name__}: {error}"
        )
        run = db.session.get(TrainingRun, run_id)
        run.status, run.error, run.stage, run.finished_at = (
            "failed",
            reason,
            "failed",
            utcnow(),
        )
        db.session.commit()
        log.error("training run %s failed: %s", run_id, reason)
        raise


def _train(run: TrainingRun) -> int:
    """Do the work of a running run and mark it succeeded."""
    config = current_app.config
    model_type = installed_types(current_app).get(run.model_type)
    progress = ProgressReporter(run)
    progress(0.01, "loading training data")
    data = training_data.build(model_type.target, config)
    minimum = int(config["MIN_TRAINING_SAMPLES"])
    if data.n_samples < minimum:
        raise TrainingFailed(
            f"Only {formatting.plural(data.n_samples, 'labelled collaboration')}; "
            f"at least {formatting.number(minimum)} are needed "
            "(MIN_TRAINING_SAMPLES)."
        )
    progress(0.04, f"training on {formatting.plural(data.n_samples, 'collaboration')}")
    with threadpool_limits(limits=int(config["TRAINING_THREADS"])):
        result = model_type.fit(data, dict(run.params), progress)
    number = versions.next_version_number(run.model_type)
    progress(0.97, "storing the artifact")
    stored = artifacts.save(
        config["MODEL_DIR"], run.model_type, number, result.artifact
    )
    version = versions.register_version(run, number, result, stored, data)
    run.status, run.version, run.progress = "succeeded", version, 1.0
    run.stage, run.finished_at = f"created {version.label}", utcnow()
    db.session.commit()
    log.info("training run %s created %s", run.id, version.label)
    return version.id

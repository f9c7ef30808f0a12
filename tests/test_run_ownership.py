"""A training job writes only while it owns its run: a failed run never becomes succeeded."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_helpers import FAST_PARAMS, seed_small_world

from plugins.match_success.plugin import MatchSuccessModel
from webapp.extensions import db
from webapp.learning import training_runs
from webapp.models import ModelVersion, TrainingRun
from workers import training
from workers.training import RunNotOwned, train_model

REAPED = "the worker training it ended (signal 9 (SIGKILL))"


@pytest.fixture
def world(app):
    seed_small_world()


def queued_run(job_id: str | None = "train-run-x") -> TrainingRun:
    run = TrainingRun(model_type="match_success", params=FAST_PARAMS, job_id=job_id)
    db.session.add(run)
    db.session.commit()
    return run


def reap_during_fit(monkeypatch, then_report: bool) -> None:
    """Make fit() see its run failed by the reaper, as after a worker was declared dead."""
    original = MatchSuccessModel.fit

    def fit(self, data, params, progress):
        result = original(self, data, params, lambda fraction, stage: None)
        run = db.session.scalars(db.select(TrainingRun)).one()
        assert training_runs.fail_run(run, REAPED)
        if then_report:
            progress(0.9, "still going")
        return result

    monkeypatch.setattr(MatchSuccessModel, "fit", fit)


def assert_untouched_failure(app, run_id: int) -> None:
    db.session.expire_all()
    run = db.session.get(TrainingRun, run_id)
    assert (run.status, run.error, run.version_id) == ("failed", REAPED, None)
    assert db.session.scalars(db.select(ModelVersion)).all() == []
    assert not list(Path(app.config["MODEL_DIR"]).rglob("*.joblib"))


def test_a_progress_write_of_a_job_that_lost_its_run_stops_it(app, world, monkeypatch):
    run = queued_run()
    reap_during_fit(monkeypatch, then_report=True)
    with pytest.raises(RunNotOwned):
        train_model(run.id)
    assert_untouched_failure(app, run.id)
    assert db.session.get(TrainingRun, run.id).progress < 0.9  # the write was dropped


def test_a_run_failed_just_before_registration_gets_no_version(app, world, monkeypatch):
    run = queued_run()
    reap_during_fit(monkeypatch, then_report=False)
    # Even with progress writes not checking, the registering transaction does.
    monkeypatch.setattr(training.ProgressReporter, "__call__", lambda *args: None)
    with pytest.raises(RunNotOwned):
        train_model(run.id)
    assert_untouched_failure(app, run.id)


def test_a_run_is_started_once_and_only_by_its_own_job(app, world, monkeypatch):
    run = queued_run("train-run-7")
    monkeypatch.setattr(training.jobs, "current_job_id", lambda: "train-run-other")
    assert train_model(run.id) is None  # another job's run: not touched
    assert db.session.get(TrainingRun, run.id).status == "queued"
    monkeypatch.setattr(training.jobs, "current_job_id", lambda: "train-run-7")
    version_id = train_model(run.id)
    assert db.session.get(TrainingRun, run.id).status == "succeeded"
    assert train_model(run.id) == version_id  # a second delivery does nothing
    assert len(db.session.scalars(db.select(ModelVersion)).all()) == 1


def test_failing_a_run_never_overwrites_a_success(app, world):
    run = queued_run(None)
    train_model(run.id)
    assert training_runs.fail_run(run, "too late") is False
    db.session.expire_all()
    run = db.session.get(TrainingRun, run.id)
    assert (run.status, run.error) == ("succeeded", None)

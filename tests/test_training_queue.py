"""Training through a real Redis and a real RQ worker (``flask worker --burst``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer
from training_helpers import seed_small_world

from webapp.extensions import db
from webapp.learning import training_runs
from webapp.models import ModelVersion, TrainingRun
from webapp.registry import artifacts
from webapp.runtime import jobs
from workers import scheduled

pytestmark = pytest.mark.queue
PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def small_world(app):
    """A seeded marketplace big enough to train on (about 800 labelled rows)."""
    seed_small_world()


def worker_environment(app, **overrides) -> dict[str, str]:
    """Return the environment a worker subprocess needs to share the test's app state."""
    env = dict(os.environ)
    env.update(
        MATCHLOOP_ENV="testing",
        MATCHLOOP_SECRET_KEY="test-secret",
        MATCHLOOP_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MATCHLOOP_REDIS_URL=app.config["REDIS_URL"],
        MATCHLOOP_INSTANCE_PATH=app.instance_path,
        MATCHLOOP_MODEL_DIR=app.config["MODEL_DIR"],
        MATCHLOOP_MIN_TRAINING_SAMPLES=str(app.config["MIN_TRAINING_SAMPLES"]),
        MATCHLOOP_TRAINING_THREADS="1",
    )
    env.update({f"MATCHLOOP_{key}": str(value) for key, value in overrides.items()})
    return env


def run_worker(app, **overrides) -> subprocess.CompletedProcess:
    """Run ``flask --app wsgi worker --burst`` until the queues are empty."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        cwd=PROJECT,
        env=worker_environment(app, **overrides),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def fetch(job_id: str, redis) -> Job:
    return Job.fetch(job_id, connection=redis, serializer=JSONSerializer)


def test_training_run_end_to_end(app, redis, small_world):
    app.config["MIN_TRAINING_SAMPLES"] = 100
    run = training_runs.start_training(
        "match_success", {"algorithm": "auto", "n_splits": 3}
    )
    assert run.status == "queued" and run.job_id == f"train-run-{run.id}"
    assert fetch(run.job_id, redis).args == [run.id]  # ids only, never objects

    run_worker(app)

    db.session.expire_all()
    run = db.session.get(TrainingRun, run.id)
    assert run.status == "succeeded", run.error
    assert run.progress == 1.0
    version = run.version
    assert version.status == "active"  # the first version of a type goes live
    assert version.sample_count >= 100
    assert 0.5 < version.metrics["roc_auc"] <= 1.0
    assert len(version.metrics["folds"]) >= 2
    data = artifacts.read_verified(
        app.config["MODEL_DIR"], version.artifact_path, version.sha256
    )
    assert len(data) == version.size_bytes
    assert fetch(run.job_id, redis).get_status() == "finished"


def test_failing_run_is_marked_failed_with_reason(app, redis, small_world):
    app.config["MIN_TRAINING_SAMPLES"] = 100
    run = training_runs.start_training("match_success")

    run_worker(app, MIN_TRAINING_SAMPLES=10**6)

    db.session.expire_all()
    run = db.session.get(TrainingRun, run.id)
    assert run.status == "failed"
    assert "at least 1,000,000 are needed" in run.error
    assert db.session.scalar(db.select(db.func.count()).select_from(ModelVersion)) == 0
    assert fetch(run.job_id, redis).get_status() == "failed"


def test_one_class_only_fails_clearly(app, redis, world):
    from webapp.models import Outcome

    app.config["MIN_TRAINING_SAMPLES"] = 1
    db.session.delete(
        world["collaborations"]["cancelled"]
    )  # a cancellation is a failure
    for collaboration in world["collaborations"].values():
        if collaboration.status == "completed":
            db.session.add(
                Outcome(
                    collaboration=collaboration,
                    rater_side="company",
                    success_rating=5,
                    completion_status="completed",
                    would_collaborate_again=True,
                )
            )
    db.session.commit()
    run = training_runs.start_training("match_success")
    run_worker(app)
    db.session.expire_all()
    run = db.session.get(TrainingRun, run.id)
    assert run.status == "failed"
    assert "same outcome" in run.error


def test_second_run_while_one_is_queued_is_refused(app, redis, small_world):
    first = training_runs.start_training("match_success")
    with pytest.raises(training_runs.TrainingBusy) as raised:
        training_runs.start_training("match_success")
    assert raised.value.run.id == first.id
    assert len(jobs.get_queue(jobs.TRAINING_QUEUE).job_ids) == 1


def test_unknown_model_type_is_refused(app, redis):
    with pytest.raises(KeyError):
        training_runs.start_training("no_such_type")


def test_scheduler_job_runs_on_a_real_worker(app, redis, small_world):
    """The cron scheduler's JSON job reaches a worker and retrains (outcomes >= N)."""
    app.config["RETRAIN_EVERY_N_OUTCOMES"] = 50
    # The seeded niche activity would start a (slow) trend run too: not this test's.
    app.config["RETRAIN_EVERY_N_ACTIVITY"] = 10**9
    scheduler = jobs.make_scheduler(scheduled.periodic_jobs(app.config))
    enqueued = scheduler.enqueue_jobs()
    assert {job.func_name for job in enqueued} >= {"workers.scheduled.check_retraining"}

    run_worker(app, MIN_TRAINING_SAMPLES=100, RETRAIN_EVERY_N_ACTIVITY=10**9)

    db.session.expire_all()
    runs = db.session.scalars(db.select(TrainingRun)).all()
    by_type = {r.model_type: (r.trigger, r.status) for r in runs}
    assert len(by_type) == len(runs)  # one run per type
    # Every type retrained on outcomes does: match_success and roi.
    assert by_type["match_success"] == ("auto", "succeeded")
    assert by_type["roi"] == ("auto", "succeeded")


def test_reaper_fails_runs_whose_job_was_lost(app, redis, small_world):
    run = training_runs.start_training("match_success")
    redis.flushall()  # the queue forgets the job, as after a Redis restart
    run.created_at = run.created_at - scheduled.ORPHAN_GRACE * 2
    db.session.commit()

    assert scheduled.reap_stale_runs() == 1
    db.session.expire_all()
    run = db.session.get(TrainingRun, run.id)
    assert run.status == "failed" and "lost the job" in run.error
    # A failed-before-start run does not hold back automatic retraining.
    from webapp.learning import retraining

    assert retraining.new_outcomes_since_last_run("match_success") > 0


def test_train_command_waits_for_the_worker(app, redis, small_world, runner):
    app.config["MIN_TRAINING_SAMPLES"] = 100
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=PROJECT,
        env=worker_environment(app),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        result = runner.invoke(
            args=[
                "train",
                "match_success",
                "--wait",
                "--param",
                "n_splits=3",
                "--timeout",
                "300",
            ]
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    run = db.session.scalars(db.select(TrainingRun)).one()
    assert run.trigger == "cli" and run.params["n_splits"] == 3


def test_train_command_rejects_bad_params(app, redis, runner):
    result = runner.invoke(args=["train", "match_success", "--param", "n_splits=99"])
    assert result.exit_code != 0
    assert "n_splits" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(TrainingRun)) == 0

"""The periodic shadow job through the RQ cron scheduler, a real Redis and a real worker."""

from __future__ import annotations

import pytest
from rq.registry import FailedJobRegistry
from shadow_support import active_and_candidate, some_pairs
from sqlalchemy import func, select
from test_training_queue import run_worker

from webapp.extensions import db
from webapp.models import PredictionLog, ShadowPeriod
from webapp.runtime import jobs
from webapp.serving import predict_pairs
from webapp.shadow import store
from workers import scheduled

pytestmark = pytest.mark.queue


def shadow_count() -> int:
    return db.session.scalar(
        select(func.count()).where(PredictionLog.source == "shadow")
    )


def enqueue_shadow_job(app):
    """Let the cron scheduler enqueue the shadow job (its interval from the config)."""
    app.config["SHADOW_INTERVAL"] = 23
    entry = next(
        e
        for e in scheduled.periodic_jobs(app.config)
        if e["func"] is scheduled.score_shadows
    )
    assert entry["interval"] == 23
    enqueued = jobs.make_scheduler([entry]).enqueue_jobs()
    assert [job.func_name for job in enqueued] == ["workers.scheduled.score_shadows"]
    assert (
        not enqueued[0].args and not enqueued[0].kwargs
    )  # nothing but ids, none needed
    return enqueued[0]


def test_the_scheduler_enqueues_the_shadow_job_and_a_worker_scores_once(app, redis):
    active, candidate = active_and_candidate()
    period = store.start(candidate, None)
    predict_pairs(some_pairs(9))

    enqueue_shadow_job(app)
    run_worker(app)
    db.session.expire_all()
    assert shadow_count() == 9
    assert db.session.get(ShadowPeriod, period.id).last_pass_status == "succeeded"

    enqueue_shadow_job(app)  # a second tick with nothing new served
    run_worker(app)
    db.session.expire_all()
    assert shadow_count() == 9
    assert db.session.get(ShadowPeriod, period.id).scored == 9


def test_a_corrupt_artifact_fails_the_job_and_the_pass_in_the_worker(app, redis):
    active, candidate = active_and_candidate()
    period = store.start(candidate, None)
    answers = predict_pairs(some_pairs(4))
    path = f"{app.config['MODEL_DIR']}/{candidate.artifact_path}"
    with open(path, "ab") as handle:
        handle.write(b"tampered")

    enqueue_shadow_job(app)
    run_worker(app)
    db.session.expire_all()
    failed = db.session.get(ShadowPeriod, period.id)
    assert failed.last_pass_status == "failed" and "sha256" in failed.last_pass_error
    assert shadow_count() == 0
    registry = FailedJobRegistry(queue=jobs.get_queue(), connection=redis)
    [job_id] = registry.get_job_ids()
    job = jobs.fetch_job(job_id)
    assert job.func_name == "workers.scheduled.score_shadows"
    assert "ShadowPassFailed" in job.latest_result().exc_string
    # Serving never read the shadow version: v1 still answers, no fallback.
    assert {a["model"]["version"] for a in answers} == {active.version}
    again = predict_pairs(some_pairs(2, offset=30))
    assert not any(a["fallback"] for a in again)

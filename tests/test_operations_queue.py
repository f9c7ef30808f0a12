"""The queue page on a real Redis with a real RQ worker: list, retry, cancel, refuse."""

from __future__ import annotations

import pytest
from rq.job import JobStatus
from test_training_queue import fetch, run_worker

from webapp import create_app
from webapp.extensions import db
from webapp.learning import training_runs
from webapp.models import AuditEntry, TrainingRun
from webapp.runtime import jobs

pytestmark = pytest.mark.queue


@pytest.fixture
def failed_and_queued(app, redis, world):
    """A training run that failed in the worker (no data) and one still queued."""
    failed = training_runs.start_training("match_success")
    run_worker(app)
    queued = training_runs.start_training("roi")
    db.session.expire_all()
    return db.session.get(TrainingRun, failed.id), db.session.get(
        TrainingRun, queued.id
    )


def test_queue_page_lists_queued_failed_jobs_and_workers(
    app, client, auth, redis, world, failed_and_queued
):
    failed, queued = failed_and_queued
    assert failed.status == "failed" and queued.status == "queued"
    worker = jobs.make_worker(name="ops-test-worker")
    worker.register_birth()
    try:
        auth.login("admin@example.com")
        page = client.get("/operations/queue").get_data(as_text=True)
    finally:
        worker.register_death()
    failed_row = page.split(f'id="job-{failed.job_id}"')[1].split("</tr>")[0]
    queued_row = page.split(f'id="job-{queued.job_id}"')[1].split("</tr>")[0]
    assert f"training run {failed.id}: match_success (failed)" in failed_row
    assert "Retry" in failed_row and "TrainingFailed" in failed_row
    assert f"training run {queued.id}: roi (queued)" in queued_row
    assert "Cancel" in queued_row
    assert page.index('id="jobs-queued"') < page.index(f"job-{queued.job_id}")
    assert page.index('id="jobs-failed"') < page.index(f"job-{failed.job_id}")
    assert "ops-test-worker" in page


def test_retry_starts_the_failed_run_again_and_is_audited(
    app, client, auth, redis, world, failed_and_queued
):
    failed, _ = failed_and_queued
    auth.login("admin@example.com")
    response = client.post(f"/operations/queue/{failed.job_id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    new = db.session.scalar(
        db.select(TrainingRun).where(TrainingRun.trigger == "retry")
    )
    assert new is not None and new.model_type == "match_success"
    assert new.status == "queued" and fetch(new.job_id, redis).args == [new.id]
    assert db.session.get(TrainingRun, failed.id).status == "failed"  # history kept
    assert failed.job_id not in jobs.get_queue(jobs.TRAINING_QUEUE).failed_job_registry
    page = client.get("/operations/queue").get_data(as_text=True)
    assert f"Started training run {new.id}" in page
    entry = db.session.scalar(
        db.select(AuditEntry).where(AuditEntry.action == "queue.retry")
    )
    assert entry.actor == "admin@example.com" and entry.details["new_run"] == new.id
    # A second retry of the same job: it is gone, said in a flash, no 500.
    again = client.post(
        f"/operations/queue/{failed.job_id}/retry", follow_redirects=True
    )
    assert again.status_code == 200 and "no longer exists" in again.get_data(
        as_text=True
    )


def test_cancel_a_queued_training_job_fails_its_run(
    app, client, auth, redis, world, failed_and_queued
):
    _, queued = failed_and_queued
    auth.login("admin@example.com")
    response = client.post(
        f"/operations/queue/{queued.job_id}/cancel", follow_redirects=True
    )
    assert f"Cancelled job {queued.job_id}" in response.get_data(as_text=True)
    assert fetch(queued.job_id, redis).get_status() == JobStatus.CANCELED
    db.session.expire_all()
    run = db.session.get(TrainingRun, queued.id)
    assert run.status == "failed" and "cancelled from the queue page" in run.error
    # The type can train again: the run no longer holds its slot.
    assert training_runs.active_run("roi") is None
    # Retrying a job that did not fail is refused with a message.
    other = training_runs.start_training("roi")
    refused = client.post(
        f"/operations/queue/{other.job_id}/retry", follow_redirects=True
    )
    assert "not failed" in refused.get_data(as_text=True)


def test_a_failed_plain_job_is_requeued_by_rq(app, client, auth, redis, world):
    job = jobs.get_queue().enqueue("workers.scheduled.no_such_job", job_id="plain-1")
    run_worker(app)
    assert fetch("plain-1", redis).get_status() == JobStatus.FAILED
    auth.login("admin@example.com")
    client.post("/operations/queue/plain-1/retry")
    assert fetch(job.id, redis).get_status() == JobStatus.QUEUED
    assert "plain-1" in jobs.get_queue().get_job_ids()


def test_queue_page_is_admin_only(app, client, auth, redis, world):
    assert client.get("/operations/queue").status_code == 302
    auth.login("brand@example.com")
    assert client.get("/operations/queue").status_code == 403
    assert client.post("/operations/queue/train-run-1/cancel").status_code == 403
    assert client.get("/operations/audit").status_code == 403


def test_queue_page_says_when_redis_is_down(app, world, tmp_path, auth):
    down = create_app(
        {
            key: app.config[key]
            for key in ("ENV", "TESTING", "SECRET_KEY", "DATABASE_URL", "MODEL_DIR")
        }
        | {"REDIS_URL": f"unix://{tmp_path}/nothing.sock", "WTF_CSRF_ENABLED": False}
    )
    client = down.test_client()
    with down.app_context():
        client.post(
            "/auth/login",
            data={"email": "admin@example.com", "password": "correct-horse-battery"},
        )
        page = client.get("/operations/queue")
        assert page.status_code == 200
        assert "does not answer" in page.get_data(as_text=True)
        posted = client.post("/operations/queue/x/retry", follow_redirects=True)
        assert posted.status_code == 200
        assert "does not answer" in posted.get_data(as_text=True)
        db.engine.dispose()

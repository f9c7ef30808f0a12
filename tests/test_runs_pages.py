"""The admin's training-run pages: list, train form, run detail and its status JSON."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from test_auth import csrf_token, sibling_app
from training_helpers import FAST_PARAMS, seed_small_world

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.model_types import TrainingFailed
from webapp.models import TrainingRun, User
from webapp.runtime import jobs

STATUS_KEYS = {
    "id",
    "type",
    "status",
    "progress",
    "stage",
    "error",
    "trigger",
    "params",
    "version",
    "version_id",
    "version_url",
    "created_at",
    "started_at",
    "finished_at",
    "duration_seconds",
}


@pytest.fixture
def admin(client, auth, make_user):
    make_user("admin@example.com", role="admin")
    auth.login("admin@example.com")
    return client


def add_run(model_type="match_success", status="succeeded", age_minutes=0, **values):
    """Store a run created ``age_minutes`` ago."""
    created = utcnow() - timedelta(minutes=age_minutes)
    run = TrainingRun(
        model_type=model_type, status=status, created_at=created, **values
    )
    db.session.add(run)
    db.session.commit()
    return run


# What the train form posts when nothing is changed.
DEFAULT_FORM = {
    "params-algorithm": "auto",
    "params-n_splits": "4",
    "params-calibration": "auto",
    "params-auc_tolerance": "0.002",
}


def run_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="run-(\d+)"', page)]


def run_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(TrainingRun))


# -- the list ---------------------------------------------------------------------


def test_runs_are_listed_newest_first_with_filters(admin):
    started = utcnow() - timedelta(minutes=30)
    old = add_run(
        status="failed",
        age_minutes=40,
        error="Only 12 labelled collaborations",
        started_at=started,
        finished_at=started + timedelta(seconds=75),
    )
    new = add_run(status="succeeded", age_minutes=5)
    running = add_run(model_type="roi", status="running", age_minutes=1, progress=0.4)
    page = admin.get("/runs/").get_data(as_text=True)
    assert run_ids(page) == [running.id, new.id, old.id]
    assert "1 min 15 s" in page, "the duration of the failed run"
    assert "40 %" in page and "Only 12 labelled collaborations" in page
    for status in ("failed", "succeeded", "running"):
        assert f"badge-{status}" in page

    assert run_ids(admin.get("/runs/?type=match_success").get_data(as_text=True)) == [
        new.id,
        old.id,
    ]
    assert run_ids(admin.get("/runs/?status=failed").get_data(as_text=True)) == [old.id]
    empty = admin.get("/runs/?type=roi&status=failed").get_data(as_text=True)
    assert run_ids(empty) == [] and "No training runs match." in empty


def test_runs_are_paginated(admin):
    runs = [add_run(age_minutes=100 - i) for i in range(12)]
    first = admin.get("/runs/").get_data(as_text=True)
    assert run_ids(first) == [r.id for r in reversed(runs)][:10]
    assert "12 runs, page 1 of 2" in first
    second = admin.get("/runs/?page=2").get_data(as_text=True)
    assert run_ids(second) == [runs[1].id, runs[0].id]


# -- the train form -----------------------------------------------------------


def test_train_form_shows_the_plugins_fields(admin):
    page = admin.get("/runs/new?type=match_success").get_data(as_text=True)
    for name in ("params-algorithm", "params-n_splits", "params-calibration"):
        assert f'name="{name}"' in page
    assert "Start training" in page
    assert admin.get("/runs/new?type=nope").status_code == 404
    assert admin.get("/runs/new").location == "/models/"


def test_bad_params_rerender_with_422_and_start_nothing(admin, redis):
    response = admin.post(
        "/runs/new?type=match_success",
        data={"params-algorithm": "magic", "params-n_splits": "12"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Not a valid choice" in page
    assert "Number must be between 2 and 8." in page
    assert 'aria-invalid="true"' in page
    assert run_count() == 0
    assert jobs.get_queue(jobs.TRAINING_QUEUE).count == 0


def test_starting_a_run_commits_it_and_enqueues_its_job(admin, redis):
    response = admin.post(
        "/runs/new?type=match_success",
        data={
            "params-algorithm": "random_forest",
            "params-n_splits": "3",
            "params-calibration": "none",
            "params-auc_tolerance": "0",
        },
    )
    assert response.status_code == 302
    [run] = db.session.scalars(db.select(TrainingRun)).all()
    assert response.location == f"/runs/{run.id}"
    assert (run.status, run.trigger) == ("queued", "manual")
    assert run.requested_by_id == User.by_email("admin@example.com").id
    assert run.params == {
        "algorithm": "random_forest",
        "n_splits": 3,
        "calibration": "none",
        "auc_tolerance": 0.0,
    }
    assert run.job_id == f"train-run-{run.id}"
    job = jobs.fetch_job(f"train-run-{run.id}")
    assert job is not None
    assert job.func_name == "workers.training.train_model"
    assert list(job.args) == [run.id]
    assert jobs.get_queue(jobs.TRAINING_QUEUE).job_ids == [f"train-run-{run.id}"]

    page = admin.get(response.location).get_data(as_text=True)
    assert f"Training run {run.id} of match_success is queued." in page
    assert '<progress id="run-progress" value="0.0" max="1">' in page
    assert '<span id="run-stage">waiting for a worker</span>' in page
    assert "admin@example.com" in page and f"train-run-{run.id}" in page
    assert "random_forest" in page


def test_a_second_run_while_one_is_queued_goes_to_the_first(admin, redis):
    first = admin.post("/runs/new?type=match_success", data=DEFAULT_FORM)
    assert first.status_code == 302
    again = admin.post("/runs/new?type=match_success", data=DEFAULT_FORM)
    assert again.location == first.location
    assert run_count() == 1
    page = admin.get(again.location).get_data(as_text=True)
    assert "match_success is already training" in page
    form = admin.get("/runs/new?type=match_success").get_data(as_text=True)
    assert "is already training" in form


def test_the_train_form_needs_its_csrf_token(app, make_user, redis):
    make_user("admin@example.com", role="admin")
    protected = sibling_app(app, WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    login = client.get("/auth/login").get_data(as_text=True)
    client.post(
        "/auth/login",
        data={
            "email": "admin@example.com",
            "password": "correct-horse-battery",
            "csrf_token": csrf_token(login),
        },
    )
    refused = client.post("/runs/new?type=match_success", data=DEFAULT_FORM)
    assert refused.status_code == 400
    assert run_count() == 0
    form = client.get("/runs/new?type=match_success").get_data(as_text=True)
    response = client.post(
        "/runs/new?type=match_success",
        data={**DEFAULT_FORM, "csrf_token": csrf_token(form)},
    )
    assert response.status_code == 302
    assert run_count() == 1
    with protected.app_context():
        db.engine.dispose()


# -- a run's page and status ----------------------------------------------------


def test_status_json_follows_the_run_to_success(app, admin):
    from workers.training import train_model

    seed_small_world()
    run = add_run(status="queued", params=FAST_PARAMS)
    queued = admin.get(f"/runs/{run.id}/status.json").get_json()
    assert set(queued) == STATUS_KEYS
    assert (queued["status"], queued["progress"], queued["version_url"]) == (
        "queued",
        0.0,
        None,
    )
    train_model(run.id)
    done = admin.get(f"/runs/{run.id}/status.json").get_json()
    assert (done["status"], done["progress"], done["version"]) == ("succeeded", 1.0, 1)
    assert done["stage"] == "created match_success v1"
    assert done["version_url"] == "/models/match_success?focus=1&compare=1"
    assert done["duration_seconds"] > 0
    page = admin.get(f"/runs/{run.id}").get_data(as_text=True)
    assert (
        'id="run-version-link" href="/models/match_success?focus=1&amp;compare=1"'
        in (page)
    )
    assert 'data-status="succeeded"' in page


def test_a_failed_run_shows_its_reason(admin):
    from workers.training import train_model

    run = add_run(status="queued")
    with pytest.raises(TrainingFailed, match="no rated, finished collaborations"):
        train_model(run.id)
    status = admin.get(f"/runs/{run.id}/status.json").get_json()
    assert status["status"] == "failed"
    assert "no rated, finished collaborations" in status["error"]
    page = admin.get(f"/runs/{run.id}").get_data(as_text=True)
    error = re.search(r'<div[^>]*id="run-error".*?</div>', page, re.S).group(0)
    assert "The run failed:" in error
    assert "no rated, finished collaborations to learn from yet." in error


def test_unknown_run_is_a_404(admin):
    assert admin.get("/runs/999").status_code == 404
    assert admin.get("/runs/999/status.json").status_code == 404


@pytest.mark.parametrize(
    "url", ["/runs/", "/runs/new?type=match_success", "/runs/1", "/runs/1/status.json"]
)
def test_members_get_403(client, auth, world, url):
    add_run()
    auth.login("brand@example.com")
    assert client.get(url).status_code == 403
    assert client.post("/runs/new?type=match_success").status_code == 403
    assert run_count() == 1

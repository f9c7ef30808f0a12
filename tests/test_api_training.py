"""Training and the model registry through the API: queue runs, follow them, list models."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_support import QUICK_PARAMS, ApiClient, issue_token, redis_down, seed_and_train

from webapp.extensions import db
from webapp.model_types import ModelType, TrainingFailed, installed_types
from webapp.models import ModelVersion, TrainingRun
from webapp.registry import versions
from webapp.runtime import jobs
from workers.training import train_model


def runs() -> list[TrainingRun]:
    return db.session.scalars(sa.select(TrainingRun).order_by(TrainingRun.id)).all()


class ThirdPartyModel(ModelType):
    """A model type from another package, registered the way an entry point would."""

    name = "third_party_roi"
    title = "Third-party ROI"
    description = "Installed by another package."
    target = "roi"
    score_label = "expected ROI"


# -- POST /train ---------------------------------------------------------------


def test_train_commits_a_run_and_enqueues_its_job(api, admin_token, world, redis):
    response = api.call(
        "POST", "/train", 202, token=admin_token, json={"type": "match_success"}
    )
    body = response.get_json()
    (run,) = runs()
    assert body == {
        "run_id": run.id,
        "status": "queued",
        "links": {"self": f"/api/v1/runs/{run.id}"},
    }
    assert response.headers["Location"] == f"/api/v1/runs/{run.id}"
    assert run.trigger == "api" and run.requested_by_id == world["admin"].id
    assert run.params == {
        "algorithm": "auto",
        "n_splits": 4,
        "calibration": "auto",
        "auc_tolerance": 0.002,
    }
    queue = jobs.get_queue(jobs.TRAINING_QUEUE)
    assert queue.job_ids == [f"train-run-{run.id}"]
    job = jobs.fetch_job(f"train-run-{run.id}")
    assert job.func_name == "workers.training.train_model"
    assert list(job.args) == [run.id]
    assert run.job_id == job.id


def test_train_passes_params_through_the_types_form(api, admin_token, world, redis):
    params = {"algorithm": "logistic_regression", "n_splits": 3}
    api.call(
        "POST",
        "/train",
        202,
        token=admin_token,
        json={"type": "match_success", "params": params},
    )
    (run,) = runs()
    assert run.params == {**params, "calibration": "auto", "auc_tolerance": 0.002}


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"n_splits": 99}, "params/n_splits"),
        ({"n_splits": "many"}, "params/n_splits"),
        ({"n_splits": 2.5}, "params/n_splits"),
        ({"algorithm": "magic"}, "params/algorithm"),
        ({"learning_rate": 0.1}, "params/learning_rate"),
    ],
)
def test_bad_params_are_422_and_queue_nothing(
    api, admin_token, world, redis, params, path
):
    response = api.call(
        "POST",
        "/train",
        422,
        token=admin_token,
        json={"type": "match_success", "params": params},
    )
    assert path in [d["path"] for d in response.get_json()["details"]]
    assert runs() == []
    assert jobs.get_queue(jobs.TRAINING_QUEUE).count == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"type": ""}, {"type": ["match_success"]}, {"type": "match_success", "x": 1}],
)
def test_a_bad_train_body_is_422(api, admin_token, world, redis, body):
    api.call("POST", "/train", 422, token=admin_token, json=body)
    assert runs() == []


def test_an_unknown_type_is_404_naming_the_installed_ones(
    api, admin_token, world, redis
):
    response = api.call(
        "POST", "/train", 404, token=admin_token, json={"type": "no_such_type"}
    )
    assert "match_success" in response.get_json()["details"]
    assert runs() == []


def test_a_second_run_while_one_is_queued_is_409_with_its_id(
    api, admin_token, world, redis
):
    first = api.call(
        "POST", "/train", 202, token=admin_token, json={"type": "match_success"}
    ).get_json()["run_id"]
    response = api.call(
        "POST", "/train", 409, token=admin_token, json={"type": "match_success"}
    )
    details = response.get_json()["details"]
    assert details["run_id"] == first and details["status"] == "queued"
    assert details["links"]["self"] == f"/api/v1/runs/{first}"
    assert len(runs()) == 1


def test_a_member_cannot_train(api, world, redis):
    token = issue_token(world["brand"])
    api.call("POST", "/train", 403, token=token, json={"type": "match_success"})
    assert runs() == []


def test_train_when_redis_is_down_is_503_and_the_run_is_failed(app, world):
    token = issue_token(world["admin"])
    spec = ApiClient(app.test_client()).spec
    with redis_down(app) as broken:
        api = ApiClient(broken.test_client(), spec=spec)
        response = api.call(
            "POST", "/train", 503, token=token, json={"type": "match_success"}
        )
    assert response.get_json()["error"] == "queue_unavailable"
    (run,) = runs()
    assert run.status == "failed" and "enqueue" in run.error


# -- GET /runs/<run_id> ----------------------------------------------------------


def test_a_run_shows_its_progress_and_version(app, api, admin_token, world):
    queued = TrainingRun(model_type="match_success", params=QUICK_PARAMS)
    db.session.add(queued)
    db.session.commit()
    body = api.call("GET", f"/runs/{queued.id}", 200, token=admin_token).get_json()
    assert body["status"] == "queued" and body["version"] is None
    assert body["params"] == QUICK_PARAMS
    # Too little data: the run fails and says why.
    with pytest.raises(TrainingFailed, match="labelled collaborations?;"):
        train_model(queued.id)
    failed = api.call("GET", f"/runs/{queued.id}", 200, token=admin_token).get_json()
    assert failed["status"] == "failed" and "MIN_TRAINING_SAMPLES" in failed["error"]
    assert failed["finished_at"] is not None


@pytest.mark.parametrize("run_id", ["424242", "99999999999999999999999"])
def test_an_unknown_run_is_404(api, admin_token, world, run_id):
    api.call("GET", f"/runs/{run_id}", 404, token=admin_token)


def test_a_non_numeric_run_id_is_404(api, admin_token, world):
    api.call("GET", "/runs/abc", 404, token=admin_token)


# -- GET /models ---------------------------------------------------------------


def test_models_lists_every_installed_type_including_third_party(
    app, api, admin_token, world
):
    installed_types(app).add(ThirdPartyModel())
    models = api.call("GET", "/models", 200, token=admin_token).get_json()["models"]
    by_type = {m["type"]: m for m in models}
    assert set(by_type) == {*installed_types(app).names()}
    assert {"match_success", "roi", "third_party_roi"} <= set(by_type)
    assert by_type["third_party_roi"]["score_label"] == "expected ROI"
    assert all(m["active_version"] is None for m in models)
    detail = api.call(
        "GET", "/models/third_party_roi", 200, token=admin_token
    ).get_json()
    assert detail == {
        "model": by_type["third_party_roi"],
        "versions": [],
        "deployments": [],
    }


def test_unknown_model_type_is_404(api, admin_token, world):
    response = api.call("GET", "/models/nope", 404, token=admin_token)
    assert "match_success" in response.get_json()["details"]


def test_models_show_versions_newest_first_and_deployments(app, client, world):
    first = seed_and_train(app)
    run = TrainingRun(model_type="match_success", params=QUICK_PARAMS)
    db.session.add(run)
    db.session.commit()
    second = db.session.get(ModelVersion, train_model(run.id))
    assert second.status == "candidate"
    versions.promote(second, world["admin"], note="better", confirm_worse=True)
    token = issue_token(world["admin"])
    api = ApiClient(client)
    models = api.call("GET", "/models", 200, token=token).get_json()["models"]
    (match,) = [m for m in models if m["type"] == "match_success"]
    assert match["active_version"] == versions.summary(second)
    assert match["active_version"]["metrics"]["roc_auc"] > 0.5
    detail = api.call("GET", "/models/match_success", 200, token=token).get_json()
    assert [(v["version"], v["status"]) for v in detail["versions"]] == [
        (2, "active"),
        (1, "archived"),
    ]
    assert [
        (d["action"], d["from_version"], d["to_version"], d["actor"])
        for d in detail["deployments"]
    ] == [("promote", 1, 2, "admin@example.com"), ("first", None, 1, None)]
    assert first.version == 1

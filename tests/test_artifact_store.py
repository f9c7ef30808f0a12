"""The database artifact store: a worker and a web app that share only the database and Redis."""

from __future__ import annotations

import pytest
from api_support import ApiClient, issue_token, sibling_app
from test_training_queue import run_worker
from training_helpers import seed_small_world

from webapp.config import ConfigError
from webapp.extensions import db
from webapp.learning import training_runs
from webapp.models import ArtifactBlob, Company, Influencer, ModelVersion, TrainingRun
from webapp.registry import artifacts
from webapp.registry.artifact_store import (
    DatabaseArtifactStore,
    LocalArtifactStore,
    artifact_store,
)
from webapp.serving import serving_state

pytestmark = pytest.mark.queue


def a_pair() -> dict:
    influencer = db.session.scalars(
        db.select(Influencer).order_by(Influencer.id)
    ).first()
    company = db.session.scalars(db.select(Company).order_by(Company.id)).first()
    return {"influencer_id": influencer.external_id, "company_id": company.external_id}


def files_under(path) -> list:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def test_a_worker_writes_through_the_database_and_another_app_serves_it(
    app, redis, tmp_path, make_user
):
    seed_small_world()
    worker_models, web_models = tmp_path / "worker-models", tmp_path / "web-models"
    run = training_runs.start_training(
        "match_success", {"algorithm": "logistic_regression", "n_splits": 2}
    )
    run_worker(
        app,
        ARTIFACT_STORE="database",
        MODEL_DIR=str(worker_models),
        INSTANCE_PATH=str(tmp_path / "worker-instance"),
    )
    db.session.expire_all()
    run = db.session.get(TrainingRun, run.id)
    assert run.status == "succeeded", run.error
    version = run.version
    blob = db.session.get(ArtifactBlob, version.artifact_path)
    assert blob is not None and blob.sha256 == version.sha256
    assert blob.size_bytes == version.size_bytes == len(blob.data)
    assert files_under(worker_models) == []  # nothing went to the worker's disk

    token = issue_token(make_user("store-admin@example.com", role="admin"))
    with sibling_app(app, ARTIFACT_STORE="database", MODEL_DIR=str(web_models)) as web:
        api = ApiClient(web.test_client())
        with web.app_context():
            answer = api.call(
                "POST", "/predict/match", 200, token=token, json=a_pair()
            ).get_json()
            assert answer["fallback"] is False
            assert answer["model"] == {"type": "match_success", "version": 1}
            assert files_under(web_models) == []

            # A corrupted blob is refused by its sha256; the fallback serves and
            # health shows the problem.
            db.session.execute(
                db.update(ArtifactBlob)
                .where(ArtifactBlob.path == version.artifact_path)
                .values(data=bytes(blob.data) + b"tampered")
            )
            db.session.commit()
            serving_state().clear()
            answer = api.call(
                "POST", "/predict/match", 200, token=token, json=a_pair()
            ).get_json()
            assert answer["fallback"] is True
            assert "altered" in answer["fallback_reason"]
            body = api.call("GET", "/health", 200, token=token).get_json()
            assert body["status"] == "degraded"
            [problem] = body["problems"]
            assert problem["version"] == 1 and "altered" in problem["problem"]
            assert "sha256" in problem["problem"]


def test_a_version_registered_with_the_database_store_rolls_back_with_its_blob(app):
    app.config["ARTIFACT_STORE"] = "database"
    store = artifact_store()
    assert isinstance(store, DatabaseArtifactStore)
    stored = artifacts.save(store, "match_success", 7, {"weights": [1, 2]})
    db.session.rollback()  # the version could not be registered
    store.discard(stored.path)
    assert db.session.get(ArtifactBlob, stored.path) is None
    with pytest.raises(artifacts.ArtifactError, match="missing from the database"):
        artifacts.read_verified(store, stored.path, stored.sha256)

    stored = artifacts.save(store, "match_success", 7, {"weights": [1, 2]})
    db.session.commit()
    assert artifacts.verify(store, stored.path, stored.sha256) == {"weights": [1, 2]}
    with pytest.raises(artifacts.ArtifactError, match="altered"):
        artifacts.read_verified(store, stored.path, "0" * 64)
    assert db.session.scalar(db.select(db.func.count(ModelVersion.id))) == 0


def test_the_local_store_is_the_default_and_the_setting_is_checked(app, tmp_path):
    assert isinstance(artifact_store(), LocalArtifactStore)
    from webapp import create_app

    with pytest.raises(ConfigError, match="ARTIFACT_STORE must be local or database"):
        create_app({"ENV": "testing", "SECRET_KEY": "t", "ARTIFACT_STORE": "s3"})

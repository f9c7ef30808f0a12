"""A model that cannot serve never fails a request: the fallback answers, health says why."""

from __future__ import annotations

import io
from pathlib import Path

import joblib
import numpy as np
import pytest
from api_support import ApiClient, issue_token
from training_helpers import seed_small_world, serve_trained_once

from plugins.match_success.plugin import MatchSuccessModel
from webapp import serving
from webapp.extensions import db
from webapp.models import Company, Influencer, ModelVersion
from webapp.registry import artifacts
from webapp.registry.artifacts import ArtifactCache, ArtifactError

# One real trained artifact for the whole module (training takes a while).
_TRAINED: dict = {}


@pytest.fixture
def active(app):
    """Seed the small world and serve a real trained version (trained once per module)."""
    seed_small_world()
    return serve_trained_once(_TRAINED)


def a_pair() -> tuple[Influencer, Company]:
    influencer = db.session.scalars(db.select(Influencer).limit(1)).one()
    company = db.session.scalars(db.select(Company).limit(1)).one()
    return influencer, company


def health(app, world_user) -> dict:
    api = ApiClient(app.test_client())
    return api.call("GET", "/health", 200, token=issue_token(world_user)).get_json()


def replace_artifact(app, version: ModelVersion, artifact) -> None:
    """Store ``artifact`` as the version's file, with a matching sha256 (not tampering)."""
    stored = artifacts.save(app.config["MODEL_DIR"], "match_success", 99, artifact)
    version.artifact_path, version.sha256 = stored.path, stored.sha256
    db.session.commit()
    serving.serving_state().clear()


def test_an_artifact_with_other_feature_names_is_refused_like_a_bad_sha(
    app, active, make_user
):
    artifact = joblib.load(io.BytesIO(_TRAINED["data"]))
    artifact.feature_names = [*artifact.feature_names[:-1], "renamed_feature"]
    replace_artifact(app, active, artifact)
    [answer] = serving.predict_pairs([a_pair()])
    assert answer["fallback"] is True
    assert "features that differ" in answer["fallback_reason"]
    assert "renamed_feature" in answer["fallback_reason"]
    db.session.refresh(active)
    assert "features that differ" in active.artifact_error
    body = health(app, make_user("ops@example.com"))
    assert body["status"] == "degraded"
    assert body["problems"] == [
        {"model_type": "match_success", "version": 1, "problem": active.artifact_error}
    ]


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("boom"),
        ValueError("X has 12 features, but the model expects 13"),
        np.nan,
    ],
    ids=["error", "shape", "nan-scores"],
)
def test_any_model_failure_at_predict_time_falls_back(
    app, active, make_user, monkeypatch, failure
):
    original = MatchSuccessModel.predict_and_explain

    def broken(self, artifact, rows):
        if isinstance(failure, Exception):
            raise failure
        predictions, explained = original(self, artifact, rows)
        predictions.score = np.full(len(rows), failure)
        return predictions, explained

    monkeypatch.setattr(MatchSuccessModel, "predict_and_explain", broken)
    [answer] = serving.predict_pairs([a_pair()])
    assert answer["fallback"] is True
    assert "match_success v1 failed at predict time" in answer["fallback_reason"]
    problems = health(app, make_user("ops@example.com"))["problems"]
    assert [p["version"] for p in problems] == [1]
    assert "failed at predict time" in problems[0]["problem"]


def test_a_ranking_survives_a_model_that_cannot_explain(app, active, monkeypatch):
    def broken(self, artifact, rows):
        raise RuntimeError("explain broke")

    monkeypatch.setattr(MatchSuccessModel, "explain", broken)
    company = db.session.scalars(db.select(Company).limit(1)).one()
    ranked = serving.rank_influencers(company, 5)
    assert len(ranked) == 5 and all(r["factors"] for r in ranked)


def test_the_banner_and_health_clear_once_the_artifact_verifies_again(
    app, active, make_user
):
    admin = make_user("root@example.com", role="admin")
    path = Path(app.config["MODEL_DIR"]) / active.artifact_path
    path.write_bytes(_TRAINED["data"] + b"tampered")
    assert serving.predict_pairs([a_pair()])[0]["fallback"] is True
    assert health(app, admin)["status"] == "degraded"
    client = app.test_client()
    client.post("/auth/login", data={"email": admin.email, "password": PASSWORD})
    assert "artifact refused" in client.get("/models/match_success").get_data(True)

    path.write_bytes(_TRAINED["data"])  # restored from a backup
    assert serving.predict_pairs([a_pair()])[0]["fallback"] is False
    db.session.refresh(active)
    assert active.artifact_error is None
    assert health(app, admin)["status"] == "ok"
    assert "artifact refused" not in client.get("/models/match_success").get_data(True)


def test_the_models_page_rechecks_a_refused_artifact(app, active, make_user):
    admin = make_user("root@example.com", role="admin")
    active.artifact_error = "artifact was altered"
    db.session.commit()
    client = app.test_client()
    client.post("/auth/login", data={"email": admin.email, "password": PASSWORD})
    # The file on disk is intact: viewing the page verifies it and clears the banner.
    assert "artifact refused" not in client.get("/models/match_success").get_data(True)
    db.session.refresh(active)
    assert active.artifact_error is None


def test_each_process_verifies_before_its_first_load(app, active):
    model_dir = app.config["MODEL_DIR"]
    first, second = ArtifactCache(), ArtifactCache()  # two web processes
    first.load(model_dir, active.artifact_path, active.sha256)
    path = Path(model_dir) / active.artifact_path
    path.write_bytes(_TRAINED["data"][:-5])
    with pytest.raises(ArtifactError, match="altered"):
        second.load(model_dir, active.artifact_path, active.sha256)
    assert active.sha256 not in second  # a refused artifact is never cached


def test_an_empty_candidate_set_ranks_nobody(app, active, make_user):
    company = db.session.scalars(db.select(Company).limit(1)).one()
    assert serving.rank_influencers(company, 10, {"min_followers": 10**12}) == []
    brand = make_user("shop@example.com", company=company)
    client = app.test_client()
    client.post("/auth/login", data={"email": brand.email, "password": PASSWORD})
    response = client.get(
        "/matches/influencers",
        query_string={"min_followers": str(10**12), "max_rate": "0", "niche": "gaming"},
    )
    assert response.status_code == 200


PASSWORD = "correct-horse-battery"

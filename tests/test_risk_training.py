"""risk trains through the real queue, lands in the registry, serves the pages and the API."""

from __future__ import annotations

import subprocess
import sys

import pytest
from api_support import ApiClient, issue_token
from test_training_queue import PROJECT, worker_environment
from training_helpers import seed_small_world

from webapp.extensions import db
from webapp.models import Collaboration, ModelVersion, PredictionLog, TrainingRun
from webapp.serving.state import serving_state

FAST_RISK = {"n_splits": 3, "min_failures": 30}


def train_risk() -> ModelVersion:
    """Train risk in-process, as the worker would; return the version."""
    from workers.training import train_model

    run = TrainingRun(model_type="risk", params=FAST_RISK)
    db.session.add(run)
    db.session.commit()
    return db.session.get(ModelVersion, train_model(run.id))


@pytest.mark.queue
def test_train_risk_waits_for_a_real_worker(app, redis, runner):
    seed_small_world()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=PROJECT,
        env=worker_environment(app, MIN_TRAINING_SAMPLES=50),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        result = runner.invoke(
            args=[
                "train",
                "risk",
                "--wait",
                *("--param", "n_splits=3"),
                *("--timeout", "300"),
            ]
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert result.exit_code == 0, result.output
    assert "succeeded: risk v1 (active)" in result.output
    version = db.session.scalars(db.select(ModelVersion)).one()
    metrics = version.metrics
    assert {"roc_auc", "roc_auc_unsupervised", "roc_auc_blended"} <= set(metrics)
    assert metrics["roc_auc_unsupervised"] is not None
    assert version.algorithm.startswith("isolation_forest")


def test_the_trained_model_serves_the_api_page_and_log(app, client, auth, make_user):
    seed_small_world()
    version = train_risk()
    assert version.status == "active"
    serving_state().routing.clear()
    admin = make_user("risk-admin@example.com", role="admin")
    api = ApiClient(client)
    collaboration = db.session.scalars(
        db.select(Collaboration).order_by(Collaboration.id)
    ).first()
    pair = {
        "influencer_id": collaboration.influencer.external_id,
        "company_id": collaboration.company.external_id,
    }
    body = api.call(
        "POST", "/predict/risk", 200, token=issue_token(admin), json=pair
    ).get_json()
    assert body["model"] == {"type": "risk", "version": version.version}
    assert body["fallback"] is False and 0 <= body["risk_score"] <= 100
    assert body["level"] in ("low", "medium", "high")
    assert all(f["contribution"] > 0 for f in body["factors"])
    logged = db.session.scalars(
        db.select(PredictionLog).where(PredictionLog.model_type == "risk")
    ).one()
    assert logged.level == body["level"] and logged.version_id == version.id

    auth.login("risk-admin@example.com")
    page = client.get("/models/risk").get_data(as_text=True)
    assert 'id="chart-risk_distribution"' in page
    assert 'id="chart-factor_frequency"' in page
    detail = client.get(f"/collaborations/{collaboration.external_id}")
    assert 'id="declared-risk"' in detail.get_data(as_text=True)


def test_without_a_model_the_rules_answer(app, client, world):
    api = ApiClient(client)
    body = api.call(
        "POST",
        "/predict/risk",
        200,
        token=issue_token(world["brand"]),
        json={"influencer_id": "INF-A", "company_id": "CO-A"},
    ).get_json()
    assert body["fallback"] is True and body["model"]["version"] is None
    assert body["risk_score"] >= 10 and body["level"] == "low"

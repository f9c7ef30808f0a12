"""GET /api/v1/health: database, Redis, workers and active versions; 503 when degraded."""

from __future__ import annotations

import os
import time

import pytest
from api_support import ApiClient, database_down, issue_token, redis_down

from webapp.extensions import db
from webapp.models import ModelVersion
from webapp.registry.plugins import installed_types
from webapp.runtime import jobs, notices


@pytest.fixture
def token(world):
    return issue_token(world["loner"])


def test_health_reports_everything_up(app, api_client, token, redis):
    before = time.time()
    body = api_client.call("GET", "/health", 200, token=token).get_json()
    switched_at = body["process"].pop("routing_switched_at")
    assert before <= switched_at <= time.time()
    assert body == {
        "status": "ok",
        "database": {"ok": True, "backend": db.engine.dialect.name, "error": None},
        "redis": {"ok": True, "error": None},
        "workers": 0,
        "active_versions": dict.fromkeys(installed_types(app).names()),
        "problems": [],
        "process": {
            "pid": os.getpid(),
            "routing_generation": notices.routing_generation(),
            "serving": dict.fromkeys(installed_types(app).names()),
        },
    }


def test_health_counts_registered_workers_and_active_versions(api_client, token, redis):
    db.session.add(
        ModelVersion(
            model_type="match_success",
            version=3,
            status="active",
            algorithm="logistic_regression",
            artifact_path="match_success/v3.joblib",
            sha256="0" * 64,
            size_bytes=1,
        )
    )
    db.session.commit()
    worker = jobs.make_worker(name="health-check-worker")
    worker.register_birth()
    try:
        body = api_client.call("GET", "/health", 200, token=token).get_json()
    finally:
        worker.register_death()
    assert body["workers"] == 1
    assert body["active_versions"]["match_success"] == 3


def test_health_is_503_degraded_when_redis_is_down(app, world, token):
    spec = ApiClient(app.test_client()).spec
    with redis_down(app) as broken:
        api = ApiClient(broken.test_client(), spec=spec)
        body = api.call("GET", "/health", 503, token=token).get_json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["redis"]["ok"] is False and body["redis"]["error"]
    assert body["workers"] is None


def test_health_is_503_json_when_the_database_is_down(app, world, token):
    spec = ApiClient(app.test_client()).spec
    with database_down(app) as broken:
        api = ApiClient(broken.test_client(), spec=spec)
        response = api.call("GET", "/health", 503, token=token)
    assert response.get_json()["error"] == "database_unavailable"


@pytest.fixture
def api_client(client):
    return ApiClient(client)

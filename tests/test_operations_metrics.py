"""/metrics: off by default, protected, and Prometheus text with the expected families."""

from __future__ import annotations

from datetime import timedelta

from api_support import issue_token
from prometheus_client.parser import text_string_to_metric_families

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import TrainingRun
from webapp.runtime import jobs


def test_metrics_are_404_when_off(client, world):
    token = issue_token(world["admin"])
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 404


def test_metrics_need_the_token_or_an_admin_token(app, client, world):
    app.config.update(METRICS_ENABLED=True, METRICS_TOKEN="scrape-secret")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    member = issue_token(world["brand"])
    forbidden = client.get("/metrics", headers={"Authorization": f"Bearer {member}"})
    assert forbidden.status_code == 403
    admin = issue_token(world["admin"])
    assert (
        client.get("/metrics", headers={"Authorization": f"Bearer {admin}"}).status_code
        == 200
    )


def test_metrics_count_predictions_queue_depth_and_run_durations(
    app, client, world, redis
):
    app.config.update(METRICS_ENABLED=True, METRICS_TOKEN="scrape-secret")
    headers = {"Authorization": "Bearer scrape-secret"}
    token = issue_token(world["admin"])
    pair = {"influencer_id": "INF-A", "company_id": "CO-A"}
    for _ in range(3):  # no model trained: the fallback answers
        answer = client.post(
            "/api/v1/predict/match",
            json=pair,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.get_json()
    jobs.enqueue("workers.scheduled.no_such_job", job_id="waiting-1")
    now = utcnow()
    db.session.add(
        TrainingRun(
            model_type="match_success",
            status="succeeded",
            started_at=now - timedelta(seconds=90),
            finished_at=now,
        )
    )
    db.session.commit()

    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    families = {
        family.name: family
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
    }
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families.values()
        for sample in family.samples
    }
    fallback = (("model_type", "match_success"), ("version", "fallback"))
    assert samples[("matchloop_predictions_total", fallback)] == 3
    assert (
        samples[
            ("matchloop_prediction_fallbacks_total", (("model_type", "match_success"),))
        ]
        == 3
    )
    assert samples[("matchloop_prediction_latency_seconds_count", fallback)] == 3
    assert samples[("matchloop_prediction_latency_seconds_sum", fallback)] > 0
    assert samples[("matchloop_queue_depth", (("queue", jobs.DEFAULT_QUEUE),))] == 1
    assert samples[("matchloop_queue_up", ())] == 1
    run = (("model_type", "match_success"),)
    assert samples[("matchloop_training_run_duration_seconds_count", run)] == 1
    assert samples[("matchloop_training_run_duration_seconds_sum", run)] == 90
    le_60 = (("le", "60.0"), ("model_type", "match_success"))
    le_120 = (("le", "120.0"), ("model_type", "match_success"))
    assert samples[("matchloop_training_run_duration_seconds_bucket", le_60)] == 0
    assert samples[("matchloop_training_run_duration_seconds_bucket", le_120)] == 1

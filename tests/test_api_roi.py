"""POST /api/v1/predict/roi: a trained roi version's interval, or the history fallback."""

from __future__ import annotations

import numpy as np
import pytest
from api_support import ApiClient, issue_token
from sqlalchemy import select
from training_helpers import seed_small_world, train_roi_version

from webapp.extensions import db
from webapp.models import Collaboration, Company, Influencer, Outcome, PredictionLog
from webapp.registry.plugins import installed_types
from webapp.serving import serving_state

URL = "/predict/roi"
PAIR = {"influencer_id": "INF-A", "company_id": "CO-A"}


@pytest.fixture
def api_admin(client, world):
    return ApiClient(client), issue_token(world["admin"])


def test_without_a_model_or_history_the_fallback_says_so(api_admin):
    api, token = api_admin
    answer = api.call("POST", URL, 200, token=token, json=PAIR).get_json()
    assert answer["fallback"] is True
    assert answer["model"] == {"type": "roi", "version": None}
    assert answer["expected_roi"] == 0.0
    assert answer["interval"] == [-1.0, 1.0]
    assert answer["coverage"] == 0.9
    assert "no active version" in answer["fallback_reason"]
    logged = db.session.scalars(select(PredictionLog)).all()
    assert [(r.model_type, r.fallback, r.score) for r in logged] == [("roi", True, 0.0)]


@pytest.mark.parametrize(
    "payload, status",
    [
        (b"{", 400),
        (b"[1, NaN]", 400),
        ({"company_id": "CO-A"}, 422),
        ({**PAIR, "budget": "lots"}, 422),
        ({**PAIR, "extra": 1}, 422),
        ({**PAIR, "influencer_id": "INF-NOPE"}, 404),
    ],
)
def test_bad_bodies_are_4xx_with_details(api_admin, payload, status):
    api, token = api_admin
    kwargs = (
        {"data": payload, "content_type": "application/json"}
        if isinstance(payload, bytes)
        else {"json": payload}
    )
    answer = api.call("POST", URL, status, token=token, **kwargs).get_json()
    assert answer["error"]
    assert not db.session.scalars(select(PredictionLog)).all()


def test_members_may_only_ask_about_their_own_pairs(client, world):
    api = ApiClient(client)
    token = issue_token(world["brand"])
    other = {"influencer_id": "INF-B", "company_id": "CO-B"}
    api.call("POST", URL, 403, token=token, json=other)
    api.call("POST", URL, 200, token=token, json=PAIR)


@pytest.fixture
def seeded(app, make_user):
    seed_small_world()
    admin = make_user("roi-admin@example.com", role="admin")
    company = db.session.scalars(select(Company).order_by(Company.id)).first()
    influencer = db.session.scalars(select(Influencer).order_by(Influencer.id)).first()
    pair = {"influencer_id": influencer.external_id, "company_id": company.external_id}
    return issue_token(admin), company, pair


def test_the_fallback_is_the_brands_median_reported_roi(client, seeded):
    token, company, pair = seeded
    reported = db.session.scalars(
        select(Outcome.roi_achieved)
        .join(Outcome.collaboration)
        .where(
            Collaboration.company_id == company.id,
            Outcome.rater_side == "company",
            Outcome.roi_achieved.is_not(None),
        )
    ).all()
    assert len(reported) >= 5
    answer = ApiClient(client).call("POST", URL, 200, token=token, json=pair).get_json()
    assert answer["fallback"] is True
    assert answer["expected_roi"] == pytest.approx(np.median(reported), abs=1e-4)
    low, high = np.quantile(reported, [0.05, 0.95])
    assert answer["interval"] == pytest.approx([low, high], abs=1e-4)
    assert "brand" in answer["fallback_reason"]


def test_a_trained_roi_version_serves_its_interval(client, seeded, app):
    token, company, pair = seeded
    version = train_roi_version()
    assert version.status == "active"
    api = ApiClient(client)
    answer = api.call("POST", URL, 200, token=token, json=pair).get_json()
    assert answer["fallback"] is False
    assert answer["fallback_reason"] is None
    assert answer["model"] == {"type": "roi", "version": version.version}
    low, high = answer["interval"]
    assert low <= answer["expected_roi"] <= high
    assert answer["coverage"] == 0.9
    # A bigger budget for the same pair changes the estimate: features reach the model.
    richer = api.call(
        "POST", URL, 200, token=token, json={**pair, "budget": 90000}
    ).get_json()
    assert richer["expected_roi"] != answer["expected_roi"]
    logged = db.session.scalars(
        select(PredictionLog).where(PredictionLog.model_type == "roi")
    ).all()
    assert {r.version_id for r in logged} == {version.id}


def test_a_model_failing_at_predict_time_falls_back(client, seeded, app, monkeypatch):
    token, _, pair = seeded
    train_roi_version()
    plugin = installed_types(app).get("roi")

    def broken(artifact, rows):
        raise RuntimeError("boom")

    monkeypatch.setattr(plugin, "predict", broken)
    answer = ApiClient(client).call("POST", URL, 200, token=token, json=pair).get_json()
    assert answer["fallback"] is True
    assert "boom" in answer["fallback_reason"]
    assert serving_state().recent_failures()

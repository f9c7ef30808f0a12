"""Predictions and recommendations through the API: answers, fallback, logging, bad input."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from api_support import ApiClient, issue_token, seed_and_train

from webapp.extensions import db
from webapp.models import Company, Influencer, PredictionLog
from webapp.serving import serving_state

PAIR_A = {"influencer_id": "INF-A", "company_id": "CO-A"}
PAIR_B = {"influencer_id": "INF-B", "company_id": "CO-B"}
RESULT_KEYS = {
    "success_probability",
    "confidence",
    "interval",
    "factors",
    "model",
    "fallback",
    "fallback_reason",
}


def logs() -> list[PredictionLog]:
    return db.session.scalars(sa.select(PredictionLog).order_by(PredictionLog.id)).all()


def send(api, token, url, raw: bytes, status: int, content_type="application/json"):
    return api.call(
        "POST", url, status, token=token, data=raw, content_type=content_type
    )


# -- answers -------------------------------------------------------------------


def test_without_an_active_version_the_fallback_answers_and_is_logged(
    api, admin_token, world
):
    serving_state().clear()
    answer = api.call(
        "POST", "/predict/match", 200, token=admin_token, json=PAIR_A
    ).get_json()
    assert set(answer) == RESULT_KEYS | {"influencer_id", "company_id"}
    assert answer["fallback"] is True
    assert answer["model"] == {"type": "match_success", "version": None}
    assert answer["fallback_reason"] == "no active version"
    assert answer["interval"] is None
    assert 0 < answer["success_probability"] < 1
    assert answer["factors"] and all(f["label"] for f in answer["factors"])
    (row,) = logs()
    inf_a, co_a = world["influencers"][0], world["companies"][0]
    assert (row.influencer_id, row.company_id) == (inf_a.id, co_a.id)
    assert row.fallback and row.version_id is None and row.source == "api"
    assert row.score == pytest.approx(answer["success_probability"], abs=1e-4)


def test_predictions_come_from_the_active_version(app, client, world):
    version = seed_and_train(app)
    token = issue_token(world["admin"])
    api = ApiClient(client)
    influencer = db.session.scalars(sa.select(Influencer).limit(1)).one()
    companies = db.session.scalars(sa.select(Company).limit(3)).all()
    pairs = [
        {"influencer_id": influencer.external_id, "company_id": c.external_id}
        for c in companies
    ]
    single = api.call("POST", "/predict/match", 200, token=token, json=pairs[0])
    answer = single.get_json()
    assert answer["fallback"] is False and answer["fallback_reason"] is None
    assert answer["model"] == {"type": "match_success", "version": version.version}
    assert 0 < answer["confidence"] <= 1
    batch = api.call(
        "POST", "/predict/match/batch", 200, token=token, json={"pairs": pairs}
    ).get_json()["predictions"]
    assert [p["company_id"] for p in batch] == [c.external_id for c in companies]
    assert batch[0]["success_probability"] == answer["success_probability"]
    rows = logs()
    assert len(rows) == 1 + len(pairs)
    assert {r.version_id for r in rows} == {version.id}
    assert [r.source for r in rows] == ["api"] + ["batch"] * len(pairs)
    ranked = api.call(
        "GET",
        f"/recommendations?company_id={companies[0].external_id}&limit=5",
        200,
        token=token,
    ).get_json()
    assert ranked["for"] == {"kind": "company", "id": companies[0].external_id}
    probabilities = [r["success_probability"] for r in ranked["recommendations"]]
    assert len(probabilities) == 5 and probabilities == sorted(probabilities)[::-1]
    assert all(not r["fallback"] for r in ranked["recommendations"])
    assert len(logs()) == 1 + len(pairs) + 5


def test_batch_answers_in_request_order_with_repeats(api, admin_token, world):
    pairs = [PAIR_B, PAIR_A, PAIR_B, {"influencer_id": "INF-A", "company_id": "CO-B"}]
    answers = api.call(
        "POST", "/predict/match/batch", 200, token=admin_token, json={"pairs": pairs}
    ).get_json()["predictions"]
    assert [(a["influencer_id"], a["company_id"]) for a in answers] == [
        (p["influencer_id"], p["company_id"]) for p in pairs
    ]
    assert answers[0] == answers[2]
    assert len(logs()) == 4


def test_budget_is_passed_to_serving(api, admin_token, world):
    def probability(budget):
        body = {**PAIR_A, "budget": budget}
        answer = api.call("POST", "/predict/match", 200, token=admin_token, json=body)
        return answer.get_json()["success_probability"]

    # The fallback rewards a budget that covers a few posts (the rate is 400).
    assert probability(4000) > probability(50)


def test_recommendations_default_limit_filters_and_influencer_side(
    api, admin_token, world
):
    answer = api.call(
        "GET", "/recommendations?company_id=CO-B", 200, token=admin_token
    ).get_json()
    # CO-B's only collaboration (with INF-B) is finished: both creators qualify.
    ids = [r["influencer"]["id"] for r in answer["recommendations"]]
    assert sorted(ids) == ["INF-A", "INF-B"]
    gaming = api.call(
        "GET", "/recommendations?company_id=CO-B&niche=gaming", 200, token=admin_token
    ).get_json()
    assert [r["influencer"]["id"] for r in gaming["recommendations"]] == ["INF-B"]
    companies = api.call(
        "GET", "/recommendations?influencer_id=INF-B&limit=1", 200, token=admin_token
    ).get_json()
    assert companies["for"] == {"kind": "influencer", "id": "INF-B"}
    assert len(companies["recommendations"]) == 1
    assert "company" in companies["recommendations"][0]


def test_recommendations_leave_out_open_collaborations(api, admin_token, world):
    # CO-A already works with INF-A (active and proposed collaborations).
    answer = api.call(
        "GET", "/recommendations?company_id=CO-A", 200, token=admin_token
    ).get_json()
    assert [r["influencer"]["id"] for r in answer["recommendations"]] == ["INF-B"]


# -- unknown ids ---------------------------------------------------------------


def test_unknown_ids_are_404_naming_them(api, admin_token, world):
    response = api.call(
        "POST",
        "/predict/match",
        404,
        token=admin_token,
        json={"influencer_id": "INF-X", "company_id": "CO-A"},
    )
    assert response.get_json()["details"] == {
        "influencer_ids": ["INF-X"],
        "company_ids": [],
    }
    assert logs() == []


def test_a_batch_answers_unknown_ids_per_pair_and_predicts_the_rest(
    api, admin_token, world
):
    pairs = [
        PAIR_A,
        {"influencer_id": "INF-X", "company_id": "CO-Y"},
        {"influencer_id": "INF-W", "company_id": "CO-A"},
        PAIR_B,
    ]
    answers = api.call(
        "POST", "/predict/match/batch", 200, token=admin_token, json={"pairs": pairs}
    ).get_json()["predictions"]
    assert [(a["influencer_id"], a["company_id"]) for a in answers] == [
        (p["influencer_id"], p["company_id"]) for p in pairs
    ]
    assert answers[1] == {
        "influencer_id": "INF-X",
        "company_id": "CO-Y",
        "error": "not_found",
        "details": {"influencer_ids": ["INF-X"], "company_ids": ["CO-Y"]},
    }
    assert answers[2]["details"] == {"influencer_ids": ["INF-W"], "company_ids": []}
    assert "error" not in answers[0] and "error" not in answers[3]
    single = api.call("POST", "/predict/match", 200, token=admin_token, json=PAIR_B)
    assert (
        answers[3]["success_probability"] == (single.get_json()["success_probability"])
    )
    # Only the two known pairs (and the single call) were predicted and logged.
    assert len(logs()) == 3


def test_a_batch_of_only_unknown_ids_is_answered_not_refused(api, admin_token, world):
    pairs = [{"influencer_id": "INF-X", "company_id": "CO-A"}]
    [answer] = api.call(
        "POST", "/predict/match/batch", 200, token=admin_token, json={"pairs": pairs}
    ).get_json()["predictions"]
    assert answer["error"] == "not_found"
    assert logs() == []


def test_a_members_batch_with_a_foreign_unknown_pair_is_refused_whole(api, world):
    """Permission comes before existence: a member cannot probe which ids exist."""
    token = issue_token(world["brand"])
    pairs = [PAIR_A, {"influencer_id": "INF-X", "company_id": "CO-Y"}]
    response = api.call(
        "POST", "/predict/match/batch", 403, token=token, json={"pairs": pairs}
    )
    assert response.get_json()["details"]["pairs"] == [1]
    assert logs() == []


def test_recommendations_take_the_pages_filters(api, admin_token, world):
    inf_a, inf_b = world["influencers"]
    inf_b.followers, inf_b.rate_per_post, inf_b.country = 90_000, 1500.0, "GB"
    db.session.commit()

    def ids(query: str) -> list[str]:
        answer = api.call(
            "GET", f"/recommendations?company_id=CO-B&{query}", 200, token=admin_token
        ).get_json()
        return sorted(r["influencer"]["id"] for r in answer["recommendations"])

    assert ids("limit=20") == ["INF-A", "INF-B"]
    assert ids("min_followers=50000") == ["INF-B"]
    assert ids("max_rate=1000") == ["INF-A"]
    assert ids("country=GB") == ["INF-B"]
    assert ids("niche=fitness&country=US&max_rate=500&min_followers=0") == ["INF-A"]
    assert ids("min_followers=50000&max_rate=1000") == []


@pytest.mark.parametrize(
    ("query", "unknown"),
    [
        ("company_id=CO-X", {"influencer_ids": [], "company_ids": ["CO-X"]}),
        ("influencer_id=INF-X", {"influencer_ids": ["INF-X"], "company_ids": []}),
    ],
)
def test_recommendations_for_an_unknown_id_are_404(
    api, admin_token, world, query, unknown
):
    response = api.call("GET", f"/recommendations?{query}", 404, token=admin_token)
    assert response.get_json()["details"] == unknown


# -- malformed bodies ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{", "malformed_json"),
        (b"", "malformed_json"),
        (b'{"influencer_id": "INF-A", "company_id": "CO-A", "budget": NaN}', None),
        (b'{"influencer_id": "INF-A", "company_id": "CO-A", "budget": Infinity}', None),
        (
            b'{"influencer_id": "INF-A", "company_id": "CO-A", "budget": -Infinity}',
            None,
        ),
        (b"\xff\xfe{}", "malformed_json"),
        (b"[" * 50_000 + b"]" * 50_000, "malformed_json"),
        (b'{"budget": 1' + b"0" * 5000 + b"}", "malformed_json"),
        (b'["INF-A", "CO-A"]', "body_not_object"),
        (b"null", "body_not_object"),
        (b'"text"', "body_not_object"),
    ],
)
def test_bad_json_is_400(api, admin_token, world, raw, error):
    response = send(api, admin_token, "/predict/match", raw, 400)
    assert response.get_json()["error"] == (error or "malformed_json")
    assert logs() == []


def test_nan_is_named_in_the_400(api, admin_token, world):
    raw = b'{"influencer_id": "INF-A", "company_id": "CO-A", "budget": NaN}'
    details = send(api, admin_token, "/predict/match", raw, 400).get_json()["details"]
    assert "NaN" in details


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded"]
)
def test_a_body_that_is_not_declared_json_is_400(api, admin_token, world, content_type):
    raw = json.dumps(PAIR_A).encode()
    response = send(api, admin_token, "/predict/match", raw, 400, content_type)
    assert response.get_json()["error"] == "unsupported_content_type"


def test_a_body_over_max_content_length_is_413(api, admin_token, world, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    raw = json.dumps({"pairs": [PAIR_A] * (limit // 40 + 10)}).encode()
    assert len(raw) > limit
    response = send(api, admin_token, "/predict/match/batch", raw, 413)
    assert response.get_json()["error"] == "payload_too_large"
    assert logs() == []


# -- schema violations ----------------------------------------------------------


def paths_of(response) -> list[str]:
    body = response.get_json()
    assert body["error"] == "validation_failed"
    return [entry["path"] for entry in body["details"]]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"company_id": "CO-A"}, "influencer_id"),
        ({"influencer_id": "INF-A"}, "company_id"),
        ({"influencer_id": 7, "company_id": "CO-A"}, "influencer_id"),
        ({**PAIR_A, "budget": "lots"}, "budget"),
        ({**PAIR_A, "budget": -1}, "budget"),
        ({**PAIR_A, "budget": 1e300}, "budget"),
        ({**PAIR_A, "budget": True}, "budget"),
        ({**PAIR_A, "company_id": ""}, "company_id"),
        ({**PAIR_A, "company_id": "C" * 65}, "company_id"),
        ({**PAIR_A, "extra": 1}, ""),
    ],
)
def test_schema_violations_are_422_with_paths(api, admin_token, world, body, path):
    response = api.call("POST", "/predict/match", 422, token=admin_token, json=body)
    assert path in paths_of(response)


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "pairs"),
        ({"pairs": []}, "pairs"),
        ({"pairs": {"influencer_id": "INF-A"}}, "pairs"),
        ({"pairs": [PAIR_A, {"influencer_id": "INF-A"}]}, "pairs/1/company_id"),
        ({"pairs": [PAIR_A, "INF-A"]}, "pairs/1"),
    ],
)
def test_batch_schema_violations_are_422(api, admin_token, world, body, path):
    response = api.call(
        "POST", "/predict/match/batch", 422, token=admin_token, json=body
    )
    assert path in paths_of(response)


def test_a_batch_over_the_limit_is_422_without_echoing_it(api, admin_token, world, app):
    limit = app.config["API_MAX_BATCH"]
    assert limit == 1000
    body = {"pairs": [PAIR_A] * (limit + 1)}
    response = api.call(
        "POST", "/predict/match/batch", 422, token=admin_token, json=body
    )
    (entry,) = response.get_json()["details"]
    assert entry["path"] == "pairs" and "1001 items" in entry["message"]
    assert len(entry["message"]) < 100
    assert logs() == []
    # Exactly the limit is fine.
    ok = api.call(
        "POST",
        "/predict/match/batch",
        200,
        token=admin_token,
        json={"pairs": [PAIR_A] * limit},
    )
    assert len(ok.get_json()["predictions"]) == limit


def test_many_problems_are_reported_but_capped(api, admin_token, world):
    body = {"pairs": [{"influencer_id": i} for i in range(200)]}
    response = api.call(
        "POST", "/predict/match/batch", 422, token=admin_token, json=body
    )
    assert 1 < len(response.get_json()["details"]) <= 40


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("company_id=CO-A&limit=0", "limit"),
        ("company_id=CO-A&limit=101", "limit"),
        ("company_id=CO-A&limit=ten", "limit"),
        ("company_id=CO-A&limit=2.5", "limit"),
        ("company_id=CO-A&budget=-5", "budget"),
        ("company_id=CO-A&budget=nan", "budget"),
        ("company_id=CO-A&budget=inf", "budget"),
        ("", "company_id"),
        ("company_id=CO-A&influencer_id=INF-A", "company_id"),
        ("company_id=", "company_id"),
        ("influencer_id=INF-A&niche=gaming", "niche"),
        ("influencer_id=INF-A&max_rate=10", "max_rate"),
        ("influencer_id=INF-A&min_followers=10", "min_followers"),
        ("company_id=CO-A&niche=knitting", "niche"),
        ("company_id=CO-A&country=XX", "country"),
        ("company_id=CO-A&min_followers=-1", "min_followers"),
        ("company_id=CO-A&min_followers=many", "min_followers"),
        ("company_id=CO-A&max_rate=-3", "max_rate"),
        ("company_id=CO-A&max_rate=nan", "max_rate"),
    ],
)
def test_bad_recommendation_queries_are_422(api, admin_token, world, query, path):
    response = api.call("GET", f"/recommendations?{query}", 422, token=admin_token)
    assert path in paths_of(response)
    assert logs() == []


def test_limit_bounds_are_accepted(api, admin_token, world):
    for limit in (1, 100):
        api.call(
            "GET",
            f"/recommendations?influencer_id=INF-A&limit={limit}",
            200,
            token=admin_token,
        )

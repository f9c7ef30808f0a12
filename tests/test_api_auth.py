"""API authentication and permissions: bearer tokens, revocation, roles, own pairs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from api_support import ApiClient, issue_token, rate_limited

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import ApiToken

ADMIN_ROUTES = [
    ("POST", "/train", {"json": {"type": "match_success"}}),
    ("GET", "/runs/1", {}),
    ("GET", "/models", {}),
    ("GET", "/models/match_success", {}),
]
PAIR_A = {"influencer_id": "INF-A", "company_id": "CO-A"}
PAIR_B = {"influencer_id": "INF-B", "company_id": "CO-B"}


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"],
)
def test_a_call_without_a_bearer_token_is_401_with_a_challenge(api, world, header):
    headers = {"Authorization": header} if header is not None else {}
    response = api.call("GET", "/health", 401, headers=headers)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("token", ["ml_not-a-real-token", "x" * 5000])
def test_an_unknown_token_is_401_invalid_token(api, world, token):
    response = api.call("GET", "/health", 401, token=token)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.get_json()["error"] == "invalid_token"


def test_a_revoked_token_is_refused(api, world, redis):
    token = issue_token(world["admin"])
    api.call("GET", "/health", 200, token=token)
    row = ApiToken.find_active(token)
    row.revoked_at = utcnow()
    db.session.commit()
    response = api.call("GET", "/health", 401, token=token)
    assert response.get_json()["error"] == "invalid_token"


def test_the_scheme_is_case_insensitive(api, world, redis):
    token = issue_token(world["loner"])
    api.call("GET", "/health", 200, headers={"Authorization": f"bearer {token}"})


def test_token_is_stored_hashed_and_nowhere_in_plain(app, world, api, redis):
    token = issue_token(world["admin"], name="ci")
    api.call("GET", "/health", 200, token=token)
    row = ApiToken.find_active(token)
    assert row.token_hash == ApiToken.hash(token) != token
    assert token.startswith(row.prefix) and len(row.prefix) < len(token) // 3
    secret = token[len(row.prefix) :]
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for record in connection.execute(sa.select(table)):
                assert all(secret not in str(value) for value in record)


def test_last_used_is_written_at_most_once_a_minute(api, world, redis):
    token = issue_token(world["admin"])
    row = ApiToken.find_active(token)
    assert row.last_used_at is None
    api.call("GET", "/health", 200, token=token)
    db.session.refresh(row)
    first = row.last_used_at
    assert first is not None
    api.call("GET", "/health", 200, token=token)
    db.session.refresh(row)
    assert row.last_used_at == first
    row.last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    api.call("GET", "/health", 200, token=token)
    db.session.refresh(row)
    assert row.last_used_at > first - timedelta(minutes=2)


def test_api_needs_no_csrf_token_even_when_csrf_is_on(app, world, redis):
    from api_support import sibling_app

    with sibling_app(app, WTF_CSRF_ENABLED=True) as protected:
        api = ApiClient(protected.test_client())
        token = issue_token(world["admin"])
        api.call("POST", "/predict/match", 200, token=token, json=PAIR_A)


def test_a_session_cookie_is_not_a_token(client, auth, world):
    auth.login("admin@example.com")
    api = ApiClient(client)
    api.call("GET", "/models", 401)


@pytest.mark.parametrize(("method", "path", "kwargs"), ADMIN_ROUTES)
@pytest.mark.parametrize("role", ["brand", "creator", "loner"])
def test_members_are_403_on_admin_routes(api, world, redis, method, path, kwargs, role):
    token = issue_token(world[role])
    response = api.call(method, path, 403, token=token, **kwargs)
    assert response.get_json()["error"] == "forbidden"


@pytest.mark.parametrize("role", ["brand", "creator", "loner"])
def test_any_valid_token_may_check_health(api, world, redis, role):
    api.call("GET", "/health", 200, token=issue_token(world[role]))


@pytest.mark.parametrize(
    ("role", "pair", "status"),
    [
        ("brand", PAIR_A, 200),
        ("brand", {"influencer_id": "INF-B", "company_id": "CO-A"}, 200),
        ("brand", {"influencer_id": "INF-A", "company_id": "CO-B"}, 403),
        ("creator", {"influencer_id": "INF-A", "company_id": "CO-B"}, 200),
        ("creator", {"influencer_id": "INF-B", "company_id": "CO-A"}, 403),
        ("loner", PAIR_A, 403),
        ("brand", {"influencer_id": "INF-B", "company_id": "CO-NOPE"}, 403),
    ],
)
def test_members_predict_only_their_own_pairs(api, world, role, pair, status):
    api.call(
        "POST", "/predict/match", status, token=issue_token(world[role]), json=pair
    )


def test_a_batch_with_one_foreign_pair_is_refused_whole(api, world):
    token = issue_token(world["brand"])
    response = api.call(
        "POST",
        "/predict/match/batch",
        403,
        token=token,
        json={"pairs": [PAIR_A, PAIR_B]},
    )
    assert response.get_json()["details"]["pairs"] == [1]


def test_a_member_cannot_probe_which_ids_exist(api, world):
    # A foreign unknown id is 403 like a foreign known one, never 404.
    token = issue_token(world["brand"])
    for company in ("CO-B", "CO-DOES-NOT-EXIST"):
        api.call("GET", f"/recommendations?company_id={company}", 403, token=token)


@pytest.mark.parametrize(
    ("role", "query", "status"),
    [
        ("brand", "company_id=CO-A", 200),
        ("brand", "company_id=CO-B", 403),
        ("brand", "influencer_id=INF-A", 403),
        ("creator", "influencer_id=INF-A", 200),
        ("creator", "influencer_id=INF-B", 403),
        ("creator", "company_id=CO-A", 403),
        ("admin", "influencer_id=INF-B", 200),
    ],
)
def test_members_get_recommendations_for_themselves_only(
    api, world, role, query, status
):
    api.call("GET", f"/recommendations?{query}", status, token=issue_token(world[role]))


def test_api_calls_are_rate_limited_per_token_with_json(app, world, redis):
    with rate_limited(app, "3 per minute") as limited:
        api = ApiClient(limited.test_client(), spec=ApiClient(app.test_client()).spec)
        first, second = issue_token(world["admin"]), issue_token(world["brand"])
        # The limit is shared by every API route.
        api.call("GET", "/health", 200, token=first)
        api.call("GET", "/models", 200, token=first)
        api.call("POST", "/predict/match", 200, token=first, json=PAIR_A)
        blocked = api.call("GET", "/health", 429, token=first)
        assert blocked.get_json()["error"] == "rate_limited"
        assert 1 <= int(blocked.headers["Retry-After"]) <= 61
        # Another token has its own allowance.
        api.call("GET", "/health", 200, token=second)

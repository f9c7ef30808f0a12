"""Rate limits: per token after authentication, per address before it, a batch per pair.

These run one app with in-memory counters; tests/test_stack_faults.py checks
that the same limits hold across the two gunicorn workers of ``flask up``,
whose counters live in the embedded Redis.
"""

from __future__ import annotations

import secrets

import pytest
from api_support import ApiClient, issue_token, rate_limited

from webapp import create_app
from webapp.runtime import embedded_redis

PAIR = {"influencer_id": "INF-A", "company_id": "CO-A"}


@pytest.fixture(autouse=True)
def healthy_limiter():
    """Forget a storage outage one test staged (the limiter is one object per process)."""
    from webapp.extensions import limiter

    yield
    limiter._storage_dead = False


@pytest.fixture
def limited(app):
    with rate_limited(app, "5 per minute") as limited_app:
        yield ApiClient(
            limited_app.test_client(), spec=ApiClient(app.test_client()).spec
        )


def test_random_bearer_strings_share_the_address_bucket(limited, world):
    for status in [401] * 5 + [429] * 3:
        limited.call("GET", "/health", status, token=secrets.token_urlsafe(32))


def test_an_unknown_token_counts_against_the_address_not_a_real_token(limited, world):
    real = issue_token(world["admin"])
    for _ in range(5):
        limited.call("GET", "/health", 401, token="not-a-token")
    limited.call("GET", "/health", 429, token="other-garbage")
    limited.call("GET", "/health", 429)  # no token at all: same address
    limited.call("GET", "/health", 200, token=real)  # the real token has its own


def test_a_batch_costs_one_call_per_pair(limited, world):
    token = issue_token(world["admin"])
    limited.call(
        "POST", "/predict/match/batch", 200, token=token, json={"pairs": [PAIR] * 4}
    )
    limited.call("GET", "/health", 200, token=token)
    limited.call("GET", "/health", 429, token=token)


def test_a_batch_larger_than_what_is_left_is_refused_whole(limited, world):
    token = issue_token(world["admin"])
    limited.call("GET", "/health", 200, token=token)
    limited.call(
        "POST", "/predict/match/batch", 429, token=token, json={"pairs": [PAIR] * 5}
    )
    limited.call("GET", "/health", 200, token=token)  # the refused batch cost nothing


def test_login_attempts_are_limited_per_address(app, world):
    with rate_limited(app) as limited_app:
        limited_app.config["RATELIMIT_LOGIN"] = "3 per minute"
        client = limited_app.test_client()
        statuses = [
            client.post(
                "/auth/login",
                data={"email": "brand@example.com", "password": "wrong"},
                environ_base={"REMOTE_ADDR": "10.9.8.7"},
            ).status_code
            for _ in range(4)
        ]
        assert statuses[:3] != [429] * 3 and statuses[3] == 429
        other = client.post(
            "/auth/login",
            data={"email": "brand@example.com", "password": "wrong"},
            environ_base={"REMOTE_ADDR": "10.9.8.8"},
        )
        assert other.status_code != 429


def test_a_redis_that_is_down_does_not_fail_requests(app, world, tmp_path):
    """Counters fall back to this process's memory while Redis does not answer."""
    keys = ("ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MODEL_DIR")
    broken = create_app(
        {key: app.config[key] for key in keys}
        | {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": f"redis+unix://{tmp_path}/no-redis.sock",
            "RATELIMIT_API": "2 per minute",
        }
    )
    client = broken.test_client()
    token = issue_token(world["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [
        client.get("/api/v1/health", headers=headers).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_counters_live_in_the_shared_redis(app, world, redis_server):
    socket = redis_server.removeprefix("unix://")
    keys = ("ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MODEL_DIR")
    shared = create_app(
        {key: app.config[key] for key in keys}
        | {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": f"redis+unix://{socket}",
            "RATELIMIT_API": "3 per minute",
        }
    )
    client = embedded_redis.client(socket)
    for key in client.scan_iter("*matchloop*"):
        client.delete(key)
    assert shared.config["RATELIMIT_KEY_PREFIX"] == "matchloop"
    token = issue_token(world["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    web = shared.test_client()
    assert [
        web.get("/api/v1/health", headers=headers).status_code for _ in range(4)
    ] == [
        200,
        200,
        200,
        429,
    ]
    keys = list(client.scan_iter("*"))
    assert any(b"api" in key for key in keys), keys

"""The per-process token cache: a cached token costs no query, a revoke is refused at once.

A sibling app on the same database and Redis stands in for another web process:
it has its own cache and learns of changes only through the Redis token counter.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import sqlalchemy as sa
from api_support import ApiClient, issue_token, redis_down, sibling_app

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import ApiToken, User
from webapp.runtime import notices

PAIR_A = {"influencer_id": "INF-A", "company_id": "CO-A"}


@contextmanager
def token_queries():
    """Count the statements that read the api_tokens table while the block runs."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if "api_tokens" in statement:
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)


def revoke(token: str) -> None:
    """Revoke ``token`` through the ORM and commit (as ``flask revoke-token`` does)."""
    ApiToken.find_active(token).revoked_at = utcnow()
    db.session.commit()


def test_a_cached_token_costs_no_query(api, world, redis):
    token = issue_token(world["admin"])
    api.call("GET", "/health", 200, token=token)  # read once, last_used_at written
    api.call("GET", "/health", 200, token=token)  # read again after that write
    with token_queries() as seen:
        for _ in range(3):
            api.call("POST", "/predict/match", 200, token=token, json=PAIR_A)
    assert seen == []


def test_a_revoke_is_refused_at_once_in_the_same_process(api, world, redis):
    token = issue_token(world["brand"])
    api.call("POST", "/predict/match", 200, token=token, json=PAIR_A)
    revoke(token)
    response = api.call("POST", "/predict/match", 401, token=token, json=PAIR_A)
    assert response.get_json()["error"] == "invalid_token"


def test_a_revoke_in_another_process_is_refused_within_the_check_interval(
    app, world, redis
):
    token = issue_token(world["admin"])
    with sibling_app(app) as other:
        web = ApiClient(other.test_client())
        with other.app_context():
            web.call("GET", "/health", 200, token=token)
            web.call("GET", "/health", 200, token=token)  # cached in ``other``
        before = notices.token_generation(app)
        revoke(token)  # in ``app``: ``other`` hears of it through Redis only
        assert notices.token_generation(app) == before + 1
        time.sleep(other.config["API_TOKEN_CHECK_SECONDS"] * 1.5)
        with other.app_context():
            web.call("GET", "/health", 401, token=token)


def test_a_demoted_admin_loses_admin_endpoints_in_every_process(app, world, redis):
    token = issue_token(world["admin"])
    with sibling_app(app) as other:
        web = ApiClient(other.test_client())
        with other.app_context():
            web.call("GET", "/models", 200, token=token)
        user = db.session.get(User, world["admin"].id)
        user.role = "member"
        db.session.commit()
        time.sleep(other.config["API_TOKEN_CHECK_SECONDS"] * 1.5)
        with other.app_context():
            web.call("GET", "/models", 403, token=token)


def test_writing_last_used_announces_nothing(api, app, world, redis):
    token = issue_token(world["admin"])
    api.call("GET", "/health", 200, token=token)
    before = notices.token_generation(app)
    row = ApiToken.find_active(token)
    row.last_used_at = row.last_used_at.replace(year=2000)
    db.session.commit()
    api.call("GET", "/health", 200, token=token)  # writes last_used_at again
    db.session.refresh(row)
    assert row.last_used_at.year > 2000
    assert notices.token_generation(app) == before


def test_an_update_statement_on_tokens_is_announced(api, app, world, redis):
    token = issue_token(world["admin"])
    api.call("GET", "/health", 200, token=token)
    before = notices.token_generation(app)
    db.session.execute(sa.update(ApiToken).values(revoked_at=utcnow()))
    db.session.commit()
    assert notices.token_generation(app) == before + 1
    api.call("GET", "/health", 401, token=token)


def test_a_change_outside_the_session_is_picked_up_within_the_cache_age(
    app, world, redis
):
    token = issue_token(world["admin"])
    with sibling_app(app, API_TOKEN_CACHE_SECONDS=0.3) as other:
        web = ApiClient(other.test_client())
        with other.app_context():
            web.call("GET", "/health", 200, token=token)
            web.call("GET", "/health", 200, token=token)
        with db.engine.begin() as connection:  # raw SQL: no notice is sent
            connection.execute(
                sa.text("UPDATE api_tokens SET revoked_at = :now"), {"now": utcnow()}
            )
        time.sleep(0.4)
        with other.app_context():
            web.call("GET", "/health", 401, token=token)


def test_without_redis_every_call_reads_the_database(app, world, redis):
    token = issue_token(world["admin"])
    with redis_down(app) as other:
        web = ApiClient(other.test_client())
        with other.app_context():
            web.call("POST", "/predict/match", 200, token=token, json=PAIR_A)
            with token_queries() as seen:
                web.call("POST", "/predict/match", 200, token=token, json=PAIR_A)
            assert seen, "without the counter the cache must not be trusted"
        with db.engine.begin() as connection:  # no notice could reach ``other``
            connection.execute(
                sa.text("UPDATE api_tokens SET revoked_at = :now"), {"now": utcnow()}
            )
        with other.app_context():
            web.call("POST", "/predict/match", 401, token=token, json=PAIR_A)

"""Shared fixtures: app, client, runner, auth, redis, and a small marketplace.

The suite runs on SQLite by default and on PostgreSQL with ``--postgres`` (which
reads MATCHLOOP_TEST_DATABASE_URL). The schema is built once per run by the real
Alembic migrations; every test starts from empty tables.
"""

from __future__ import annotations

import functools
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp import create_app
from webapp.extensions import db
from webapp.models import (
    Collaboration,
    Company,
    Influencer,
    Outcome,
    StatusChange,
    User,
)
from webapp.monitoring import snapshots

PASSWORD = "correct-horse-battery"


def pytest_configure(config):
    """Routing watchers off in every app the tests create (and processes they start).

    A test's app lives until garbage collection, and its watcher would go on
    reloading routing from the shared test database and Redis into later tests;
    tests that run real web processes (test_serving_coherence) turn it on.
    """
    os.environ["MATCHLOOP_ROUTING_WATCH"] = "false"


def pytest_addoption(parser):
    parser.addoption(
        "--postgres",
        action="store_true",
        help="run against MATCHLOOP_TEST_DATABASE_URL (PostgreSQL) instead of SQLite",
    )


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> str:
    """Return the test database URL with the migrated schema in place."""
    if request.config.getoption("--postgres"):
        url = os.environ.get("MATCHLOOP_TEST_DATABASE_URL")
        if not url:
            pytest.exit("--postgres needs MATCHLOOP_TEST_DATABASE_URL", returncode=2)
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(
                sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            )
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    instance = tmp_path_factory.mktemp("migrate-instance")
    os.environ["MATCHLOOP_INSTANCE_PATH"] = str(instance)
    app = create_app({"ENV": "testing", "SECRET_KEY": "t", "DATABASE_URL": url})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Start one real (embedded) Redis server for the whole run; yield its URL."""
    from webapp.runtime import embedded_redis

    socket = tmp_path_factory.mktemp("redis") / "redis.sock"
    owner = embedded_redis.start(str(socket))
    yield f"unix://{socket}"
    embedded_redis.stop(owner)


def _empty_all_tables() -> None:
    """Delete every row, children first, so the next test starts clean."""
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(database_url, redis_server, tmp_path, monkeypatch):
    """A fresh app on the migrated test database; tables are emptied afterwards."""
    monkeypatch.setenv("MATCHLOOP_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "MODEL_DIR": str(tmp_path / "models"),
            "PER_PAGE": 10,
            # Tests read the log right after a request (test_prediction_log.py
            # covers the async path).
            "PREDICTION_LOG_FLUSH": "sync",
            # Every match_success training replays Find influencers; a sample of
            # 25 brands keeps that check in each training (test_ranking_quality
            # sets its own limit) without 200 brands' cost in every test.
            "RANKING_EVAL_MAX_BRANDS": 25,
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        # The shared monitoring figures were computed from the rows just emptied.
        snapshots.forget_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def redis(app):
    """The app's Redis connection, emptied before the test."""
    from webapp.runtime import jobs

    connection = jobs.redis_connection(app)
    connection.flushall()
    return connection


class AuthActions:
    """Log in and out through the real login form."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD):
        return self._client.post(
            "/auth/login", data={"email": email, "password": password}
        )

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def api(client):
    """A JSON API client that checks every response against the OpenAPI document."""
    from api_support import ApiClient

    return ApiClient(client)


@pytest.fixture
def admin_token(world):
    """An API token of the world's admin."""
    from api_support import issue_token

    return issue_token(world["admin"])


@pytest.fixture
def make_user(app):
    """Create a user: ``make_user("a@x.io", role="admin", company=company)``."""

    def make(email: str, role: str = "member", **links) -> User:
        user = User(email=email, role=role, **links)
        user.password_hash = _password_hash()
        db.session.add(user)
        db.session.commit()
        return user

    return make


@functools.cache
def _password_hash() -> str:
    """Hash PASSWORD once per run (hashing is deliberately slow)."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD)


def make_influencer(external_id: str, **overrides) -> Influencer:
    """Build an influencer with plausible defaults."""
    values = dict(
        external_id=external_id,
        handle=f"creator_{external_id.lower()}",
        niche="fitness",
        secondary_niches=["wellness"],
        platforms=["instagram"],
        followers=25_000,
        engagement_rate=0.045,
        country="US",
        rate_per_post=400.0,
        joined_on=date(2024, 1, 10),
        posts_per_week=4.0,
        avg_response_hours=6.0,
        content_quality=7.0,
    )
    values.update(overrides)
    return Influencer(**values)


def make_company(external_id: str, **overrides) -> Company:
    """Build a company with plausible defaults."""
    values = dict(
        external_id=external_id,
        name=f"Brand {external_id}",
        industry="fitness",
        target_niches=["fitness", "wellness"],
        country="US",
        target_countries=["US", "CA"],
        budget_per_campaign=5_000.0,
        joined_on=date(2024, 1, 5),
    )
    values.update(overrides)
    return Company(**values)


def add_collaboration(
    external_id: str, influencer, company, proposed_on, status: str = "completed"
) -> Collaboration:
    """Add and return a collaboration in ``status`` (a completed one ends 20 days after proposal)."""
    row = Collaboration(
        external_id=external_id,
        influencer=influencer,
        company=company,
        proposed_on=proposed_on,
        status=status,
        budget=800.0,
        completed_on=proposed_on + timedelta(days=20)
        if status == "completed"
        else None,
    )
    db.session.add(row)
    return row


def add_cancellation(
    of: Collaboration,
    at,
    from_status: str = "accepted",
    action: str = "cancel",
    by=None,
) -> StatusChange:
    """Cancel ``of`` at ``at`` as the lifecycle records it: ``cancelled_at`` and its step.

    ``from_status`` "proposed" with ``action`` "decline" or "withdraw" is a
    proposal that never ran; ``by`` is the acting user (None: nobody recorded).
    """
    of.status, of.cancelled_at = "cancelled", at
    change = StatusChange(
        collaboration=of,
        from_status=from_status,
        status="cancelled",
        action=action,
        actor=by,
        created_at=at,
    )
    db.session.add(change)
    return change


def add_brand_rating(of: Collaboration, rating: int, rated_at, **extra) -> Outcome:
    """Add a brand-side rating through the ORM (the hook adds its first revision)."""
    outcome = Outcome(
        collaboration=of,
        rater_side="company",
        success_rating=rating,
        completion_status="completed",
        would_collaborate_again=rating >= 4,
        rated_at=rated_at,
        **extra,
    )
    db.session.add(outcome)
    return outcome


@pytest.fixture
def signed_in_admin(client, auth, make_user):
    """The test client signed in as a new admin (admin@example.com)."""
    make_user("admin@example.com", role="admin")
    auth.login("admin@example.com")
    return client


@pytest.fixture
def world(app, make_user):
    """Two influencers, two companies, collaborations in every state, and members."""
    inf_a, inf_b = make_influencer("INF-A"), make_influencer("INF-B", niche="gaming")
    co_a, co_b = make_company("CO-A"), make_company("CO-B", industry="gaming")
    db.session.add_all([inf_a, inf_b, co_a, co_b])
    start = date(2025, 3, 1)
    collabs = {}
    for index, status in enumerate(("completed", "cancelled", "active", "proposed")):
        collabs[status] = Collaboration(
            external_id=f"C-A-{status}",
            influencer=inf_a,
            company=co_a,
            proposed_on=start + timedelta(days=index),
            status=status,
            budget=1500.0,
            completed_on=start + timedelta(days=30) if status == "completed" else None,
        )
    collabs["other"] = Collaboration(
        external_id="C-B-completed",
        influencer=inf_b,
        company=co_b,
        proposed_on=start,
        status="completed",
        budget=900.0,
        completed_on=start + timedelta(days=20),
    )
    db.session.add_all(collabs.values())
    db.session.commit()
    return {
        "influencers": (inf_a, inf_b),
        "companies": (co_a, co_b),
        "collaborations": collabs,
        "brand": make_user("brand@example.com", company=co_a),
        "creator": make_user("creator@example.com", influencer=inf_a),
        "admin": make_user("admin@example.com", role="admin"),
        "loner": make_user("loner@example.com"),
    }


def outcome_count() -> int:
    """Return the number of outcome rows."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Outcome))


PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def live_server(app):
    """Serve a CSRF-protected twin of ``app`` (same database) on a free port.

    Yields the base URL. The server runs in a background thread and is stopped
    before ``app`` empties the tables.
    """
    import threading

    from werkzeug.serving import make_server

    keys = ("ENV", "TESTING", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MODEL_DIR")
    live = create_app(
        {key: app.config[key] for key in keys}
        | {"PER_PAGE": app.config["PER_PAGE"], "WTF_CSRF_ENABLED": True}
        | {"RATELIMIT_ENABLED": False}
    )
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()
        with live.app_context():
            db.engine.dispose()


@pytest.fixture
def browser_page(live_server):
    """Yield a Playwright page (system Chromium) whose base URL is the live server."""
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail(
            f"browser tests need Chromium at {chromium} "
            "(apt-get install chromium); Playwright's own browsers are not used"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(base_url=live_server)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()

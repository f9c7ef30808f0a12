"""Routing coherence: a promote reaches every web process within a second.

The multi-process test runs real gunicorn workers on the test database and
the test run's real Redis server; the others run two apps in this process
(two web processes as far as routing is concerned).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest
from api_support import issue_token, sibling_app
from stack_support import PROJECT_ROOT, free_port, wait_for
from training_helpers import seed_small_world, train_version

from webapp.extensions import db
from webapp.models import Company, Influencer
from webapp.registry import versions
from webapp.runtime import notices
from webapp.serving import serving_state

WORKERS = 3


@pytest.fixture
def two_versions(app, redis):
    """A seeded world with v1 active and v2 (another algorithm) a candidate."""
    seed_small_world()
    first = train_version({"algorithm": "logistic_regression", "n_splits": 2})
    second = train_version({"algorithm": "gradient_boosting", "n_splits": 2})
    assert (first.status, second.status) == ("active", "candidate")
    return first, second


def gunicorn_environment(app) -> dict[str, str]:
    """Return the environment of web processes sharing the test's database and Redis."""
    env = dict(os.environ)
    env.update(
        MATCHLOOP_ENV="testing",
        MATCHLOOP_SECRET_KEY="test-secret",
        MATCHLOOP_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MATCHLOOP_REDIS_URL=app.config["REDIS_URL"],
        MATCHLOOP_INSTANCE_PATH=app.instance_path,
        MATCHLOOP_MODEL_DIR=app.config["MODEL_DIR"],
        MATCHLOOP_RATELIMIT_API="1000000 per minute",
        MATCHLOOP_LOG_LEVEL="WARNING",
        # As in production: each worker's watcher notices changes while idle.
        MATCHLOOP_ROUTING_WATCH="true",
    )
    return env


@pytest.fixture
def token(app, make_user):
    """An admin's API token (health and predictions need one)."""
    return issue_token(make_user("coherence-admin@example.com", role="admin"))


@pytest.fixture
def gunicorn(app, token):
    """Start gunicorn with WORKERS sync workers; yield (base URL, worker pids); stop it."""
    port = free_port()
    master = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "--workers", str(WORKERS)),
            *("--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"),
        ],
        cwd=PROJECT_ROOT,
        env=gunicorn_environment(app),
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: health(url, token) is not None, 120, "gunicorn to answer")
        pids = wait_for(
            lambda: (
                {c.pid for c in psutil.Process(master.pid).children()}
                if len(psutil.Process(master.pid).children()) == WORKERS
                else None
            ),
            60,
            "every gunicorn worker",
        )
        yield url, pids
    finally:
        children = psutil.Process(master.pid).children(recursive=True)
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()
        gone, alive = psutil.wait_procs(children, timeout=10)
        for process in alive:
            process.kill()


def health(url: str, token: str) -> dict | None:
    """Return the /api/v1/health body of whichever worker answers, or None."""
    request = urllib.request.Request(
        f"{url}/api/v1/health", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise AssertionError(
            f"health answered {error.code}: {error.read()[:2000]}"
        ) from None
    except OSError:
        return None


def serving_versions(
    url: str, token: str, pids: set[int], version: int, timeout: float
) -> dict[int, float]:
    """Poll health until every worker in ``pids`` serves ``version``.

    Returns {pid: the Unix time that worker says it began serving it}, so the
    figure does not depend on when the poll happened to reach each worker.
    """
    start = time.monotonic()
    switched: dict[int, float] = {}
    while len(switched) < len(pids) and time.monotonic() - start < timeout:
        body = health(url, token)
        if body and body["process"]["serving"]["match_success"] == version:
            switched.setdefault(
                body["process"]["pid"], body["process"]["routing_switched_at"]
            )
    return switched


def predict(url: str, token: str, pair: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/api/v1/predict/match",
        data=json.dumps(pair).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def a_pair() -> dict:
    influencer = db.session.scalars(
        db.select(Influencer).order_by(Influencer.id)
    ).first()
    company = db.session.scalars(db.select(Company).order_by(Company.id)).first()
    return {"influencer_id": influencer.external_id, "company_id": company.external_id}


def test_a_promote_reaches_every_gunicorn_worker_within_a_second(
    app, two_versions, gunicorn, token
):
    first, second = two_versions
    url, pids = gunicorn
    # Every worker has loaded its routing table (v1) before the change.
    assert set(serving_versions(url, token, pids, first.version, 60)) == pids

    promoted_at = time.time()
    versions.promote(second, actor=None, note="coherence", confirm_worse=True)
    # No request reaches any worker for a while: each one's watcher switches it.
    time.sleep(1.5)
    switched = serving_versions(url, token, pids, second.version, 10)
    assert set(switched) == pids, f"workers still on v1: {pids - set(switched)}"
    delays = {pid: at - promoted_at for pid, at in switched.items()}
    assert 0 < max(delays.values()) < 1.0, delays
    print(
        f"promote reached {WORKERS} idle workers in {max(delays.values()) * 1000:.0f} ms"
    )
    answers = [predict(url, token, a_pair()) for _ in range(2 * WORKERS)]
    assert {a["model"]["version"] for a in answers} == {second.version}

    # Under traffic too: the rollback is seen while health is polled throughout.
    rolled_back_at = time.time()
    versions.rollback("match_success", actor=None)
    switched = serving_versions(url, token, pids, first.version, 10)
    delays = {pid: at - rolled_back_at for pid, at in switched.items()}
    assert set(switched) == pids and 0 < max(delays.values()) < 1.0, delays


def test_the_change_is_loaded_beside_the_old_table_then_swapped(app, two_versions):
    first, second = two_versions
    with sibling_app(app, MIN_TRAINING_SAMPLES=50) as other:
        with other.app_context():
            state = serving_state()
            assert state.routing.table().active["match_success"].id == first.id
        versions.promote(second, actor=None, confirm_worse=True)  # "another process"
        with other.app_context():
            # The request that notices the change is answered from the old table at once;
            # the new one is swapped in with its artifact already loaded.
            time.sleep(other.config["ROUTING_CHECK_SECONDS"])
            assert state.routing.table().active["match_success"].id == first.id
            table = wait_for(
                lambda: (
                    (t := state.routing.table()).active["match_success"].id == second.id
                    and t
                ),
                5,
                "the other app to switch",
                every=0.02,
            )
            assert second.sha256 in state.artifacts
            assert table.generation == notices.routing_generation()


def test_with_redis_down_routing_falls_back_to_polling_the_database(
    app, two_versions, client
):
    first, second = two_versions
    with sibling_app(
        app,
        REDIS_URL="unix:///nonexistent-matchloop/redis.sock",
        ROUTING_FALLBACK_SECONDS=0.5,
        MIN_TRAINING_SAMPLES=50,
    ) as cut_off:
        with cut_off.app_context():
            state = serving_state()
            table = state.routing.table()
            assert table.generation is None
            assert table.active["match_success"].id == first.id
        versions.promote(second, actor=None, confirm_worse=True)
        with cut_off.app_context():
            wait_for(
                lambda: state.routing.table().active["match_success"].id == second.id,
                5,
                "the database poll to see the promote",
                every=0.05,
            )


def test_a_rolled_back_transaction_announces_nothing(app, two_versions):
    _, second = two_versions
    before = notices.routing_generation()
    versions._activate(second, actor=None, action="promote", note=None)
    db.session.rollback()
    assert notices.routing_generation() == before
    versions.promote(second, actor=None, confirm_worse=True)
    assert notices.routing_generation() == before + 1


def test_a_lost_counter_is_reseeded_so_no_change_is_missed(app, redis):
    redis.delete(notices.ROUTING_KEY)
    seeded = notices.routing_generation()
    assert seeded is not None and seeded > 0
    assert notices.bump_routing() == seeded + 1

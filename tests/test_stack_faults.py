"""Faults under ``flask up``: a killed worker, a killed Redis, SIGTERM and SIGKILL.

Each test runs the real stack (embedded Redis, RQ worker, scheduler, gunicorn
with two workers) on a free port over its own instance folder, and drives it
with real processes and signals.
"""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager, suppress

import pytest
from stack_support import Stack, stack_processes_by_instance, survivors, wait_for

from webapp import create_app
from webapp.extensions import db
from webapp.models import ModelVersion, TrainingRun
from webapp.runtime import embedded_redis, jobs

pytestmark = [pytest.mark.slow, pytest.mark.queue]
# Long enough to be killed mid-way: every algorithm, time-ordered folds.
SLOW_PARAMS = {"algorithm": "auto", "n_splits": 4, "calibration": "auto"}
# No automatic retraining (the seeded outcomes and activity would trigger one),
# one thread.
QUIET = {
    "RETRAIN_EVERY_N_OUTCOMES": "1000000000",
    "RETRAIN_EVERY_N_ACTIVITY": "1000000000",
    "TRAINING_THREADS": "1",
    "MIN_TRAINING_SAMPLES": "50",
}
FAST_PARAMS = {"algorithm": "logistic_regression", "n_splits": 3, "calibration": "auto"}


@contextmanager
def stack_app(stack: Stack, monkeypatch):
    """Yield an app context on the stack's database and Redis (as a CLI command would)."""
    monkeypatch.setenv("MATCHLOOP_INSTANCE_PATH", str(stack.instance))
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{stack.instance / 'matchloop.sqlite'}",
            "REDIS_URL": f"unix://{stack.redis_socket}",
            "MIN_TRAINING_SAMPLES": 50,
        }
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def prepare(stack: Stack, monkeypatch, collaborations: int = 1200) -> None:
    """Migrate the stack's database and seed a small marketplace into it."""
    from flask_migrate import upgrade

    from webapp.marketplace import demo

    with stack_app(stack, monkeypatch) as app:
        upgrade(directory=app.extensions["migrate"].directory)
        demo.seed_world(
            n_influencers=150,
            n_companies=20,
            n_collaborations=collaborations,
            seed=3,
            progress=lambda fraction, stage: None,
        )


def run_state(stack: Stack, monkeypatch, run_id: int) -> tuple[str, float, str | None]:
    """Return (status, progress, error) of a training run, read fresh."""
    with stack_app(stack, monkeypatch):
        run = db.session.get(TrainingRun, run_id)
        return run.status, run.progress, run.error


def start_run(stack: Stack, monkeypatch, params: dict) -> int:
    """Queue a training run on the stack, as ``flask train`` does; return its id."""
    from webapp.learning import training_runs

    with stack_app(stack, monkeypatch):
        return training_runs.start_training("match_success", params, trigger="cli").id


def versions_of(stack: Stack, monkeypatch) -> list[tuple[int, int | None]]:
    """Return (version, run id) of every registered version."""
    with stack_app(stack, monkeypatch):
        rows = db.session.scalars(db.select(ModelVersion)).all()
        return [(row.version, row.run_id) for row in rows]


def work_horse(worker) -> object:
    """Return the RQ work horse (the worker's forked child) while it runs a job."""
    return wait_for(lambda: (worker.children() or [None])[0], 60, "the work horse")


def test_a_killed_worker_and_a_killed_redis_are_restarted_and_ctrl_c_stops_all(
    tmp_path, monkeypatch
):
    stack = Stack(tmp_path / "instance", **QUIET)
    prepare(stack, monkeypatch)
    stack.start()
    try:
        slow = start_run(stack, monkeypatch, SLOW_PARAMS)
        wait_for(lambda: run_state(stack, monkeypatch, slow)[1] >= 0.04, 180, "fitting")
        worker = stack.child("worker")
        horse = work_horse(worker)
        killed_at = time.monotonic()
        worker.send_signal(signal.SIGKILL)

        # The stack keeps serving while the worker is down.
        assert stack.get("/auth/login")[0] == 200
        # The orphaned work horse dies with its worker: nothing keeps training.
        assert survivors([horse], timeout=5) == []
        status, _, error = wait_for(
            lambda: (s := run_state(stack, monkeypatch, slow))[0] == "failed" and s,
            30,
            "the killed run to be failed",
        )
        assert "SIGKILL" in error
        new_worker = wait_for(
            lambda: (c := stack.find("worker")) and c.pid != worker.pid and c,
            30,
            "a restarted worker",
        )
        restarted_after = time.monotonic() - killed_at
        assert restarted_after < 10
        assert "worker (pid" in stack.output() and "restarting in 1 s" in stack.output()

        # Redis killed outright: restarted, and every client reconnects.
        redis_server = stack.child("redis-server")
        redis_server.send_signal(signal.SIGKILL)
        wait_for(
            lambda: (c := stack.find("redis-server")) and c.pid != redis_server.pid,
            30,
            "a restarted Redis",
        )
        wait_for(lambda: embedded_redis.is_running(stack.redis_socket), 30, "Redis")
        assert stack.get("/auth/login")[0] == 200
        with stack_app(stack, monkeypatch):
            wait_for(lambda: jobs.worker_count() == 1, 90, "the worker to re-register")

        # The restarted worker, on the restarted Redis, trains the next run.
        fast = start_run(stack, monkeypatch, FAST_PARAMS)
        wait_for(
            lambda: run_state(stack, monkeypatch, fast)[0] in ("succeeded", "failed"),
            300,
            "the next run",
        )
        assert run_state(stack, monkeypatch, fast)[0] == "succeeded"
        # The killed run never became succeeded and registered nothing.
        assert run_state(stack, monkeypatch, slow)[0] == "failed"
        assert versions_of(stack, monkeypatch) == [(1, fast)]
        assert new_worker.is_running()
    finally:
        processes = stack.tree()
        took = stack.stop(signal.SIGINT)
    assert stack.process.returncode == 0, stack.output()[-3000:]
    assert took < 10, f"Ctrl-C took {took:.1f} s"
    assert survivors(processes, timeout=1) == []
    assert stack_processes_by_instance(stack.instance) == []
    assert not embedded_redis.is_running(stack.redis_socket)


def sleep_job(stack: Stack, monkeypatch, seconds: int = 120) -> None:
    """Give the worker a job that keeps its work horse busy for ``seconds``."""
    with stack_app(stack, monkeypatch):
        jobs.enqueue("time.sleep", seconds, job_id="sleep", timeout=seconds + 60)


def add_admin_with_tokens(stack: Stack, monkeypatch, count: int) -> list[str]:
    """Create an admin and ``count`` API tokens of theirs; return the plain tokens."""
    from conftest import PASSWORD

    from webapp.models import ApiToken, User

    with stack_app(stack, monkeypatch):
        admin = User(email="admin@example.com", role="admin")
        admin.set_password(PASSWORD)
        db.session.add(admin)
        tokens = [ApiToken.issue(admin, f"t{n}")[1] for n in range(count)]
        db.session.commit()
        return tokens


def login_statuses(stack: Stack, attempts: int) -> list[int]:
    """Post ``attempts`` wrong logins, each on a new connection; return the statuses."""
    import re
    import urllib.request

    with urllib.request.urlopen(stack.url + "/auth/login", timeout=10) as response:
        page = response.read().decode()
        cookie = response.headers["Set-Cookie"].split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = f"csrf_token={token}&email=admin%40example.com&password=wrong".encode()
    statuses = []
    for _ in range(attempts):
        status, _ = stack.request(
            "/auth/login",
            body,
            {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        statuses.append(status)
    return statuses


def chunked_post(stack: Stack, path: str, token: str | None = None) -> int:
    """POST 3 MiB with chunked transfer encoding; return the status."""
    import http.client

    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    chunks = (b"[" if n == 0 else b" " * 65536 for n in range(48))
    try:
        # The server may answer before reading it all: then read that answer.
        with suppress(BrokenPipeError, ConnectionResetError):
            connection.request(
                "POST", path, body=chunks, headers=headers, encode_chunked=True
            )
        return connection.getresponse().status
    except (ConnectionError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def api_statuses(stack: Stack, tokens: list[str], path: str = "/api/v1/health"):
    """GET ``path`` once per token, each on a new connection; return the statuses."""
    return [
        stack.get(path, {"Authorization": f"Bearer {token}"})[0] for token in tokens
    ]


def test_limits_hold_across_web_processes_and_sigterm_stops_a_busy_stack(
    tmp_path, monkeypatch
):
    import json
    import secrets

    stack = Stack(tmp_path / "instance", RATELIMIT_API="30 per minute", **QUIET)
    home = tmp_path / "home"
    home.mkdir()
    stack.env["HOME"] = str(home)
    prepare(stack, monkeypatch, collaborations=200)
    first, second, third = add_admin_with_tokens(stack, monkeypatch, 3)
    stack.start()
    try:
        # The stack keeps its files in instance/, none in the home directory.
        assert (stack.instance / "gunicorn.ctl").exists()
        assert list(home.iterdir()) == []
        # A chunked body over MAX_CONTENT_LENGTH is a 413, through real gunicorn.
        assert chunked_post(stack, "/api/v1/predict/match", third) == 413
        assert chunked_post(stack, "/auth/login") == 413
        # 25 login attempts on new connections, over two gunicorn workers: 10 answers.
        statuses = login_statuses(stack, 25)
        answered = statuses.index(429)
        assert answered == 10, statuses
        assert set(statuses[answered:]) == {429}
        # 40 API calls with one token: the limit of 30 holds across both workers.
        statuses = api_statuses(stack, [first] * 40)
        assert statuses == [200] * 30 + [429] * 10, statuses
        # 40 random bearer strings share their address's bucket.
        statuses = api_statuses(stack, [secrets.token_urlsafe(32) for _ in range(40)])
        assert statuses == [401] * 30 + [429] * 10, statuses
        # A batch of 25 pairs costs 25 calls: 5 are left.
        with stack_app(stack, monkeypatch):
            from webapp.models import Company, Influencer

            influencer = db.session.scalars(db.select(Influencer.external_id)).first()
            company = db.session.scalars(db.select(Company.external_id)).first()
        pair = {"influencer_id": influencer, "company_id": company}
        status, _ = stack.request(
            "/api/v1/predict/match/batch",
            json.dumps({"pairs": [pair] * 25}).encode(),
            {"Authorization": f"Bearer {second}", "Content-Type": "application/json"},
        )
        assert status == 200
        assert api_statuses(stack, [second] * 7) == [200] * 5 + [429] * 2
        # The counters are in the stack's Redis, not in a web process.
        keys = list(embedded_redis.client(stack.redis_socket).scan_iter("*matchloop*"))
        assert any(b"login" in key for key in keys) and any(
            b"api" in key for key in keys
        )

        # SIGTERM while the worker is busy: everything stops within 10 s.
        sleep_job(stack, monkeypatch)
        work_horse(stack.child("worker"))
    finally:
        processes = stack.tree()
        took = stack.stop(signal.SIGTERM)
    assert stack.process.returncode == 0, stack.output()[-3000:]
    assert took < 10, f"SIGTERM took {took:.1f} s"
    assert survivors(processes, timeout=1) == []
    assert stack_processes_by_instance(stack.instance) == []


def test_no_child_outlives_a_supervisor_killed_with_sigkill(tmp_path, monkeypatch):
    from flask_migrate import upgrade

    stack = Stack(tmp_path / "instance", **QUIET)
    with stack_app(stack, monkeypatch) as app:
        upgrade(directory=app.extensions["migrate"].directory)
    stack.start()
    sleep_job(stack, monkeypatch)
    horse = work_horse(stack.child("worker"))
    processes = stack.tree()
    assert (
        horse in processes and len(processes) >= 6
    )  # redis, worker+horse, cron, web+2
    stack.process.send_signal(signal.SIGKILL)
    stack.process.wait(timeout=10)
    assert survivors(processes, timeout=10) == []
    assert stack_processes_by_instance(stack.instance) == []
    assert not embedded_redis.is_running(stack.redis_socket)

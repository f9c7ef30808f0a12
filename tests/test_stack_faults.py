"""Faults under ``flask up``: a killed worker, a killed Redis, SIGTERM and SIGKILL.

Each test runs the real stack (embedded Redis, RQ worker, scheduler, gunicorn
with two workers) on a free port over its own instance folder, and drives it
with real processes and signals.
"""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager

import pytest
from stack_support import Stack, stack_processes_by_instance, survivors, wait_for

from webapp import create_app
from webapp.extensions import db
from webapp.models import ModelVersion, TrainingRun
from webapp.runtime import embedded_redis, jobs

pytestmark = [pytest.mark.slow, pytest.mark.queue]
# Long enough to be killed mid-way: every algorithm, time-ordered folds.
SLOW_PARAMS = {"algorithm": "auto", "n_splits": 4, "calibration": "auto"}
# No automatic retraining (the seeded outcomes would trigger one), one thread.
QUIET = {
    "RETRAIN_EVERY_N_OUTCOMES": "1000000000",
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


def test_a_killed_worker_and_a_killed_redis_are_restarted_and_sigterm_stops_all(
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
        took = stack.stop(signal.SIGTERM)
    assert stack.process.returncode == 0, stack.output()[-3000:]
    assert took < 10, f"SIGTERM took {took:.1f} s"
    assert survivors(processes, timeout=1) == []
    assert stack_processes_by_instance(stack.instance) == []
    assert not embedded_redis.is_running(stack.redis_socket)

"""Running RQ workers and the cron scheduler inside the Flask app context."""

from __future__ import annotations

import logging
import os

from flask import current_app

from webapp.extensions import db
from webapp.runtime import jobs, processes


def run_worker(
    queues: tuple[str, ...] | None = None, burst: bool = False, name: str | None = None
) -> bool:
    """Work on ``queues`` until stopped, or until empty with ``burst``."""
    logging.basicConfig(level=current_app.config["LOG_LEVEL"])
    # RQ forks a work horse per job; pooled connections must not cross the fork.
    engine = db.engine
    engine.dispose()
    main_pid = os.getpid()
    os.register_at_fork(after_in_child=lambda: _prepare_work_horse(engine, main_pid))
    worker = jobs.make_worker(queues or jobs.QUEUES, name=name)
    return worker.work(burst=burst, logging_level=current_app.config["LOG_LEVEL"])


def _prepare_work_horse(engine, main_pid: int) -> None:
    """Set up a freshly forked work horse: its own connections, and die with the worker.

    RQ puts the horse in its own process group, so signals to the worker's group
    miss it; without a parent-death signal a SIGKILL of the worker would leave
    the horse running a job that is no longer its own.
    """
    engine.dispose(close=False)
    processes.die_with(main_pid)


def run_scheduler() -> None:
    """Enqueue the periodic jobs of workers.scheduled on their intervals."""
    from workers.scheduled import periodic_jobs

    logging.basicConfig(level=current_app.config["LOG_LEVEL"])
    scheduler = jobs.make_scheduler(periodic_jobs(current_app.config))
    scheduler.start()

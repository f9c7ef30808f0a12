"""Running RQ workers and the cron scheduler inside the Flask app context."""

from __future__ import annotations

import logging
import os

from flask import current_app

from webapp.extensions import db
from webapp.runtime import jobs


def run_worker(
    queues: tuple[str, ...] | None = None, burst: bool = False, name: str | None = None
) -> bool:
    """Work on ``queues`` until stopped, or until empty with ``burst``."""
    logging.basicConfig(level=current_app.config["LOG_LEVEL"])
    # RQ forks a work horse per job; pooled connections must not cross the fork.
    engine = db.engine
    engine.dispose()
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    worker = jobs.make_worker(queues or jobs.QUEUES, name=name)
    return worker.work(burst=burst, logging_level=current_app.config["LOG_LEVEL"])


def run_scheduler() -> None:
    """Enqueue the periodic jobs of workers.scheduled on their intervals."""
    from workers.scheduled import periodic_jobs

    logging.basicConfig(level=current_app.config["LOG_LEVEL"])
    scheduler = jobs.make_scheduler(periodic_jobs(current_app.config))
    scheduler.start()

"""Queue runtime commands: ``worker``, ``scheduler`` and ``up``."""

from __future__ import annotations

import logging
import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


def local_url() -> str:
    """Return the URL ``flask up`` serves on here: PORT (as ``make run`` sets it) or 5000."""
    port = os.environ.get("PORT", "").strip()
    return f"http://{DEFAULT_HOST}:{port if port.isdigit() else DEFAULT_PORT}"


def exit_now(code: int) -> None:
    """Exit at once once the work is stopped, skipping interpreter teardown.

    Tearing down scikit-learn, NumPy and SQLAlchemy modules takes seconds on a
    busy machine, and nothing is left to clean up: logs are flushed, children
    stopped, connections closed by the OS. This keeps ``flask up`` within its
    10 s stop.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="Queue to listen on (repeatable; default all).",
)
@click.option("--name", default=None, help="Worker name shown in monitoring.")
@with_appcontext
def worker_command(burst, queues, name) -> None:
    """Run an RQ worker inside the app (training and maintenance jobs)."""
    from webapp.runtime import worker

    worker.run_worker(queues=tuple(queues) or None, burst=burst, name=name)
    exit_now(0)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the RQ cron scheduler that enqueues the periodic jobs."""
    from webapp.runtime import worker

    worker.run_scheduler()
    exit_now(0)


@click.command("up")
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option(
    "--port", envvar="PORT", default=DEFAULT_PORT, show_default=True, type=int
)
@with_appcontext
def up_command(host, port) -> None:
    """Start embedded Redis, a worker, the scheduler and the web server; Ctrl-C stops."""
    from webapp.marketplace import accounts
    from webapp.runtime import devstack

    logins = accounts.demo_logins()
    banner = ["  Demo logins:", *logins] if logins else []
    code = devstack.run(
        current_app._get_current_object(), host=host, port=port, banner=banner
    )
    exit_now(code)

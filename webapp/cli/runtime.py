"""Queue runtime commands: ``worker``, ``scheduler`` and ``up``."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.marketplace.accounts import DEMO_ADMIN, DEMO_MEMBER


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


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the RQ cron scheduler that enqueues the periodic jobs."""
    from webapp.runtime import worker

    worker.run_scheduler()


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=5000, show_default=True, type=int)
@with_appcontext
def up_command(host, port) -> None:
    """Start embedded Redis, a worker, the scheduler and the web server; Ctrl-C stops."""
    from webapp.marketplace import accounts
    from webapp.runtime import devstack

    logins = accounts.demo_logins(DEMO_ADMIN, DEMO_MEMBER)
    banner = ["  Demo logins:", *logins] if logins else []
    code = devstack.run(
        current_app._get_current_object(), host=host, port=port, banner=banner
    )
    # Every child is stopped: skip the seconds a loaded machine spends tearing down
    # this interpreter's modules, so SIGTERM stops the stack within its 10 s.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

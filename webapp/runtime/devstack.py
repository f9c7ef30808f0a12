"""``flask up``: the whole stack on one machine, for ``make run``.

Starts the embedded Redis (unless REDIS_URL is set), one RQ worker, the RQ cron
scheduler and gunicorn, each in its own process group, and stops them all
cleanly on Ctrl-C or when any of them dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from flask import Flask

from webapp.runtime import embedded_redis

STOP_GRACE_SECONDS = 15


@dataclass
class Child:
    """One supervised process."""

    name: str
    process: subprocess.Popen


def commands(host: str, port: int) -> dict[str, list[str]]:
    """Return the command line of each supervised process."""
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    return {
        "worker": [*flask, "worker", "--name", f"local-{os.getpid()}"],
        "scheduler": [*flask, "scheduler"],
        "web": [
            sys.executable, "-m", "gunicorn",
            "--bind", f"{host}:{port}",
            "--workers", "2", "--threads", "4",
            "--access-logfile", "-",
            "wsgi:app",
        ],
    }  # fmt: skip


def start_children(host: str, port: int) -> list[Child]:
    """Start every process in its own group so Ctrl-C reaches only us."""
    return [
        Child(name, subprocess.Popen(argv, start_new_session=True))
        for name, argv in commands(host, port).items()
    ]


def stop_children(children: list[Child]) -> None:
    """Ask every child to stop, wait, then kill the stragglers."""
    for child in children:
        if child.process.poll() is None:
            os.killpg(child.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            child.process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            print(f"{child.name} did not stop in time; killing it", file=sys.stderr)
            os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()


def run(app: Flask, host: str, port: int, banner: list[str] | None = None) -> None:
    """Run the stack until Ctrl-C (or SIGTERM), then stop everything in order.

    :param banner: extra lines (e.g. demo logins) printed under the URL.
    """
    owner = None
    if not app.config.get("REDIS_URL"):
        owner = embedded_redis.start(app.config["EMBEDDED_REDIS_SOCKET"])
        print(f"Embedded Redis on {app.config['EMBEDDED_REDIS_SOCKET']}")
    children = start_children(host, port)
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"\n  Matchloop is running at http://{host}:{port}/  (Ctrl-C stops it all)")
    print("\n".join(banner or []) + "\n", flush=True)
    try:
        while not stopping:
            dead = [c for c in children if c.process.poll() is not None]
            if dead:
                names = ", ".join(
                    f"{c.name} (exit {c.process.returncode})" for c in dead
                )
                print(f"Stopping: {names} ended unexpectedly", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        print("Stopping web server, worker and scheduler ...")
        stop_children(children)
        if owner is not None:
            embedded_redis.stop(owner)
        print("Stopped.")

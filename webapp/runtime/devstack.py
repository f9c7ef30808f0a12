"""``flask up``: the whole stack on one machine, for ``make run``.

Runs the embedded Redis (unless REDIS_URL is set), one RQ worker, the RQ cron
scheduler and gunicorn under a :class:`~webapp.runtime.supervisor.Supervisor`:
a child that crashes is restarted with a back-off while the rest keeps
serving; Ctrl-C, SIGTERM or SIGHUP stop everything within about 10 seconds;
every child dies with the supervisor even if it is killed outright. The
stack's files (Redis socket, data and log, gunicorn's control socket) live in
instance/.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from webapp.runtime import embedded_redis
from webapp.runtime.supervisor import Service, StackFailed, Supervisor, say
from workers.scheduled import reap_runs_of_worker

# Seconds the web server, worker and scheduler get to stop (a training job is
# given COLD_AFTER seconds to finish before RQ kills it), then Redis's share.
STOP_GRACE = 6.0
COLD_AFTER = 2.5
REDIS_STOP_GRACE = 2.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def flask_command(*args: str) -> list[str]:
    """Return the command line of a ``flask --app wsgi`` subcommand."""
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def web_command(host: str, port: int, instance: Path) -> list[str]:
    """Return gunicorn's command line, its control socket and temp files in instance/."""
    return [
        sys.executable, "-m", "gunicorn",
        "--config", "python:webapp.runtime.gunicorn_conf",
        "--bind", f"{host}:{port}",
        "--workers", "2", "--threads", "4",
        "--graceful-timeout", "3",
        "--control-socket", str(instance / "gunicorn.ctl"),
        "--worker-tmp-dir", str(instance),
        "--access-logfile", "-",
        "wsgi:app",
    ]  # fmt: skip


def worker_name(start: int) -> str:
    """Return the RQ worker name of the ``start``-th worker process (unique per start)."""
    return f"local-{os.getpid()}-{start}"


def reap_worker(app: Flask, start: int, how: str) -> None:
    """Fail the runs the ended worker was training, so none waits for a dead job."""
    name = worker_name(start)
    try:
        with app.app_context():
            count = reap_runs_of_worker(name, how)
    except (RedisError, SQLAlchemyError) as error:
        say(f"could not check the runs of {name} ({error}); the reaper will")
        return
    if count:
        say(f"marked {count} training run(s) of {name} failed ({how})")


def redis_service(socket_path: str) -> Service:
    """Return the embedded Redis server as a supervised service."""

    def stop(process) -> None:
        embedded_redis.request_shutdown(embedded_redis.client(socket_path))

    return Service(
        "redis",
        lambda start: embedded_redis.server_command(socket_path),
        # SIGTERM lets Redis save its data when the supervisor dies.
        death_signal=signal.SIGTERM,
        ready=lambda process: embedded_redis.wait_until_ready(socket_path),
        stop=stop,
    )


def services(app: Flask, host: str, port: int) -> list[Service]:
    """Return the supervised services, in start order."""
    chosen = []
    if not app.config.get("REDIS_URL"):
        chosen.append(redis_service(app.config["EMBEDDED_REDIS_SOCKET"]))
    return chosen + [
        Service(
            "worker",
            lambda start: flask_command("worker", "--name", worker_name(start)),
            after_exit=lambda start, how: reap_worker(app, start, how),
        ),
        Service("scheduler", lambda start: flask_command("scheduler")),
        Service("web", lambda start: web_command(host, port, Path(app.instance_path))),
    ]


def child_environment(app: Flask) -> dict[str, str]:
    """Return the children's environment: they use the stack's Redis, never start one."""
    env = dict(os.environ)
    if not app.config.get("REDIS_URL"):
        url = f"unix://{app.config['EMBEDDED_REDIS_SOCKET']}"
        env["MATCHLOOP_REDIS_URL"] = url
    if app.config["METRICS_ENABLED"] and "PROMETHEUS_MULTIPROC_DIR" not in env:
        env["PROMETHEUS_MULTIPROC_DIR"] = fresh_metrics_dir(Path(app.instance_path))
    return env


def fresh_metrics_dir(instance: Path) -> str:
    """Return an emptied instance/prometheus, where gunicorn's processes share metrics.

    prometheus_client's multiprocess mode adds up every process's files; files of
    a previous stack would count its processes again.
    """
    directory = instance / "prometheus"
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return str(directory)


def run(app: Flask, host: str, port: int, banner: list[str] | None = None) -> int:
    """Run the stack until Ctrl-C (or SIGTERM), stop everything in order; return the exit code.

    :param banner: extra lines (e.g. demo logins) printed under the URL.
    """
    socket_path = app.config["EMBEDDED_REDIS_SOCKET"]
    embedded = not app.config.get("REDIS_URL")
    if embedded and embedded_redis.is_running(socket_path):
        raise SystemExit(
            f"A Redis server already answers on {socket_path}: is another "
            "`flask up` running on this instance? Stop it first."
        )
    env = child_environment(app)
    supervisor = Supervisor(services(app, host, port), env)
    if embedded:
        # The supervisor reaps runs through the same Redis its children use.
        app.config["REDIS_URL"] = env["MATCHLOOP_REDIS_URL"]
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    for sig in STOP_SIGNALS:
        signal.signal(sig, request_stop)
    failed = None
    try:
        supervisor.start_all()
        if embedded:
            print(f"Embedded Redis on {socket_path}")
        print(
            f"\n  Matchloop is running at http://{host}:{port}/  (Ctrl-C stops it all)"
        )
        print("\n".join(banner or []) + "\n", flush=True)
        supervisor.run(lambda: stopping)
    except StackFailed as error:
        failed = error
        say(str(error))
    finally:
        print("Stopping web server, worker and scheduler ...", flush=True)
        supervisor.stop_all(["web", "worker", "scheduler"], STOP_GRACE, COLD_AFTER)
        supervisor.stop_all(["redis"], REDIS_STOP_GRACE, cold_after=1.5)
        print("Stopped.", flush=True)
    return 0 if failed is None else 1

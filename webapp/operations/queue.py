"""The job queue as rq-dashboard shows it, and an admin's retry, cancel and stop.

Everything goes through rq's own registries and job methods. Training jobs are
tied to a TrainingRun row: a failed one is retried by starting a new run the way
the training page does (the old row stays failed, its history intact), and a
cancelled or stopped one fails its run with the reason, so the row never claims
a job that no longer exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from rq import Worker
from rq.command import send_stop_job_command
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from webapp.extensions import db
from webapp.learning import training_runs
from webapp.models import TrainingRun, User
from webapp.operations import audit
from webapp.runtime import jobs

TRAIN_FUNC = "workers.training.train_model"
# How many jobs of each registry the page lists (newest first).
LIMIT = 50
SECTIONS = ("queued", "started", "failed", "finished")


class QueueUnavailable(RuntimeError):
    """Redis does not answer: the page says so instead of failing."""


class QueueActionError(ValueError):
    """The job cannot take that action (gone, wrong state, its run is busy)."""


@dataclass
class JobRow:
    """One job as the page lists it."""

    id: str
    func: str
    queue: str
    status: str
    purpose: str
    run_id: int | None
    enqueued_at: datetime | None
    ended_at: datetime | None
    worker: str | None
    error: str | None


def purpose(job: Job) -> tuple[str, int | None]:
    """Return what a job is for in words, and its TrainingRun id for a training job."""
    if job.func_name == TRAIN_FUNC and job.args:
        run = db.session.get(TrainingRun, job.args[0])
        if run is None:
            return f"training run {job.args[0]} (gone)", job.args[0]
        return f"training run {run.id}: {run.model_type} ({run.status})", run.id
    short = job.func_name.rsplit(".", 1)[-1].replace("_", " ")
    args = ", ".join(str(arg) for arg in job.args or ())
    return (f"{short} ({args})" if args else short), None


def row(job: Job, queue: str) -> JobRow:
    """Describe ``job`` for the page."""
    text, run_id = purpose(job)
    error = None
    if job.is_failed:
        result = job.latest_result()
        error = (result.exc_string or "")[-600:] if result is not None else None
    return JobRow(
        id=job.id,
        func=job.func_name,
        queue=queue,
        status=job.get_status(refresh=False) or "",
        purpose=text,
        run_id=run_id,
        enqueued_at=job.enqueued_at,
        ended_at=job.ended_at,
        worker=job.worker_name,
        error=error,
    )


def _ids(queue_name: str, section: str) -> list[str]:
    """Return the newest job ids of one queue's ``section``."""
    queue = jobs.get_queue(queue_name)
    if section == "queued":
        return queue.get_job_ids(0, LIMIT)
    registry = {
        "started": queue.started_job_registry,
        "failed": queue.failed_job_registry,
        "finished": queue.finished_job_registry,
    }[section]
    return registry.get_job_ids(0, LIMIT - 1, desc=True)


def snapshot() -> dict[str, Any]:
    """Return the jobs of every queue by section, the counts and the workers online.

    :raises QueueUnavailable: Redis does not answer.
    """
    try:
        connection = jobs.redis_connection()
        sections: dict[str, list[JobRow]] = {name: [] for name in SECTIONS}
        counts: dict[str, dict[str, int]] = {}
        for name in jobs.QUEUES:
            queue = jobs.get_queue(name)
            counts[name] = {
                "queued": queue.count,
                "started": queue.started_job_registry.count,
                "failed": queue.failed_job_registry.count,
                "finished": queue.finished_job_registry.count,
            }
            for section in SECTIONS:
                found = Job.fetch_many(
                    _ids(name, section),
                    connection=connection,
                    serializer=JSONSerializer,
                )
                sections[section] += [row(job, name) for job in found if job]
        workers = [
            {
                "name": worker.name,
                "state": worker.get_state(),
                "queues": ", ".join(worker.queue_names()),
                "job": worker.get_current_job_id(),
                "last_heartbeat": worker.last_heartbeat,
            }
            for worker in Worker.all(connection=connection, serializer=JSONSerializer)
        ]
    except (RedisError, OSError) as error:
        raise QueueUnavailable(
            f"The job queue (Redis) does not answer: {error}"
        ) from None
    return {"sections": sections, "counts": counts, "workers": workers}


def queue_depth() -> dict[str, int]:
    """Return how many jobs wait in each queue (raises RedisError when it is down)."""
    return {name: jobs.get_queue(name).count for name in jobs.QUEUES}


def find(job_id: str) -> Job:
    """Return job ``job_id`` or raise QueueActionError."""
    job = jobs.fetch_job(job_id)
    if job is None:
        raise QueueActionError(f"Job {job_id[:80]} no longer exists.")
    return job


def _training_run(job: Job) -> TrainingRun | None:
    """Return the run a training job trains, or None for another job."""
    if job.func_name != TRAIN_FUNC or not job.args:
        return None
    return db.session.get(TrainingRun, job.args[0])


def retry(job_id: str, actor: User) -> str:
    """Retry a failed job; return a sentence for the admin.

    A training job starts a new run of the same type and parameters (through
    ``start_training``, like the training page); any other job is requeued as is.
    """
    job = find(job_id)
    if job.get_status() != JobStatus.FAILED:
        raise QueueActionError(f"Job {job.id} is {job.get_status()}, not failed.")
    run = _training_run(job)
    if job.func_name == TRAIN_FUNC:
        if run is None or run.status not in ("failed",):
            state = "gone" if run is None else run.status
            raise QueueActionError(
                f"Job {job.id}'s training run is {state}; only a failed run is retried."
            )
        try:
            new = training_runs.start_training(
                run.model_type, dict(run.params), trigger="retry", user=actor
            )
        except training_runs.TrainingBusy as error:
            raise QueueActionError(str(error)) from None
        job.delete()
        details = {"job": job.id, "run": run.id, "new_run": new.id}
        audit.record("queue.retry", "job", job.id, actor, details)
        db.session.commit()
        return (
            f"Started training run {new.id} ({new.model_type}) again as {new.job_id}."
        )
    job.requeue()
    audit.record("queue.retry", "job", job.id, actor, {"func": job.func_name})
    db.session.commit()
    return f"Requeued job {job.id}."


def cancel(job_id: str, actor: User) -> str:
    """Cancel a queued job, stop a running one or delete a failed one; say what was done.

    A training job's run is failed with the reason, as when its job is lost.
    """
    job = find(job_id)
    status = job.get_status()
    run = _training_run(job)
    if status in (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED):
        job.cancel()
        action, verb = "queue.cancel", "Cancelled"
    elif status == JobStatus.STARTED:
        send_stop_job_command(
            jobs.redis_connection(), job.id, serializer=JSONSerializer
        )
        action, verb = "queue.stop", "Stopped"
    elif status == JobStatus.FAILED:
        job.delete()
        action, verb = "queue.delete", "Deleted failed"
    else:
        raise QueueActionError(f"Job {job.id} is {status}; nothing to cancel.")
    details: dict[str, Any] = {"func": job.func_name, "status": str(status)}
    if run is not None:
        details["run"] = run.id
    audit.record(action, "job", job.id, actor, details)
    if run is not None and action != "queue.delete":
        # fail_run commits the audit row with the run's new status.
        training_runs.fail_run(
            run, f"{verb.lower()} from the queue page by {actor.email}"
        )
    else:
        db.session.commit()
    return f"{verb} job {job.id}."

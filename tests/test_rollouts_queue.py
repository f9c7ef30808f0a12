"""The periodic rollout job through the RQ cron scheduler, a real Redis and a real worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rollout_support import TYPE, active_and_candidate
from test_training_queue import run_worker

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import Rollout
from webapp.rollouts import store
from webapp.runtime import jobs
from workers import scheduled

pytestmark = pytest.mark.queue


def test_the_scheduler_enqueues_the_rollout_job_and_a_worker_advances(app, redis):
    active_and_candidate()
    rollout = store.create_rollout(
        {
            "model_type": TYPE,
            "candidate_version": 2,
            "steps": [10, 50, 100],
            "hold_minutes": 30,
            "min_outcomes": 0,
        },
        None,
    )
    store.start(rollout, None)
    rollout.step_started_at = utcnow() - timedelta(minutes=45)
    db.session.commit()
    app.config["ROLLOUT_EVALUATION_INTERVAL"] = 17
    periodic = scheduled.periodic_jobs(app.config)
    entry = next(e for e in periodic if e["func"] is scheduled.evaluate_rollouts)
    assert entry["interval"] == 17
    scheduler = jobs.make_scheduler([entry])
    enqueued = scheduler.enqueue_jobs()
    assert [job.func_name for job in enqueued] == [
        "workers.scheduled.evaluate_rollouts"
    ]
    assert not enqueued[0].args and not enqueued[0].kwargs  # ids only: none needed

    run_worker(app)

    db.session.expire_all()
    moved = db.session.get(Rollout, rollout.id)
    assert (moved.status, moved.current_percent) == ("running", 50)
    assert [e.action for e in moved.events][-1] == "advance"
    assert moved.events[-1].actor_id is None

"""Rollout evidence by unit: brands as clusters, requests not rows, point in time."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from api_support import issue_token
from rollout_support import TYPE, active_and_candidate, serve

from webapp.core.timeutil import utcnow
from webapp.experiments import sequential
from webapp.experiments.stats import RatioMoments, compare_rates
from webapp.extensions import db
from webapp.models import Outcome, PredictionLog
from webapp.rollouts import evaluation, evidence, gates, store
from webapp.rollouts.guardrails import ArmNumbers
from webapp.serving import prediction_log

T0 = datetime(2026, 1, 1, 12, 0)


@pytest.fixture
def versions(app):
    return active_and_candidate()


def started(**changes):
    rollout = store.create_rollout(
        {"model_type": TYPE, "candidate_version": 2, **changes}, None
    )
    store.start(rollout, None)
    return rollout


def back_dated(rollout, hours: float) -> datetime:
    """Move the rollout's start ``hours`` into the past; return the new start."""
    start = utcnow() - timedelta(hours=hours)
    rollout.started_at = rollout.step_started_at = start
    db.session.commit()
    return start


# --- brands as clusters (pure) --------------------------------------------------


def busy_brands(rates) -> ArmNumbers:
    """Five busy brands (200 rated collaborations each) and 30 small ones (5 each)."""
    x = np.r_[np.asarray(rates) * 200, np.tile([0, 1, 2, 3, 4], 6)]
    y = np.r_[np.full(len(rates), 200), np.full(30, 5)]
    requests = RatioMoments.from_units(np.zeros(len(y)), y)
    return ArmNumbers(
        success=RatioMoments.from_units(x, y),
        rating=RatioMoments.from_units(1 + 4 * x, y),
        errors=requests,
    )


def test_a_few_busy_brands_that_happen_to_fail_do_not_roll_back():
    # No arm effect: the candidate drew the busy brands that succeed less.
    candidate = busy_brands([0.10, 0.20, 0.25, 0.30, 0.45])
    baseline = busy_brands([0.20, 0.30, 0.40, 0.45, 0.55])
    arms = {"candidate": candidate, "baseline": baseline}
    schedule = evaluation.Schedule(
        (10.0, 50.0, 100.0), 0, T0, timedelta(minutes=60), 0, 0.05, 0.05, "rollback"
    )
    [decision] = evaluation.decide(schedule, lambda _m: arms, [], T0)
    assert decision.action == "hold"
    success = decision.numbers["guardrails"][0]
    assert success["metric"] == "success_rate" and success["worse_by"] > 0.05
    assert not success["breached"]
    assert decision.numbers["candidate"]["rated_units"] == 35
    # The same outcomes taken as 1,150 independent collaborations an arm breach.
    c, b = candidate.success, baseline.success
    naive = compare_rates(
        int(c.sum_x), int(c.sum_y), int(b.sum_x), int(b.sum_y), 0.05, gates.TUNING
    )
    assert naive.p_value < 0.05


# --- brands as clusters (database) ------------------------------------------------


@pytest.mark.parametrize(("unit", "units"), [("company", 3), ("influencer", 150)])
def test_the_evidence_counts_the_rollouts_units(versions, unit, units):
    rollout = started(steps=[10, 50, 100], unit=unit)
    start = back_dated(rollout, 72)
    at = start + timedelta(minutes=1)
    serve(rollout, "candidate", 150, at, success_every=5, brands=3)
    serve(rollout, "baseline", 150, at, success_every=2, brands=3)
    rated, numbers_at = evidence.numbers_at(rollout)
    found = numbers_at(utcnow())
    assert len(rated) == 150
    candidate = found.realised["candidate"].summary()
    assert (candidate["rated_units"], candidate["outcomes"]) == (units, 150)
    assert candidate["success_rate"] == pytest.approx(0.2)
    assert found.scores["candidate"].expected.units == units
    decisions = evaluation.evaluate_rollout(rollout)
    if unit == "company":
        # 20 % against 50 % on 150 collaborations an arm, but from three brands:
        # three observations, too few to read (sequential needs 30 units an arm).
        assert units < sequential.MIN_UNITS_PER_VARIANT
        assert decisions[0].action != "rollback"
        assert decisions[0].numbers["guardrails"][0]["p_value"] is None
    else:
        assert decisions[0].action == "rollback"
        assert "success_rate" in decisions[0].reason


# --- requests, not rows -----------------------------------------------------------


def log_row(rollout, arm: str, subject: str, request: str | None, fallback: bool):
    return PredictionLog(
        model_type=TYPE,
        version_id=None if fallback else rollout.candidate_version_id,
        fallback=fallback,
        subject=subject,
        score=0.5,
        variant=arm,
        rollout_id=rollout.id,
        request_id=request,
        created_at=rollout.started_at,
    )


def test_a_failed_batch_request_counts_once_for_its_brand(versions):
    rollout = started()
    # One batch of 60 pairs for brand CO-big fell back; 40 brands asked once each.
    db.session.add_all(
        [log_row(rollout, "candidate", "CO-big", "batch-1", True) for _ in range(60)]
        + [
            log_row(rollout, "candidate", f"CO-{n}", f"single-{n}", False)
            for n in range(40)
        ]
        + [log_row(rollout, "baseline", f"CO-b{n}", None, False) for n in range(50)]
    )
    db.session.commit()
    counts = evidence.request_counts(rollout.id, utcnow())
    summary = ArmNumbers(errors=counts["candidate"]).summary()
    assert summary["requests"] == 41 and summary["failed_requests"] == 1
    assert summary["error_rate"] == pytest.approx(1 / 41)  # by rows: 60 of 100
    assert summary["request_units"] == 41
    # Rows logged before request ids existed count a request each.
    assert ArmNumbers(errors=counts["baseline"]).summary()["requests"] == 50


def test_the_rows_of_one_request_share_a_request_id(client, world):
    token = issue_token(world["admin"])
    pairs = [
        {"influencer_id": i, "company_id": c}
        for i in ("INF-A", "INF-B")
        for c in ("CO-A", "CO-B")
    ]
    for _ in range(2):
        response = client.post(
            "/api/v1/predict/match/batch",
            json={"pairs": pairs},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
    rows = db.session.scalars(sa.select(PredictionLog).order_by(PredictionLog.id)).all()
    assert len(rows) == 8
    first, second = {r.request_id for r in rows[:4]}, {r.request_id for r in rows[4:]}
    assert len(first) == len(second) == 1 and first != second
    # Outside a request, one write is one request.
    outside = [
        prediction_log.entry(TYPE, None, "CO-A", "cli", score=0.5) for _ in range(3)
    ]
    prediction_log.write(outside)
    assert len({e["request_id"] for e in outside}) == 1
    assert outside[0]["request_id"] not in first | second


# --- caught-up ticks read the evidence as it stood ----------------------------------


@pytest.mark.parametrize("late", ["edited", "rated"])
def test_a_rating_given_after_a_step_fell_due_does_not_decide_that_step(versions, late):
    rollout = started(steps=[10, 50, 100], hold_minutes=60, min_outcomes=0)
    start = back_dated(rollout, 3)
    due = start + timedelta(minutes=60)
    at = start + timedelta(minutes=1)
    # Before the step fell due the candidate failed where the baseline succeeded
    # half the time: the step did not hold then.
    failed = serve(
        rollout, "candidate", 150, at, 10_000, rated_after=timedelta(minutes=10)
    )
    serve(rollout, "baseline", 150, at, 2, rated_after=timedelta(minutes=10))
    if late == "edited":
        # Later (now, after the due moment) the brands rate them all a success.
        for collaboration in failed:
            outcome = db.session.scalars(
                sa.select(Outcome).where(Outcome.collaboration_id == collaboration.id)
            ).one()
            outcome.success_rating = 5
            outcome.would_collaborate_again = True
    else:
        # Or 600 more candidate collaborations were rated a success after it fell due.
        serve(
            rollout,
            "candidate",
            600,
            at + timedelta(seconds=1),
            1,
            rated_after=timedelta(minutes=90),
        )
    db.session.commit()
    now = utcnow() + timedelta(minutes=1)
    decisions = evaluation.evaluate_rollout(rollout, now)
    # The candidate holds now, so the step advances, but only now: not caught up
    # to the due moment as if the later ratings had been known then.
    assert [d.action for d in decisions] == ["advance"]
    assert decisions[0].at == now and "caught up" not in decisions[0].reason
    rated, numbers_at = evidence.numbers_at(rollout)
    then = numbers_at(due).realised["candidate"].summary()
    assert then["outcomes"] == 150 and then["success_rate"] == pytest.approx(1 / 150)
    checked = gates.check(numbers_at(due), evaluation.Schedule.of(rollout).settings)
    assert "success_rate" in gates.deciding(checked)[0].breaches()

"""Staged rollouts: set-up checks, bucketing, routing precedence, tick decisions."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest
from rollout_support import TYPE, active_and_candidate, serve

from webapp.core.timeutil import utcnow
from webapp.experiments import store as experiment_store
from webapp.experiments.sequential import MIN_UNITS_PER_VARIANT
from webapp.experiments.stats import RatioMoments
from webapp.extensions import db
from webapp.models import Company, Deployment, ModelVersion, Rollout
from webapp.rollouts import bucketing, evaluation, store
from webapp.rollouts.guardrails import ArmNumbers
from webapp.serving import routing
from webapp.serving.state import serving_state


@pytest.fixture
def versions(app):
    return active_and_candidate()


def body(**changes) -> dict:
    return {"model_type": TYPE, "candidate_version": 2, **changes}


def started(**changes) -> Rollout:
    rollout = store.create_rollout(body(**changes), None)
    store.start(rollout, None)
    return rollout


# --- set-up checks -------------------------------------------------------------


def test_a_rollout_is_created_pending_with_defaults_and_a_fixed_seed(versions):
    active, candidate = versions
    rollout = store.create_rollout(body(), None)
    assert rollout.status == "pending"
    assert (rollout.candidate_version_id, rollout.baseline_version_id) == (
        candidate.id,
        active.id,
    )
    assert rollout.steps == [1, 5, 10, 25, 50, 100]
    assert rollout.guardrails == {
        "tolerance": 0.05,
        "alpha": 0.05,
        "prove_before_promoting": False,
    }
    assert rollout.seed.startswith("rollout-")
    assert [event.action for event in rollout.events] == ["create"]


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"candidate_version": 9}, "candidate_version"),
        ({"candidate_version": 1}, "candidate_version"),  # the active one
        ({"baseline_version": 2}, "baseline_version"),
        ({"steps": [5, 1, 100]}, "steps"),
        ({"steps": [1, 50]}, "steps"),
        ({"steps": [float("nan"), 100]}, "steps"),
        ({"steps": 7}, "steps"),
        ({"hold_minutes": -1}, "hold_minutes"),
        ({"hold_minutes": True}, "hold_minutes"),
        ({"guardrails": {"alpha": 0}}, "guardrails/alpha"),
        ({"guardrails": {"tolerance": float("inf")}}, "guardrails/tolerance"),
        (
            {"guardrails": {"prove_before_promoting": "yes"}},
            "guardrails/prove_before_promoting",
        ),
        ({"on_breach": "panic"}, "on_breach"),
        ({"model_type": "nope"}, "model_type"),
    ],
)
def test_bad_set_ups_name_the_field(versions, changes, path):
    with pytest.raises(store.RolloutError) as raised:
        store.create_rollout(body(**changes), None)
    assert path in [p["path"] for p in raised.value.problems]
    assert db.session.scalar(db.select(db.func.count(Rollout.id))) == 0


def test_one_open_rollout_per_type(versions):
    store.create_rollout(body(), None)
    with pytest.raises(store.RolloutError, match="finish it first"):
        store.create_rollout(body(), None)


@pytest.fixture
def admin_api(api, world, admin_token):
    return api


HOSTILE = [
    '{"model_type": "match_success", "candidate_version": 2, "unit": "\\ud800"}',
    '{"model_type": "match_success", "candidate_version": NaN}',
    '{"model_type": "match_success", "candidate_version": 12345678901234567890}',
    '{"model_type": "match_success", "candidate_version": 2, "steps": [1e400, 100]}',
    '{"model_type": "match_success", "candidate_version": 2, "hold_minutes": 1.5}',
    '{"model_type": "match_success", "candidate_version": 2, "guardrails": []}',
    '{"model_type": "match_success", "candidate_version": 2, "extra": 1}',
    '{"model_type": "match_success", "candidate_version": 2, "steps": [1, 1, 100]}',
    "[1, 2]",
    '{"model_type": "match_success"',
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_bodies_are_4xx_with_details(client, versions, world, admin_token, raw):
    response = client.post(
        "/api/v1/rollouts",
        data=raw,
        headers={"Authorization": f"Bearer {admin_token}"},
        content_type="application/json",
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.get_json()["error"]
    assert db.session.scalar(db.select(db.func.count(Rollout.id))) == 0


def test_api_creates_starts_pauses_and_lists(client, versions, world, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}
    created = client.post(
        "/api/v1/rollouts",
        json=body(steps=[10, 50, 100], hold_minutes=5, on_breach="pause"),
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    rollout_id = created.get_json()["id"]
    assert created.get_json()["current_percent"] == 0
    started_ = client.post(f"/api/v1/rollouts/{rollout_id}/start", headers=headers)
    assert started_.get_json()["status"] == "running"
    assert started_.get_json()["current_percent"] == 10
    # N* of the sequential read-outs is fixed at start: every brand it could reach
    # (the world has a few, so the floor of two arms' minimum applies).
    brands = db.session.scalar(db.select(db.func.count(Company.id)))
    tuning = started_.get_json()["guardrails"]["sequential_tuning"]
    assert tuning == max(brands, 2 * MIN_UNITS_PER_VARIANT)
    assert (
        f"tuned for {tuning} company units"
        in started_.get_json()["timeline"][-1]["reason"]
    )
    paused = client.post(f"/api/v1/rollouts/{rollout_id}/pause", headers=headers)
    document = paused.get_json()
    assert document["status"] == "paused"
    assert document["timeline"][-1]["actor"] == "admin@example.com"
    assert "candidate" in document["timeline"][-1]["numbers"]
    again = client.post(f"/api/v1/rollouts/{rollout_id}/pause", headers=headers)
    assert again.status_code == 409
    listed = client.get("/api/v1/rollouts", headers=headers).get_json()
    assert [r["id"] for r in listed["rollouts"]] == [rollout_id]
    assert client.get("/api/v1/rollouts/999", headers=headers).status_code == 404


def test_members_cannot_use_the_rollouts_api(client, versions, world):
    from api_support import issue_token

    token = issue_token(world["brand"])
    response = client.post(
        "/api/v1/rollouts", json=body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403


# --- bucketing -----------------------------------------------------------------


def test_bucketing_is_monotone_in_the_share_and_stable_per_unit():
    units = [f"CO-{n}" for n in range(4000)]
    seed = "rollout-abc"
    previous: set[str] = set()
    for percent in (1, 5, 10, 25, 50, 100):
        admitted = {u for u in units if bucketing.admitted(seed, u, percent / 100)}
        assert previous <= admitted  # a unit in at 5 % stays in at 25 %
        assert len(admitted) > len(previous)
        assert abs(len(admitted) / len(units) - percent / 100) < 0.03
        previous = admitted
    assert all(
        bucketing.admitted(seed, u, 0.3) == bucketing.admitted(seed, u, 0.3)
        for u in units[:50]
    )
    other = {u for u in units if bucketing.admitted("rollout-other", u, 0.25)}
    assert other != {u for u in units if bucketing.admitted(seed, u, 0.25)}


# --- routing precedence ----------------------------------------------------------


def test_experiment_over_rollout_over_active(versions):
    active, candidate = versions
    rollout = started(steps=[50, 100])
    state = serving_state()
    state.clear()
    arms = {}
    for n in range(200):
        chosen = routing.route(
            state.routing.table(), TYPE, f"CO-{n}", "company", state.exposures
        )
        assert chosen.reason == "rollout" and chosen.rollout == rollout.id
        expected = bucketing.arm(rollout.seed, f"CO-{n}", 0.5)
        assert chosen.variant == expected
        assert chosen.version.id == (
            candidate.id if expected == "candidate" else active.id
        )
        arms[chosen.variant] = arms.get(chosen.variant, 0) + 1
    assert set(arms) == {"candidate", "baseline"}
    # The influencer unit is not covered by a company rollout: the active version.
    chosen = routing.route(
        state.routing.table(), TYPE, "INF-1", "influencer", state.exposures
    )
    assert (chosen.reason, chosen.version.id) == ("active", active.id)
    experiment = experiment_store.create_experiment(
        {
            "key": "over-rollout",
            "model_type": TYPE,
            "unit": "company",
            "metric": "acceptance_rate",
            "variants": [
                {"key": "control", "weight": 0.5, "model_version_id": active.id},
                {"key": "treatment", "weight": 0.5, "model_version_id": candidate.id},
            ],
        },
        None,
    )
    experiment_store.start(experiment, None)
    state.clear()
    chosen = routing.route(
        state.routing.table(), TYPE, "CO-1", "company", state.exposures
    )
    assert chosen.reason == "experiment"
    experiment_store.stop(experiment, None)
    store.pause(rollout, None)
    state.clear()
    chosen = routing.route(
        state.routing.table(), TYPE, "CO-1", "company", state.exposures
    )
    assert (chosen.reason, chosen.version.id) == ("active", active.id)


# --- tick decisions (pure) -------------------------------------------------------

T0 = datetime(2026, 1, 1, 12, 0)


def arm(outcomes=0, successes=0, predictions=0, failures=0):
    """An arm whose every outcome and every request comes from a brand of its own."""
    wins = [1] * successes + [0] * (outcomes - successes)
    failed = [1] * failures + [0] * (predictions - failures)
    return ArmNumbers(
        success=RatioMoments.from_rows(range(outcomes), wins),
        rating=RatioMoments.from_rows(range(outcomes), [1 + 4 * w for w in wins]),
        errors=RatioMoments.from_rows(range(predictions), failed),
    )


def schedule(
    index=0,
    hold=60,
    min_outcomes=0,
    on_breach="rollback",
    steps=(1, 5, 10, 25, 50, 100),
):
    return evaluation.Schedule(
        tuple(float(s) for s in steps),
        index,
        T0,
        timedelta(minutes=hold),
        min_outcomes,
        0.05,
        0.05,
        on_breach,
    )


def healthy(_moment):
    return {"candidate": arm(100, 50, 1000), "baseline": arm(100, 50, 1000)}


def harmful(_moment):
    return {"candidate": arm(400, 100, 1000), "baseline": arm(400, 200, 1000)}


def test_a_step_holds_until_its_hold_time_has_passed():
    [decision] = evaluation.decide(schedule(), healthy, [], T0 + timedelta(minutes=30))
    assert decision.action == "hold"
    assert decision.numbers["waiting_for"] == ["hold"]


def test_a_step_advances_when_held_and_healthy():
    [decision] = evaluation.decide(schedule(), healthy, [], T0 + timedelta(minutes=61))
    assert decision.action == "advance"
    assert decision.at == T0 + timedelta(minutes=60)


def test_a_step_waits_for_its_outcomes():
    rated = [T0 + timedelta(minutes=m) for m in (10, 20)]
    now = T0 + timedelta(minutes=90)
    [decision] = evaluation.decide(schedule(min_outcomes=3), healthy, rated, now)
    assert decision.action == "hold" and decision.numbers["waiting_for"] == ["outcomes"]
    rated.append(T0 + timedelta(minutes=80))
    [decision] = evaluation.decide(schedule(min_outcomes=3), healthy, rated, now)
    assert decision.action == "advance"
    assert decision.at == T0 + timedelta(
        minutes=80
    )  # the third outcome came after the hold


def test_missed_ticks_catch_up_several_steps_in_one_pass():
    now = T0 + timedelta(minutes=200)
    decisions = evaluation.decide(schedule(), healthy, [], now)
    assert [d.action for d in decisions] == ["advance", "advance", "advance"]
    assert [d.at for d in decisions] == [
        T0 + timedelta(minutes=m) for m in (60, 120, 180)
    ]
    assert all("caught up" in d.reason for d in decisions)


def test_catch_up_stops_at_a_step_whose_conditions_did_not_hold():
    rated = [T0 + timedelta(minutes=m) for m in (30, 150)]  # one per step only
    now = T0 + timedelta(minutes=300)
    decisions = evaluation.decide(schedule(min_outcomes=1), healthy, rated, now)
    # Step 1 held (60 min, 1 outcome); step 2 from 60 needs an outcome: at 150; the
    # third step from 150 has none rated: it holds there.
    assert [d.action for d in decisions] == ["advance", "advance"]
    assert decisions[1].at == T0 + timedelta(minutes=150)


def test_a_breach_rolls_back_or_pauses_as_configured():
    now = T0 + timedelta(minutes=10)
    [decision] = evaluation.decide(schedule(), harmful, [], now)
    assert decision.action == "rollback" and "success_rate" in decision.reason
    [decision] = evaluation.decide(schedule(on_breach="pause"), harmful, [], now)
    assert decision.action == "pause"
    rates = {g["metric"]: g for g in decision.numbers["guardrails"]}
    assert rates["success_rate"]["breached"] and rates["success_rate"]["p_value"] < 0.05


def test_a_failing_candidate_breaches_the_error_rate():
    def erroring(_moment):
        return {"candidate": arm(0, 0, 1000, 120), "baseline": arm(0, 0, 1000, 2)}

    [decision] = evaluation.decide(schedule(), erroring, [], T0 + timedelta(minutes=5))
    assert decision.action == "rollback" and "error_rate" in decision.reason


def test_advancing_from_the_last_step_but_one_completes():
    [decision] = evaluation.decide(
        schedule(index=4), healthy, [], T0 + timedelta(minutes=61)
    )
    assert decision.action == "complete"


# --- ticks applied to the database ------------------------------------------------


def test_a_healthy_rollout_completes_and_its_candidate_becomes_active(versions):
    active, candidate = versions
    rollout = started(steps=[10, 50, 100], hold_minutes=60, min_outcomes=5)
    start = utcnow() - timedelta(days=3)
    rollout.started_at = rollout.step_started_at = start
    db.session.commit()
    # Two batches rated a day apart: each step gets its own outcomes.
    for day in (0, 1):
        at = start + timedelta(days=day, minutes=1)
        serve(rollout, "candidate", 10, at, success_every=2)
        serve(rollout, "baseline", 20, at, success_every=2)
    decisions = evaluation.evaluate_rollout(rollout)
    assert [d.action for d in decisions] == ["advance", "complete"]
    db.session.expire_all()
    assert rollout.status == "completed" and rollout.current_percent == 100
    assert db.session.get(ModelVersion, candidate.id).status == "active"
    assert db.session.get(ModelVersion, active.id).status == "archived"
    promoted = db.session.scalars(
        db.select(Deployment).where(Deployment.to_version_id == candidate.id)
    ).one()
    assert promoted.action == "promote" and f"rollout {rollout.id}" in promoted.note
    timeline = [event.action for event in rollout.events]
    assert timeline == ["create", "start", "advance", "complete"]
    assert rollout.events[-1].actor_id is None
    assert rollout.events[-1].numbers["candidate"]["outcomes"] == 20


def test_a_harmful_rollout_rolls_back_and_archives_the_candidate(versions):
    active, candidate = versions
    rollout = started(steps=[10, 50, 100])
    start = utcnow() - timedelta(days=3)
    rollout.started_at = rollout.step_started_at = start
    db.session.commit()
    serve(rollout, "candidate", 120, start + timedelta(minutes=1), success_every=5)
    serve(rollout, "baseline", 120, start + timedelta(minutes=1), success_every=2)
    [decision] = evaluation.evaluate_rollout(rollout)
    assert decision.action == "rollback"
    db.session.expire_all()
    assert rollout.status == "rolled_back"
    assert db.session.get(ModelVersion, candidate.id).status == "archived"
    assert db.session.get(ModelVersion, active.id).status == "active"
    numbers = rollout.events[-1].numbers
    assert numbers["candidate"]["success_rate"] == pytest.approx(0.2)
    assert numbers["baseline"]["success_rate"] == pytest.approx(0.5)
    json.dumps(numbers)


def test_a_hold_is_recorded_once_while_it_waits_for_the_same(versions):
    rollout = started(hold_minutes=600)
    for _ in range(3):
        assert [d.action for d in evaluation.evaluate_rollout(rollout)] == ["hold"]
    assert [e.action for e in rollout.events] == ["create", "start", "hold"]


def test_two_ticks_on_one_step_cannot_both_advance(versions):
    rollout = started(hold_minutes=0, min_outcomes=0, steps=[10, 50, 100])
    store.advance(rollout, None)
    # A second tick that read the rollout at step 0 moves only if it is still there.
    with pytest.raises(store.WrongStatus):
        store.move(rollout, ("running",), {"step_index": 1}, "advanced", step_index=0)
    db.session.expire_all()
    assert db.session.get(Rollout, rollout.id).step_index == 1
    assert [e.action for e in rollout.events].count("advance") == 1


def test_a_step_says_when_it_may_meet_its_sample_minimum():
    started = T0
    pace = evaluation.step_pace(started, T0 + timedelta(days=10), 5, 20)
    assert pace["eta_days"] == 30.0 and not pace["stalled"]  # 15 more at 0.5 a day
    assert (
        evaluation.step_pace(started, T0 + timedelta(days=3), 0, 20)["eta_days"] is None
    )
    assert not evaluation.step_pace(started, T0 + timedelta(days=3), 0, 20)["stalled"]
    assert evaluation.step_pace(started, T0 + timedelta(days=14), 0, 20)["stalled"]
    assert (
        evaluation.step_pace(started, T0 + timedelta(days=30), 20, 20)["eta_days"] == 0
    )
    assert not evaluation.step_pace(started, T0 + timedelta(days=30), 0, 0)["stalled"]


def test_a_hold_on_outcomes_says_how_long_they_may_take():
    rated = [T0 + timedelta(days=d) for d in (1, 2)]
    now = T0 + timedelta(days=4)
    [decision] = evaluation.decide(schedule(min_outcomes=6), healthy, rated, now)
    assert decision.action == "hold"
    assert "2 of 6 candidate outcomes rated in this step" in decision.reason
    assert "about 8 more days at this pace" in decision.reason


def proving(index=4):
    """The schedule at its last step but one, with proof required before 100 %."""
    return dataclasses.replace(schedule(index=index), prove=True)


def test_with_proof_required_the_last_step_waits_until_the_candidate_is_shown_no_worse():
    # 100 outcomes an arm, equal success: no breach, yet far from shown no worse.
    [decision] = evaluation.decide(proving(), healthy, [], T0 + timedelta(minutes=61))
    assert decision.action == "hold" and decision.numbers["waiting_for"] == ["proof"]
    assert "must be shown no worse first" in decision.reason
    assert decision.numbers["promotion_proof"]["shown"] is False


def test_with_proof_required_a_clearly_better_candidate_completes():
    def better(_moment):
        return {"candidate": arm(4000, 2800, 4000), "baseline": arm(4000, 2000, 4000)}

    [decision] = evaluation.decide(proving(), better, [], T0 + timedelta(minutes=61))
    assert decision.action == "complete"
    assert "shown no worse: the success rate's lift is at least +" in decision.reason


def test_without_proof_the_same_evidence_completes_the_rollout():
    [decision] = evaluation.decide(
        schedule(index=4), healthy, [], T0 + timedelta(minutes=61)
    )
    assert decision.action == "complete"


def test_earlier_steps_advance_whether_or_not_proof_is_required():
    [decision] = evaluation.decide(
        proving(index=0), healthy, [], T0 + timedelta(minutes=61)
    )
    assert decision.action == "advance"


def test_a_step_a_moment_short_of_its_hold_says_what_it_waits_for():
    # 59.97 minutes rounds to 60.0 in the figures; the sentence must still say why.
    now = T0 + timedelta(minutes=60) - timedelta(seconds=2)
    [decision] = evaluation.decide(schedule(), healthy, [], now)
    assert decision.action == "hold" and decision.numbers["waiting_for"] == ["hold"]
    assert decision.reason.startswith("waiting: held ")


def test_a_step_that_fell_due_since_the_last_tick_is_not_called_caught_up():
    now = T0 + timedelta(minutes=60, seconds=40)  # due at 60 min, one tick later
    [decision] = evaluation.decide(schedule(), healthy, [], now)
    assert decision.action == "advance" and "caught up" not in decision.reason
    later = T0 + timedelta(minutes=65)  # ticks were missed in between
    [decision] = evaluation.decide(schedule(), healthy, [], later)
    assert "caught up after missed ticks" in decision.reason

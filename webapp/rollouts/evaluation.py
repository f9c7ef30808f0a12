"""One tick of a running rollout: advance, hold, or act on a breach.

``decide`` is pure: given the schedule, the times candidate outcomes were
rated and a function that returns the evidence at a moment (``gates.Evidence``,
or just each arm's realised figures), it returns the decisions of this tick. A
breach now on any valid gate (``gates.check``: leading indicators, estimated
performance, realised outcomes) rolls back or pauses, as the rollout says, and
the decision records which gate decided (``numbers["decided_by"]``) with every
gate's numbers (``numbers["gates"]``). Otherwise a step is due at the earliest moment
its hold time has passed and ``min_outcomes`` candidate outcomes were rated
during it; when that moment is in the past and every gate held then (on the
evidence as it stood then: ``numbers_at(moment)`` reads ratings, statuses and
requests as of the moment, never later edits), the step advances as of that
moment, so after missed ticks several steps catch up in one pass, each only if its own conditions held (a step whose guardrails
did not hold when it fell due, but hold now, advances now and ends the pass).
Advancing from the last step but one completes the rollout (the candidate is
promoted). ``evaluate_rollout`` reads the evidence and applies the decisions
through ``store``, each an event with the numbers it was based on.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from webapp.core.timeutil import iso_utc, utcnow
from webapp.models import Rollout
from webapp.registry.versions import RegistryActionError
from webapp.rollouts import evidence, gates, store
from webapp.rollouts.bucketing import BASELINE, CANDIDATE
from webapp.rollouts.guardrails import ArmNumbers

NumbersAt = Callable[[datetime], gates.Evidence | dict[str, ArmNumbers]]


@dataclass(frozen=True)
class Schedule:
    """What a tick needs to know about a running rollout."""

    steps: tuple[float, ...]
    step_index: int
    step_started_at: datetime
    hold: timedelta
    min_outcomes: int
    tolerance: float
    alpha: float
    on_breach: str
    calibration_tolerance: float = gates.DEFAULT_CALIBRATION_TOLERANCE
    kinds: tuple[str, ...] = gates.KINDS
    tuning: float = gates.TUNING
    # The last step waits until the candidate is shown no worse (``gates.shown_no_worse``).
    prove: bool = False
    # How often the job looks: a step that fell due longer ago than this was caught up.
    tick: timedelta = timedelta(seconds=60)

    @classmethod
    def of(cls, rollout: Rollout) -> Schedule:
        """Copy the schedule out of a rollout row."""
        return cls(
            tuple(float(step) for step in rollout.steps),
            rollout.step_index,
            rollout.step_started_at,
            timedelta(minutes=rollout.hold_minutes),
            rollout.min_outcomes,
            float(rollout.guardrails["tolerance"]),
            float(rollout.guardrails["alpha"]),
            rollout.on_breach,
            float(
                rollout.guardrails.get(
                    "calibration_tolerance", gates.DEFAULT_CALIBRATION_TOLERANCE
                )
            ),
            tuning=float(rollout.guardrails.get("sequential_tuning", gates.TUNING)),
            # Rollouts set up before the rule existed keep going ahead without it.
            prove=rollout.guardrails.get("prove_before_promoting") is True,
            tick=timedelta(
                seconds=float(current_app.config["ROLLOUT_EVALUATION_INTERVAL"])
            ),
        )

    @property
    def settings(self) -> gates.Settings:
        """Return the gates' settings."""
        return gates.Settings(
            self.tolerance,
            self.alpha,
            self.calibration_tolerance,
            self.kinds,
            self.tuning,
        )


@dataclass(frozen=True)
class Decision:
    """One decision of a tick: advance, complete, hold, pause or rollback."""

    action: str
    reason: str
    at: datetime
    numbers: dict[str, Any] = field(default_factory=dict)


def ready_at(
    started: datetime, hold: timedelta, min_outcomes: int, rated: list[datetime]
) -> datetime | None:
    """Return when a step started at ``started`` met its hold and sample minimum.

    None while fewer than ``min_outcomes`` candidate outcomes were rated in it
    (after it started: the outcome that completed one step starts the next).
    """
    due = started + hold
    if min_outcomes <= 0:
        return due
    first = bisect_right(rated, started)
    if len(rated) - first < min_outcomes:
        return None
    return max(due, rated[first + min_outcomes - 1])


def step_outcomes(started: datetime, until: datetime, rated: list[datetime]) -> int:
    """Return how many candidate outcomes were rated in (started, until]."""
    return sum(1 for moment in rated if started < moment <= until)


# A step that has held this long without one candidate outcome is called stalled.
STALLED_AFTER = timedelta(days=14)


def step_pace(
    started: datetime, at: datetime, outcomes: int, min_outcomes: int
) -> dict[str, Any]:
    """Return how fast the current step gathers its sample minimum, and when it may meet it.

    ``eta_days`` extrapolates the step's own rate of rated candidate outcomes
    so far (None before the first one); ``stalled`` says the step has held
    ``STALLED_AFTER`` without any, which on a small marketplace means its share
    of units is too small to gather outcomes (advance by hand, or widen the step).
    """
    held = max((at - started).total_seconds(), 0.0) / 86400
    missing = max(min_outcomes - outcomes, 0)
    eta = None
    if missing == 0:
        eta = 0.0
    elif outcomes > 0 and held > 0:
        eta = round(missing * held / outcomes, 1)
    return {
        "held_days": round(held, 2),
        "outcomes": outcomes,
        "needed": min_outcomes,
        "eta_days": eta,
        "stalled": outcomes == 0 and missing > 0 and at - started >= STALLED_AFTER,
    }


def assess(
    schedule: Schedule,
    numbers_at: NumbersAt,
    rated: list[datetime],
    started: datetime,
    at: datetime,
) -> tuple[list[gates.Gate], dict[str, Any]]:
    """Return the gates at ``at`` and the numbers a decision records."""
    found = gates.as_evidence(numbers_at(at))
    checked = gates.check(found, schedule.settings)
    arms = found.realised
    realised = next((g for g in checked if g.kind == "realised"), None)
    breached = gates.deciding(checked)
    outcomes = step_outcomes(started, at, rated)
    numbers = {
        "at": iso_utc(at),
        "step_started_at": iso_utc(started),
        "held_minutes": round((at - started).total_seconds() / 60, 1),
        "hold_minutes": schedule.hold.total_seconds() / 60,
        "step_outcomes": outcomes,
        "min_outcomes": schedule.min_outcomes,
        "pace": step_pace(started, at, outcomes, schedule.min_outcomes),
        "tolerance": schedule.tolerance,
        "alpha": schedule.alpha,
        "candidate": arms[CANDIDATE].summary(),
        "baseline": arms[BASELINE].summary(),
        "guardrails": [g.summary() for g in realised.checked] if realised else [],
        "calibration_tolerance": schedule.calibration_tolerance,
        "gates": {gate.kind: gate.summary() for gate in checked},
        "decided_by": [gate.kind for gate in breached]
        or [gate.kind for gate in checked if gate.valid],
    }
    if schedule.prove:
        shown, detail = gates.shown_no_worse(checked, schedule.tolerance)
        numbers["promotion_proof"] = {"shown": shown, "detail": detail}
    return checked, numbers


def hold_decision(
    schedule: Schedule, numbers: dict[str, Any], started: datetime, now: datetime
) -> Decision:
    """Return the hold decision, saying what the current step waits for."""
    waits, waiting_for = [], []
    if now - started < schedule.hold:
        waiting_for.append("hold")
        waits.append(
            f"held {numbers['held_minutes']:g} of {numbers['hold_minutes']:g} minutes"
        )
    if numbers["step_outcomes"] < schedule.min_outcomes:
        waiting_for.append("outcomes")
        pace = numbers["pace"]
        waits.append(
            f"{numbers['step_outcomes']} of {schedule.min_outcomes} candidate "
            "outcomes rated in this step" + pace_note(pace)
        )
    reason = "waiting: " + "; ".join(waits)
    return Decision("hold", reason, now, {**numbers, "waiting_for": waiting_for})


def proof_decision(proof: str, numbers: dict[str, Any], now: datetime) -> Decision:
    """Return the hold of a last step whose candidate is not yet shown no worse."""
    reason = (
        "waiting to promote: the candidate must be shown no worse first "
        f"(not yet shown: {proof})"
    )
    return Decision("hold", reason, now, {**numbers, "waiting_for": ["proof"]})


def pace_note(pace: dict[str, Any]) -> str:
    """Return ' (about 12 more days at this pace)' or the stalled warning, for a hold."""
    if pace["stalled"]:
        return (
            f" (none in {pace['held_days']:g} days: this step's share of units may be "
            "too small to gather outcomes; advance by hand or widen the step)"
        )
    if pace["eta_days"]:
        return f" (about {pace['eta_days']:g} more days at this pace)"
    return ""


def decide(
    schedule: Schedule, numbers_at: NumbersAt, rated: list[datetime], now: datetime
) -> list[Decision]:
    """Return this tick's decisions for a running rollout (pure given ``numbers_at``)."""
    index, started = schedule.step_index, schedule.step_started_at
    checked, numbers = assess(schedule, numbers_at, rated, started, now)
    breached = gates.deciding(checked)
    if breached:
        verb = "rolled back" if schedule.on_breach == "rollback" else "paused"
        reason = f"guardrail breached on the {gates.breach_reason(breached)}: {verb}"
        return [Decision(schedule.on_breach, reason, now, numbers)]
    decisions: list[Decision] = []
    last = len(schedule.steps) - 1
    while index < last:
        due = ready_at(started, schedule.hold, schedule.min_outcomes, rated)
        if due is None or due > now:
            if not decisions:
                decisions.append(hold_decision(schedule, numbers, started, now))
            break
        checked, step_numbers = assess(schedule, numbers_at, rated, started, due)
        # Fell due before the previous tick could see it: this pass caught it up.
        caught_up = due < now - schedule.tick
        if gates.deciding(checked):
            # The gates did not hold when the step fell due; they hold now.
            due, caught_up = now, False
            _, step_numbers = assess(schedule, numbers_at, rated, started, now)
        action = "complete" if index + 1 == last else "advance"
        proof = ""
        if action == "complete" and schedule.prove:
            if not step_numbers["promotion_proof"]["shown"]:
                # Not shown when the step fell due: perhaps by now.
                _, step_numbers = assess(schedule, numbers_at, rated, started, now)
                due, caught_up = now, False
            shown = step_numbers["promotion_proof"]
            if not shown["shown"]:
                decisions.append(proof_decision(shown["detail"], step_numbers, now))
                break
            proof = f"; shown no worse: {shown['detail']}"
        reason = (
            f"{schedule.steps[index]:g} % held {step_numbers['held_minutes']:g} "
            f"minutes with {step_numbers['step_outcomes']} candidate outcomes and "
            "the guardrails held on every valid gate "
            f"({', '.join(step_numbers['decided_by'])}){proof}"
        ) + (" (caught up after missed ticks)" if caught_up else "")
        decisions.append(Decision(action, reason, due, step_numbers))
        index, started = index + 1, due
    return decisions


def evaluate_rollout(rollout: Rollout, now: datetime | None = None) -> list[Decision]:
    """Decide and apply one tick for a running rollout; return what was applied.

    A decision someone else's move overtook (an admin, a concurrent tick) stops
    the pass: the conditional updates in ``store`` let only one of them apply.
    """
    if rollout.status != "running":
        return []
    now = now or utcnow()
    rated, numbers_at = evidence.numbers_at(rollout)
    applied = []
    for decision in decide(Schedule.of(rollout), numbers_at, rated, now):
        try:
            apply(rollout, decision)
        except (store.WrongStatus, RegistryActionError):
            break
        applied.append(decision)
    return applied


def apply(rollout: Rollout, decision: Decision) -> None:
    """Apply one decision as the periodic job (no actor)."""
    reason, numbers = decision.reason, decision.numbers
    if decision.action in ("advance", "complete"):
        store.advance(rollout, None, reason, numbers, at=decision.at)
    elif decision.action == "rollback":
        store.rollback(rollout, None, reason, numbers)
    elif decision.action == "pause":
        store.pause(rollout, None, reason, numbers)
    else:
        store.note_hold(rollout, reason, numbers)


def changes_routing(decisions: list[Decision]) -> bool:
    """Return whether any decision changed who is served what."""
    return any(decision.action != "hold" for decision in decisions)

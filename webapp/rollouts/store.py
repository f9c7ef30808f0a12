"""Setting rollouts up and moving them through their statuses, each move an event.

``create_rollout`` checks a set-up (the API's body; the admin form builds the
same) and stores it as pending; versions are given by their version numbers of
the model type. ``start``, ``pause``, ``resume``, ``advance`` and ``rollback``
move the status (and the step) with a conditional UPDATE, so two admins, or an
admin and the periodic job, cannot both move the same step. Reaching the last
step (100 %) completes the rollout and promotes the candidate through the
registry; a rollback archives the candidate and leaves the active version alone.
Every move announces a routing change (``webapp.serving.coherence.routing_changed``),
which every web process picks up once the move commits.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select, update

from webapp.core.timeutil import utcnow
from webapp.experiments.sequential import MIN_UNITS_PER_VARIANT
from webapp.experiments.store import pair_types, problem
from webapp.extensions import db
from webapp.models import Company, Influencer, ModelVersion, Rollout, RolloutEvent, User
from webapp.models.rollouts import BREACH_ACTIONS, OPEN_ROLLOUT_STATUSES, ROLLOUT_UNITS
from webapp.operations import audit
from webapp.registry import versions as registry
from webapp.rollouts.gates import DEFAULT_CALIBRATION_TOLERANCE
from webapp.serving.coherence import routing_changed
from webapp.shadow.store import shadowed_minutes

DEFAULT_STEPS = (1, 5, 10, 25, 50, 100)
DEFAULT_HOLD_MINUTES = 60
DEFAULT_MIN_OUTCOMES = 30
DEFAULT_GUARDRAILS = {"tolerance": 0.05, "alpha": 0.05}
# Optional: the calibration error (ECE) the estimated gate allows (``gates``),
# and whether reaching 100 % needs the candidate shown no worse (``gates.shown_no_worse``).
PROVE_KEY = "prove_before_promoting"
GUARDRAIL_KEYS = {*DEFAULT_GUARDRAILS, "calibration_tolerance", PROVE_KEY}
MAX_STEPS = 20
MAX_HOLD_MINUTES = 60 * 24 * 365
MAX_MIN_OUTCOMES = 1_000_000
MAX_VERSION = 2**31 - 1


class RolloutError(ValueError):
    """A set-up or action that cannot be taken; ``problems`` are ``{path, message}``."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['path']}: {p['message']}" for p in problems))
        self.problems = problems


class WrongStatus(ValueError):
    """An action the rollout's status (perhaps just changed) does not allow."""


def is_number(value: Any) -> bool:
    """Return whether ``value`` is a finite int or float (not a bool)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def is_whole(value: Any, low: int, high: int) -> bool:
    """Return whether ``value`` is an integer (not a bool) in ``low..high``."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    )


def find_version(model_type: str, number: Any) -> ModelVersion | None:
    """Return version ``number`` of ``model_type``, or None."""
    if not is_whole(number, 1, MAX_VERSION):
        return None
    return db.session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_type == model_type, ModelVersion.version == number
        )
    )


def check_steps(steps: Any) -> list[dict[str, str]]:
    """Return the problems of a schedule: increasing percentages ending at 100."""
    if not isinstance(steps, list) or not 2 <= len(steps) <= MAX_STEPS:
        return [problem("steps", f"give 2 to {MAX_STEPS} percentages")]
    if not all(is_number(step) and 0 < step <= 100 for step in steps):
        return [problem("steps", "each step is a percentage in (0, 100]")]
    if any(later <= earlier for earlier, later in pairwise(steps)):
        return [problem("steps", "steps must increase strictly")]
    if steps[-1] != 100:
        return [problem("steps", "the last step is 100 (the candidate for everyone)")]
    return []


def check_guardrails(guardrails: Any) -> list[dict[str, str]]:
    """Return the problems of ``{"tolerance", "alpha", "calibration_tolerance", PROVE_KEY}``."""
    if not isinstance(guardrails, Mapping) or set(guardrails) - GUARDRAIL_KEYS:
        return [
            problem(
                "guardrails",
                f"give {{tolerance, alpha, calibration_tolerance, {PROVE_KEY}}}",
            )
        ]
    found = []
    if not isinstance(guardrails.get(PROVE_KEY, False), bool):
        found.append(problem(f"guardrails/{PROVE_KEY}", "true or false"))
    tolerance = guardrails.get("tolerance", DEFAULT_GUARDRAILS["tolerance"])
    if not is_number(tolerance) or not 0 <= tolerance <= 1:
        found.append(problem("guardrails/tolerance", "the tolerance lies in 0..1"))
    alpha = guardrails.get("alpha", DEFAULT_GUARDRAILS["alpha"])
    if not is_number(alpha) or not 0 < alpha <= 0.5:
        found.append(
            problem("guardrails/alpha", "the significance level lies in (0, 0.5]")
        )
    calibration = guardrails.get("calibration_tolerance", DEFAULT_CALIBRATION_TOLERANCE)
    if not is_number(calibration) or not 0 < calibration <= 1:
        found.append(
            problem(
                "guardrails/calibration_tolerance",
                "the calibration error allowed lies in (0, 1]",
            )
        )
    return found


def check_versions(data: Mapping[str, Any], model_type: str) -> list[dict[str, str]]:
    """Return the problems of the candidate and baseline version numbers."""
    found = []
    candidate = find_version(model_type, data.get("candidate_version"))
    if candidate is None:
        found.append(
            problem("candidate_version", f"give a version number of {model_type}")
        )
    elif candidate.status != "candidate":
        found.append(
            problem(
                "candidate_version",
                f"{candidate.label} is {candidate.status}; roll out a candidate",
            )
        )
    if data.get("baseline_version") is None:
        if registry.active_version(model_type) is None:
            found.append(
                problem("baseline_version", f"{model_type} has no active version")
            )
        return found
    baseline = find_version(model_type, data.get("baseline_version"))
    if baseline is None:
        found.append(
            problem("baseline_version", f"give a version number of {model_type}")
        )
    elif candidate is not None and baseline.id == candidate.id:
        found.append(problem("baseline_version", "the baseline is another version"))
    return found


def open_rollout(model_type: str) -> Rollout | None:
    """Return the pending, running or paused rollout of ``model_type``, if any."""
    return db.session.scalar(
        select(Rollout)
        .where(
            Rollout.model_type == model_type,
            Rollout.status.in_(OPEN_ROLLOUT_STATUSES),
        )
        .limit(1)
    )


def check_setup(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return every problem of a rollout set-up (empty when it can be stored)."""
    model_type = data.get("model_type")
    if model_type not in pair_types():
        return [problem("model_type", f"choose one of {', '.join(pair_types())}")]
    found = check_versions(data, model_type)
    if data.get("unit", "company") not in ROLLOUT_UNITS:
        found.append(problem("unit", "choose company or influencer"))
    found += check_steps(data.get("steps", list(DEFAULT_STEPS)))
    if not is_whole(
        data.get("hold_minutes", DEFAULT_HOLD_MINUTES), 0, MAX_HOLD_MINUTES
    ):
        found.append(
            problem("hold_minutes", f"a whole number of minutes, 0..{MAX_HOLD_MINUTES}")
        )
    if not is_whole(
        data.get("min_outcomes", DEFAULT_MIN_OUTCOMES), 0, MAX_MIN_OUTCOMES
    ):
        found.append(problem("min_outcomes", f"a whole number, 0..{MAX_MIN_OUTCOMES}"))
    found += check_guardrails(data.get("guardrails", DEFAULT_GUARDRAILS))
    if data.get("on_breach", "rollback") not in BREACH_ACTIONS:
        found.append(problem("on_breach", "choose rollback or pause"))
    shadow = data.get("shadow_minutes")
    if shadow is not None and not is_whole(shadow, 0, MAX_HOLD_MINUTES):
        found.append(
            problem(
                "shadow_minutes", f"a whole number of minutes, 0..{MAX_HOLD_MINUTES}"
            )
        )
    existing = open_rollout(model_type)
    if existing is not None:
        found.append(
            problem(
                "model_type",
                f"rollout {existing.id} of {model_type} is {existing.status}; "
                "finish it first",
            )
        )
    return found


def record(
    rollout: Rollout,
    action: str,
    actor: User | None,
    reason: str = "",
    numbers: dict[str, Any] | None = None,
    from_percent: float | None = None,
    to_percent: float | None = None,
) -> RolloutEvent:
    """Add an event to ``rollout``'s timeline (not committed)."""
    event = RolloutEvent(
        rollout=rollout,
        action=action,
        actor_id=actor.id if actor else None,
        reason=reason[:2000],
        numbers=numbers or {},
        from_percent=from_percent,
        to_percent=to_percent,
        created_at=utcnow(),
    )
    db.session.add(event)
    if actor is not None:
        # An admin's hand; the periodic job's decisions live in the timeline.
        audit.record(
            f"rollout.{action}",
            "rollout",
            rollout.id,
            actor,
            {"reason": event.reason, "from": from_percent, "to": to_percent},
        )
    return event


def create_rollout(data: Mapping[str, Any], actor: User | None) -> Rollout:
    """Check and store a set-up as a pending rollout; commit.

    :raises RolloutError: with every problem found.
    """
    problems = check_setup(data)
    if problems:
        raise RolloutError(problems)
    model_type = data["model_type"]
    candidate = find_version(model_type, data["candidate_version"])
    if data.get("baseline_version") is None:
        baseline = registry.active_version(model_type)
    else:
        baseline = find_version(model_type, data["baseline_version"])
    guardrails = {
        **DEFAULT_GUARDRAILS,
        PROVE_KEY: False,
        **dict(data.get("guardrails") or {}),
    }
    rollout = Rollout(
        model_type=model_type,
        candidate_version_id=candidate.id,
        baseline_version_id=baseline.id,
        unit=data.get("unit", "company"),
        steps=[float(step) for step in data.get("steps", DEFAULT_STEPS)],
        step_index=0,
        hold_minutes=int(data.get("hold_minutes", DEFAULT_HOLD_MINUTES)),
        min_outcomes=int(data.get("min_outcomes", DEFAULT_MIN_OUTCOMES)),
        guardrails={
            key: value if isinstance(value, bool) else float(value)
            for key, value in guardrails.items()
        },
        on_breach=data.get("on_breach", "rollback"),
        shadow_minutes=data.get("shadow_minutes"),
        status="pending",
        seed=f"rollout-{secrets.token_hex(8)}",
        created_by_id=actor.id if actor else None,
    )
    db.session.add(rollout)
    record(
        rollout,
        "create",
        actor,
        f"{candidate.label} against {baseline.label} on {rollout.unit} units",
        {"steps": rollout.steps, "guardrails": rollout.guardrails},
    )
    db.session.commit()
    return rollout


def move(
    rollout: Rollout,
    sources: tuple[str, ...],
    values: dict[str, Any],
    verb: str,
    step_index: int | None = None,
) -> None:
    """Apply ``values`` if the status is in ``sources`` (and the step is ``step_index``).

    Not committed on success (the caller adds its event and commits).

    :raises WrongStatus: someone moved the rollout first; nothing is written.
    """
    query = update(Rollout).where(Rollout.id == rollout.id, Rollout.status.in_(sources))
    if step_index is not None:
        query = query.where(Rollout.step_index == step_index)
    applied = db.session.execute(
        query.values(**values).execution_options(synchronize_session=False)
    )
    if applied.rowcount != 1:
        db.session.rollback()
        db.session.refresh(rollout)
        raise WrongStatus(
            f"Rollout {rollout.id} is {rollout.status} at "
            f"{rollout.current_percent:g} %, so it cannot be {verb}."
        )
    routing_changed()


def finish(rollout: Rollout) -> None:
    """Commit and reload ``rollout`` after a move."""
    db.session.commit()
    db.session.refresh(rollout)


def check_shadowed(rollout: Rollout, now: datetime) -> None:
    """Raise WrongStatus unless the candidate shadowed the minutes the rollout asks."""
    if not rollout.shadow_minutes:
        return
    done = shadowed_minutes(rollout.candidate_version_id, now)
    if done < rollout.shadow_minutes:
        raise WrongStatus(
            f"Rollout {rollout.id} needs {rollout.candidate.label} shadowed for "
            f"{rollout.shadow_minutes} minutes first; it has shadowed "
            f"{done:.0f}. Start shadowing it on its model page."
        )


def reachable_units(unit: str) -> int:
    """Return how many units a rollout by ``unit`` could ever admit (every one listed).

    It is the N* of the rollout's sequential read-outs, fixed when it starts.
    """
    model = {"company": Company, "influencer": Influencer}[unit]
    listed = db.session.scalar(select(func.count()).select_from(model)) or 0
    return max(int(listed), 2 * MIN_UNITS_PER_VARIANT)


def start(rollout: Rollout, actor: User | None) -> None:
    """Start a pending rollout at its first step (after its shadow period, if any).

    The sequential read-outs are tuned, once, for the units it could reach.

    :raises WrongStatus: not pending, or the candidate has not shadowed long enough.
    """
    now = utcnow()
    check_shadowed(rollout, now)
    tuning = reachable_units(rollout.unit)
    move(
        rollout,
        ("pending",),
        {
            "status": "running",
            "started_at": now,
            "step_started_at": now,
            "guardrails": {**rollout.guardrails, "sequential_tuning": tuning},
        },
        "started",
    )
    first = rollout.steps[0]
    note = f"started at {first:g} %; read-outs tuned for {tuning} {rollout.unit} units"
    record(rollout, "start", actor, note, to_percent=first)
    finish(rollout)


def pause(
    rollout: Rollout,
    actor: User | None,
    reason: str = "",
    numbers: dict[str, Any] | None = None,
) -> None:
    """Pause a running rollout: every unit is served the baseline until it resumes."""
    percent = rollout.current_percent
    move(rollout, ("running",), {"status": "paused"}, "paused")
    record(rollout, "pause", actor, reason or "paused", numbers, percent, percent)
    finish(rollout)


def resume(rollout: Rollout, actor: User | None) -> None:
    """Resume a paused rollout; its current step's hold starts again."""
    move(
        rollout,
        ("paused",),
        {"status": "running", "step_started_at": utcnow()},
        "resumed",
    )
    percent = rollout.current_percent
    record(
        rollout, "resume", actor, "resumed", from_percent=percent, to_percent=percent
    )
    finish(rollout)


def history_note(rollout: Rollout) -> str:
    """Return the rollout's history as a deployment note."""
    steps = " → ".join(f"{step:g}" for step in rollout.steps)
    return (
        f"rollout {rollout.id}: {steps} % on {rollout.unit} units against "
        f"{rollout.baseline.label}, started {rollout.started_at:%Y-%m-%d %H:%M} UTC"
    )


def advance(
    rollout: Rollout,
    actor: User | None,
    reason: str = "",
    numbers: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Move a running rollout to its next step; the last one completes it.

    :param at: when the step's conditions held (a caught-up step), default now.
    :raises WrongStatus: the rollout is not running, or someone moved it first.
    :raises registry.RegistryActionError: the candidate cannot be promoted (the
        rollout is then paused, with the reason in its timeline).
    """
    index, before = rollout.step_index, rollout.current_percent
    if rollout.status != "running":
        raise WrongStatus(
            f"Rollout {rollout.id} is {rollout.status}; it cannot advance."
        )
    if index + 1 >= len(rollout.steps) - 1:
        complete(rollout, actor, reason, numbers)
        return
    move(
        rollout,
        ("running",),
        {"step_index": index + 1, "step_started_at": at or utcnow()},
        "advanced",
        step_index=index,
    )
    after = float(rollout.steps[index + 1])
    record(rollout, "advance", actor, reason or "advanced", numbers, before, after)
    finish(rollout)


def complete(
    rollout: Rollout,
    actor: User | None,
    reason: str = "",
    numbers: dict[str, Any] | None = None,
) -> None:
    """Promote the candidate with the rollout's history and complete the rollout."""
    index, before = rollout.step_index, rollout.current_percent
    move(
        rollout,
        ("running",),
        {"status": "completed", "finished_at": utcnow()},
        "completed",
        step_index=index,
    )
    candidate = rollout.candidate
    try:
        if candidate.status != "active":
            registry.promote(
                candidate, actor, note=history_note(rollout), confirm_worse=True
            )
    except registry.RegistryActionError as error:
        # The registry may have committed the refused artifact's reason (and so
        # the move): put the rollout on hold at its step, visibly.
        db.session.rollback()
        db.session.execute(
            update(Rollout)
            .where(Rollout.id == rollout.id)
            .values(status="paused", finished_at=None)
            .execution_options(synchronize_session=False)
        )
        record(
            rollout, "pause", actor, f"cannot promote: {error}", numbers, before, before
        )
        finish(rollout)
        raise
    record(rollout, "complete", actor, reason or "completed", numbers, before, 100.0)
    finish(rollout)


def rollback(
    rollout: Rollout,
    actor: User | None,
    reason: str = "",
    numbers: dict[str, Any] | None = None,
) -> None:
    """End a running or paused rollout: the candidate is archived, the baseline serves."""
    before = rollout.current_percent
    move(
        rollout,
        ("running", "paused"),
        {"status": "rolled_back", "finished_at": utcnow()},
        "rolled back",
    )
    record(rollout, "rollback", actor, reason or "rolled back", numbers, before, 0.0)
    db.session.flush()
    candidate = rollout.candidate
    if candidate.status == "candidate":
        registry.archive(candidate, actor, note=f"rolled back: {history_note(rollout)}")
    finish(rollout)


def note_hold(rollout: Rollout, reason: str, numbers: dict[str, Any]) -> bool:
    """Record that the job holds the step, unless it last said the same; commit.

    A tick every minute would otherwise fill the timeline with the same
    sentence: a hold is recorded when what the step waits for changes.
    """
    last = rollout.events[-1] if rollout.events else None
    same = (
        last is not None
        and last.action == "hold"
        and (last.numbers or {}).get("waiting_for") == numbers.get("waiting_for")
    )
    if same:
        return False
    percent = rollout.current_percent
    record(rollout, "hold", None, reason, numbers, percent, percent)
    db.session.commit()
    return True


def by_id(rollout_id: int) -> Rollout | None:
    """Return rollout ``rollout_id``, or None."""
    return db.session.get(Rollout, rollout_id)

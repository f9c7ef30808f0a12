"""An admin's hand on a rollout (page button or API): each move records the numbers.

The timeline entry of a manual pause, resume, advance or rollback carries who
did it and the evidence as it stood, the same numbers the periodic job reads.
"""

from __future__ import annotations

from webapp.core.timeutil import utcnow
from webapp.models import Rollout, User
from webapp.rollouts import evaluation, evidence, store

ACTIONS = ("start", "pause", "resume", "advance", "rollback")


def current_numbers(rollout: Rollout) -> dict:
    """Return the rollout's evidence now (empty before it started)."""
    if rollout.started_at is None or rollout.step_started_at is None:
        return {}
    now = utcnow()
    rated, numbers_at = evidence.numbers_at(rollout)
    schedule = evaluation.Schedule.of(rollout)
    _, numbers = evaluation.assess(
        schedule, numbers_at, rated, rollout.step_started_at, now
    )
    return numbers


def take(rollout: Rollout, action: str, actor: User) -> None:
    """Take ``action`` on ``rollout`` by hand, recording ``actor``.

    :raises store.WrongStatus: the status does not allow it.
    :raises RegistryActionError: completing could not promote the candidate.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown rollout action {action!r}")
    if action == "start":
        store.start(rollout, actor)
    elif action == "resume":
        store.resume(rollout, actor)
    elif action == "pause":
        store.pause(rollout, actor, "paused by hand", current_numbers(rollout))
    elif action == "advance":
        store.advance(rollout, actor, "advanced by hand", current_numbers(rollout))
    else:
        store.rollback(rollout, actor, "rolled back by hand", current_numbers(rollout))

"""A collaboration's lifecycle: who may move it from which status to which, and how.

The rules are the ``TRANSITIONS`` table; the pages and the JSON API both call
:func:`transition`, so they cannot disagree.

- The *proposer's side* is ``Collaboration.proposer_side``: the side of the
  member who proposed it on the match pages; imported, seeded and
  admin-proposed collaborations count as proposed by the brand.
- The other side (the *invitee*) accepts or declines a proposal; the proposer
  withdraws it while it is still proposed. Declining and withdrawing end the
  collaboration as ``cancelled`` (action ``decline`` or ``withdraw``), so the
  learning loop sees a proposal that never ran as a non-success at that moment.
- Either side starts an accepted collaboration, completes an active one
  (``completed_on``, today unless given) or cancels an accepted or active one
  with a reason (``cancelled_at``, ``cancel_reason``).
- Admins see every collaboration and may cancel (with a reason) to settle a
  dispute; the parties' own promises (accept, decline, withdraw, start,
  complete) are theirs alone.

Every transition is one conditional ``UPDATE ... WHERE status = <expected>``
plus a ``StatusChange`` row in the same transaction: of two simultaneous
transitions only one applies, the other gets :class:`WrongStatus`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import update

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import Collaboration, StatusChange, User

PROPOSER, INVITEE, EITHER = "proposer", "invitee", "either"
REASON_MAX_LENGTH = 500


@dataclass(frozen=True)
class Transition:
    """One allowed move: from which statuses, to which, by whom."""

    action: str
    sources: tuple[str, ...]
    target: str
    party: str  # PROPOSER, INVITEE or EITHER
    title: str  # the button
    done: str  # the flash after it
    admins: bool = False  # admins may do it too
    needs_reason: bool = False
    default_reason: str | None = None  # cancel_reason when no note is given


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", ("proposed",), "accepted", INVITEE, "Accept", "accepted"),
        Transition(
            "decline",
            ("proposed",),
            "cancelled",
            INVITEE,
            "Decline",
            "declined",
            default_reason="Declined",
        ),
        Transition(
            "withdraw",
            ("proposed",),
            "cancelled",
            PROPOSER,
            "Withdraw",
            "withdrawn",
            default_reason="Withdrawn",
        ),
        Transition("start", ("accepted",), "active", EITHER, "Start", "started"),
        Transition(
            "complete", ("active",), "completed", EITHER, "Mark completed", "completed"
        ),
        Transition(
            "cancel",
            ("accepted", "active"),
            "cancelled",
            EITHER,
            "Cancel",
            "cancelled",
            admins=True,
            needs_reason=True,
        ),
    )
}
ACTIONS: tuple[str, ...] = tuple(TRANSITIONS)
# Actions that end a collaboration before it ever ran: not asked to be rated.
UNSTARTED_ENDINGS: tuple[str, ...] = ("decline", "withdraw")


class TransitionError(Exception):
    """A transition was refused; ``str()`` is the message for the user."""


class NotAllowed(TransitionError):
    """The user may not take this action on this collaboration (403)."""


class WrongStatus(TransitionError):
    """The collaboration's status does not allow the action (409)."""


class InvalidInput(TransitionError):
    """The reason or date given with the action is not acceptable (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def side_in(user: User, influencer_id: int, company_id: int) -> str | None:
    """Return the side ``user`` acts for in a pair of these ids, or None."""
    if user.company_id is not None and user.company_id == company_id:
        return "company"
    if user.influencer_id is not None and user.influencer_id == influencer_id:
        return "influencer"
    return None


def side_of(user: User, collaboration: Collaboration) -> str | None:
    """Return the side ``user`` acts for in ``collaboration``, or None."""
    return side_in(user, collaboration.influencer_id, collaboration.company_id)


def may_take(user: User, collaboration: Collaboration, action: str) -> bool:
    """True when ``user``'s part in ``collaboration`` allows ``action`` (any status)."""
    rule = TRANSITIONS[action]
    if user.is_admin:
        return rule.admins
    side = side_of(user, collaboration)
    if side is None:
        return False
    if rule.party == EITHER:
        return True
    is_proposer = side == collaboration.proposer_side
    return is_proposer if rule.party == PROPOSER else not is_proposer


def available(user: User, collaboration: Collaboration) -> list[Transition]:
    """Return the transitions ``user`` may take now, in table order."""
    return [
        rule
        for rule in TRANSITIONS.values()
        if collaboration.status in rule.sources
        and may_take(user, collaboration, rule.action)
    ]


def check(user: User, collaboration: Collaboration, action: str) -> Transition:
    """Return the rule for ``action`` or raise why ``user`` may not take it now."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise NotAllowed(f"There is no action {action!r}.")
    if not may_take(user, collaboration, action):
        raise NotAllowed(refusal(user, collaboration, rule))
    if collaboration.status not in rule.sources:
        raise WrongStatus(
            f"The collaboration is {collaboration.status}, so it cannot be "
            f"{rule.done}: only {' or '.join(rule.sources)} ones can."
        )
    return rule


def refusal(user: User, collaboration: Collaboration, rule: Transition) -> str:
    """Return why ``user`` may not take ``rule``'s action."""
    if user.is_admin:
        return f"Admins may only cancel collaborations, not {rule.action} them."
    if side_of(user, collaboration) is None:
        return "This collaboration is not yours."
    if rule.party == INVITEE:
        return f"Only the side that was invited can {rule.action} a proposal."
    return f"Only the side that proposed can {rule.action} it."


def clean_reason(rule: Transition, note: str | None) -> str | None:
    """Return the trimmed note, required for cancellations; raise InvalidInput."""
    text = (note or "").strip() or None
    if text is not None and len(text) > REASON_MAX_LENGTH:
        raise InvalidInput(
            "note", f"Keep the reason under {REASON_MAX_LENGTH} characters."
        )
    if rule.needs_reason and text is None:
        raise InvalidInput("note", "Say why the collaboration is cancelled.")
    return text


def clean_completed_on(collaboration: Collaboration, day: date | None) -> date:
    """Return the completion day (today by default) between proposal and today."""
    today = utcnow().date()
    day = day or today
    if day > today:
        raise InvalidInput(
            "completed_on", "The completion date cannot be in the future."
        )
    if day < collaboration.proposed_on:
        raise InvalidInput(
            "completed_on",
            f"The completion date cannot be before the proposal "
            f"({collaboration.proposed_on.isoformat()}).",
        )
    return day


def transition(
    collaboration: Collaboration,
    action: str,
    user: User,
    note: str | None = None,
    completed_on: date | None = None,
) -> StatusChange:
    """Take ``action`` on ``collaboration`` as ``user``; commit; return the history row.

    :raises NotAllowed: the user's part does not allow the action.
    :raises WrongStatus: the status (possibly just changed by someone else) does
        not allow it; nothing is written.
    :raises InvalidInput: a cancellation without reason, a bad completion date.
    """
    rule = check(user, collaboration, action)
    reason = clean_reason(rule, note)
    now = utcnow()
    values: dict[str, object] = {"status": rule.target}
    if rule.target == "completed":
        values["completed_on"] = clean_completed_on(collaboration, completed_on)
    if rule.target == "cancelled":
        values["cancelled_at"] = now
        values["cancel_reason"] = reason or rule.default_reason
    expected = collaboration.status
    applied = db.session.execute(
        update(Collaboration)
        .where(Collaboration.id == collaboration.id, Collaboration.status == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if applied.rowcount != 1:
        db.session.rollback()
        db.session.refresh(collaboration)
        raise WrongStatus(
            f"Someone changed this collaboration a moment ago: it is now "
            f"{collaboration.status}, so it cannot be {rule.done}."
        )
    change = StatusChange(
        collaboration_id=collaboration.id,
        from_status=expected,
        status=rule.target,
        action=action,
        actor_id=user.id,
        note=reason,
        created_at=now,
    )
    db.session.add(change)
    db.session.commit()
    db.session.refresh(collaboration)
    return change


def record_proposal(collaboration: Collaboration, user: User | None) -> StatusChange:
    """Add the first history row of a new collaboration (not committed)."""
    change = StatusChange(
        collaboration=collaboration,
        from_status=None,
        status=collaboration.status,
        action="propose",
        actor_id=user.id if user else None,
        created_at=utcnow(),
    )
    db.session.add(change)
    return change

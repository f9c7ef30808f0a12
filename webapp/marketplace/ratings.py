"""Recording outcome ratings: one place for the form, the API and the importer rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import Collaboration, Outcome, User


class NotRatable(Exception):
    """The user may not rate this collaboration (not theirs, or not finished)."""


def collaborations_of(user: User):
    """Return a select of the collaborations ``user`` takes part in, newest first."""
    query = db.select(Collaboration)
    if user.influencer_id is not None:
        query = query.where(Collaboration.influencer_id == user.influencer_id)
    elif user.company_id is not None:
        query = query.where(Collaboration.company_id == user.company_id)
    else:
        query = query.where(db.false())
    return query.order_by(Collaboration.proposed_on.desc(), Collaboration.id.desc())


def is_party(user: User, collaboration: Collaboration) -> bool:
    """True when ``user`` acts for one side of ``collaboration``."""
    return (
        user.influencer_id is not None
        and user.influencer_id == collaboration.influencer_id
    ) or (user.company_id is not None and user.company_id == collaboration.company_id)


def save_outcome(
    collaboration: Collaboration, user: User, data: dict[str, Any]
) -> Outcome:
    """Create or update ``user``'s side's rating of ``collaboration`` and commit it.

    The side comes from the user's link, never from the submitted data.
    """
    if not is_party(user, collaboration):
        raise NotRatable("This collaboration is not yours.")
    if not collaboration.is_finished:
        raise NotRatable("Only completed or cancelled collaborations can be rated.")
    side = user.side
    outcome = collaboration.outcome_for(side)
    if outcome is None:
        outcome = Outcome(
            collaboration=collaboration, rater_side=side, rated_at=utcnow()
        )
        db.session.add(outcome)
    fill_outcome(outcome, user, data)
    try:
        db.session.commit()
    except IntegrityError:
        # A concurrent submission (a double click) inserted this side's rating
        # between our lookup and our insert: update that row instead.
        db.session.rollback()
        outcome = db.session.scalar(
            db.select(Outcome).where(
                Outcome.collaboration_id == collaboration.id,
                Outcome.rater_side == side,
            )
        )
        if outcome is None:
            raise
        fill_outcome(outcome, user, data)
        db.session.commit()
    return outcome


def fill_outcome(outcome: Outcome, user: User, data: dict[str, Any]) -> None:
    """Copy the submitted rating fields onto ``outcome``."""
    outcome.rated_by = user
    outcome.success_rating = int(data["success_rating"])
    outcome.completion_status = data["completion_status"]
    roi = data.get("roi_achieved")
    outcome.roi_achieved = None if roi is None else float(roi)
    outcome.would_collaborate_again = bool(data["would_collaborate_again"])
    outcome.success_factors = list(data.get("success_factors") or [])
    outcome.feedback = (data.get("feedback") or "").strip() or None

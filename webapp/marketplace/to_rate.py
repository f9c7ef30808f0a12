"""The "To rate" queue: finished collaborations still waiting for my side's rating.

This is how a status change prompts the rating: completing or cancelling a
collaboration puts it in both sides' queues, the navigation shows the count,
and rating it takes it out. Proposals that were declined or withdrawn never ran,
so nobody is asked to rate them (they can still be rated from their page).
"""

from __future__ import annotations

from sqlalchemy import Select, exists, func, select

from webapp.core.taxonomy import FINISHED_STATUSES
from webapp.extensions import db
from webapp.marketplace.lifecycle import UNSTARTED_ENDINGS
from webapp.marketplace.ratings import collaborations_of
from webapp.models import Collaboration, Outcome, StatusChange, User


def awaiting_rating(user: User) -> Select:
    """Return a select of ``user``'s finished collaborations their side has not rated.

    Most recently finished first; empty for users without a side (admins).
    """
    side = user.side
    rated = exists().where(
        Outcome.collaboration_id == Collaboration.id, Outcome.rater_side == side
    )
    never_ran = exists().where(
        StatusChange.collaboration_id == Collaboration.id,
        StatusChange.action.in_(UNSTARTED_ENDINGS),
    )
    finished_on = func.coalesce(
        func.date(Collaboration.cancelled_at), Collaboration.completed_on
    )
    return (
        collaborations_of(user)
        .where(Collaboration.status.in_(FINISHED_STATUSES), ~rated, ~never_ran)
        .order_by(None)
        .order_by(
            finished_on.desc().nulls_last(),
            Collaboration.proposed_on.desc(),
            Collaboration.id.desc(),
        )
    )


def count_awaiting(user: User) -> int:
    """Return how many collaborations wait for ``user``'s side's rating."""
    if user.side is None:
        return 0
    query = awaiting_rating(user).order_by(None)
    return db.session.scalar(select(func.count()).select_from(query.subquery()))

"""Which data training may use: members who opted out are left out everywhere.

One rule for training rows and for the history features other rows are built
from, as the settings page promises: a collaboration is excluded when the
opted-out member is linked to either side of it or rated it (any revision),
and the profile history of an influencer an opted-out member is linked to
(``opted_out_influencers``) feeds no population figure such as the
engagement fit.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from webapp.models import Collaboration, Outcome, OutcomeRevision, User


def opted_out_users():
    """Return a select of the ids of users who opted out of training."""
    return select(User.id).where(User.training_opt_out.is_(True))


def opted_out_influencers():
    """Return a select of the ids of influencers an opted-out user is linked to."""
    return select(User.influencer_id).where(
        User.training_opt_out.is_(True), User.influencer_id.is_not(None)
    )


def opted_out_companies():
    """Return a select of the ids of companies an opted-out user is linked to."""
    return select(User.company_id).where(
        User.training_opt_out.is_(True), User.company_id.is_not(None)
    )


def excluded_collaborations():
    """Return a select of collaboration ids whose data belongs to opted-out users."""
    # Every rating they gave counts, also one someone else has edited since.
    rated = select(Outcome.collaboration_id).where(
        Outcome.rated_by_id.in_(opted_out_users())
    )
    revised = select(OutcomeRevision.collaboration_id).where(
        OutcomeRevision.rated_by_id.in_(opted_out_users())
    )
    return select(Collaboration.id).where(
        or_(
            Collaboration.influencer_id.in_(opted_out_influencers()),
            Collaboration.company_id.in_(opted_out_companies()),
            Collaboration.id.in_(rated),
            Collaboration.id.in_(revised),
        )
    )

"""Proposing a collaboration from a ranked match, with the match snapshot it was based on."""

from __future__ import annotations

import secrets
import string
from datetime import date

from sqlalchemy import exists, select

from webapp import serving
from webapp.core.taxonomy import OPEN_STATUSES
from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.marketplace import lifecycle
from webapp.models import Collaboration, Company, Influencer, User

_ALPHABET = string.ascii_uppercase + string.digits


class ProposalRefused(ValueError):
    """The collaboration cannot be proposed (message shown to the user)."""


def may_propose(user: User, influencer: Influencer, company: Company) -> bool:
    """True when ``user`` may propose this pair: an admin, or a member of one side."""
    return (
        user.is_admin
        or (user.company_id is not None and user.company_id == company.id)
        or (user.influencer_id is not None and user.influencer_id == influencer.id)
    )


def has_open_collaboration(influencer: Influencer, company: Company) -> bool:
    """True when the pair already has a proposed, accepted or active collaboration."""
    return db.session.scalar(
        select(
            exists().where(
                Collaboration.influencer_id == influencer.id,
                Collaboration.company_id == company.id,
                Collaboration.status.in_(OPEN_STATUSES),
            )
        )
    )


def new_external_id(day: date) -> str:
    """Return an unused id like ``ML-20250301-K3Q9ZP``."""
    for _ in range(10):
        suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
        candidate = f"ML-{day:%Y%m%d}-{suffix}"
        taken = db.session.scalar(
            select(exists().where(Collaboration.external_id == candidate))
        )
        if not taken:
            return candidate
    raise RuntimeError("could not find a free collaboration id in 10 tries")


def propose(
    influencer: Influencer, company: Company, budget: float, user: User
) -> Collaboration:
    """Create a proposed collaboration with its match snapshot and first history row.

    Commits and returns it; the other side then accepts or declines it.
    """
    if not may_propose(user, influencer, company):
        raise PermissionError(f"{user.email} may not propose for this pair")
    if has_open_collaboration(influencer, company):
        raise ProposalRefused(
            f"@{influencer.handle} and {company.name} already have an open collaboration."
        )
    today = utcnow().date()
    # A member proposes for their own side; an admin's proposal counts as the brand's.
    own_side = lifecycle.side_in(user, influencer.id, company.id)
    collaboration = Collaboration(
        external_id=new_external_id(today),
        influencer=influencer,
        company=company,
        proposed_on=today,
        status="proposed",
        budget=float(budget),
        proposed_by_id=user.id,
        proposer_side=own_side or "company",
        match_snapshot=serving.snapshot_for(influencer, company, float(budget)),
    )
    db.session.add(collaboration)
    lifecycle.record_proposal(collaboration, user)
    db.session.commit()
    return collaboration

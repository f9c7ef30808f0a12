"""Helpers for the lifecycle tests: make a collaboration, act on it, read it back."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Collaboration, StatusChange

_counter = iter(range(10**6))


def make_collaboration(world, status: str, proposer_side: str = "company"):
    """Add a collaboration of INF-A and CO-A in ``status``; return it."""
    influencer, company = world["influencers"][0], world["companies"][0]
    collaboration = Collaboration(
        external_id=f"T-{next(_counter)}",
        influencer=influencer,
        company=company,
        proposed_on=date(2025, 5, 1),
        status=status,
        budget=1200.0,
        proposer_side=proposer_side,
    )
    db.session.add(collaboration)
    db.session.commit()
    return collaboration


def act(client, external_id: str, action: str, **fields):
    """POST an action form of the collaboration page."""
    data = {f"{action}-{name}": value for name, value in fields.items()}
    return client.post(f"/collaborations/{external_id}/{action}", data=data)


def history(external_id: str) -> list[StatusChange]:
    """Return the collaboration's history rows, read fresh."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(StatusChange)
            .join(StatusChange.collaboration)
            .where(Collaboration.external_id == external_id)
            .order_by(StatusChange.id)
        )
    )


def fresh(external_id: str) -> Collaboration:
    """Return the collaboration read fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Collaboration).where(Collaboration.external_id == external_id)
    )

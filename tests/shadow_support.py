"""Helpers for shadow tests: an active and a candidate version, served pairs."""

from __future__ import annotations

from sqlalchemy import select
from training_helpers import FAST_PARAMS, seed_small_world, train_version

from webapp.extensions import db
from webapp.models import Company, Influencer, ModelVersion
from webapp.registry import versions

TYPE = "match_success"


def active_and_candidate() -> tuple[ModelVersion, ModelVersion]:
    """Seed a small world; train v1 (made active) and v2 (a different candidate)."""
    seed_small_world()
    first = train_version()
    if first.status != "active":
        versions.promote(first, None, "start")
    second = train_version({**FAST_PARAMS, "algorithm": "random_forest"})
    assert second.status == "candidate"
    return first, second


def some_pairs(count: int, offset: int = 0) -> list[tuple[Influencer, Company]]:
    """Return ``count`` (influencer, company) pairs of the seeded world."""
    influencers = db.session.scalars(select(Influencer).order_by(Influencer.id)).all()
    companies = db.session.scalars(select(Company).order_by(Company.id)).all()
    return [
        (
            influencers[(offset + k) % len(influencers)],
            companies[(offset + 3 * k) % len(companies)],
        )
        for k in range(count)
    ]

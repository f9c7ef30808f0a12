"""Serving match predictions: predict pairs, rank candidates, route, fall back, log.

``predict_pairs`` answers with fresh features; ``rank_influencers`` and
``rank_companies`` score every candidate in one vectorised pass over a cached
candidate pool. Every served prediction is written to the prediction log
(queued, and inserted in bulk off the request path: ``prediction_log``).
Niche forecasts (the trend type) are served by ``forecasts``, shown by
``views`` (/trends) and answered by ``api`` (GET /api/v1/trends).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select

from webapp.core.taxonomy import OPEN_STATUSES
from webapp.extensions import db
from webapp.learning.features import as_snapshot
from webapp.models import Collaboration, Company, Influencer
from webapp.serving import interleaved, pools, prediction_log
from webapp.serving.predict import (
    MATCH_TYPE,
    contributions,
    factor_lists,
    factors,
    log_entries,
    log_predictions,
    result,
    routed_groups,
    score_routed,
    score_rows,
)
from webapp.serving.state import current_pool, serving_state

__all__ = [
    "MATCH_TYPE",
    "RANKING_FILTERS",
    "predict_pairs",
    "rank_companies",
    "rank_influencers",
    "serving_state",
    "snapshot_for",
]


# The filters a ranking of influencers takes, on the page and in the API alike.
RANKING_FILTERS = ("niche", "country", "min_followers", "max_rate")


def predict_pairs(
    pairs: list[tuple[Influencer, Company]],
    budgets: list[float | None] | None = None,
    source: str = "api",
) -> list[dict[str, Any]]:
    """Predict success for each (influencer, company) pair, in order.

    Each pair is routed by its company (the subject), so a brand sees one model
    version consistently; the pairs of every subject routed alike (the same
    version and variant) are scored and explained in one model call.
    """
    if not pairs:
        return []
    budgets = budgets or [None] * len(pairs)
    pool = current_pool()
    rows = pools.pair_rows(pool, [i for i, _ in pairs], [c for _, c in pairs], budgets)
    answers: list[dict[str, Any]] = [{}] * len(pairs)
    logged: list[dict[str, Any]] = []
    subjects = [company.external_id for _, company in pairs]
    for routed, members in routed_groups(subjects):
        sub = rows[members]
        scored = score_routed(sub, routed, explain=True)
        contribution = scored.contributions
        listed = factor_lists(sub, contribution)
        for local, k in enumerate(members):
            influencer, company = pairs[k]
            answers[k] = {
                "influencer_id": influencer.external_id,
                "company_id": company.external_id,
                **result(scored, local, sub[local], contribution[local], listed[local]),
            }
        logged += log_entries(
            scored,
            [
                (local, pairs[k][0].id, pairs[k][1].id)
                for local, k in enumerate(members)
            ],
            [pairs[k][1].external_id for k in members],
            source,
        )
    prediction_log.write(logged)
    return answers


def snapshot_for(
    influencer: Influencer, company: Company, budget: float | None
) -> dict[str, Any]:
    """Return the match snapshot to store on a collaboration proposed through Matchloop."""
    pool = current_pool()
    rows = pools.pair_rows(pool, [influencer], [company], [budget])
    scored = score_rows(rows, company.external_id, explain=True)
    return {
        "features": as_snapshot(rows[0]),
        "model_type": MATCH_TYPE,
        "model_version": scored.version.version if scored.version else None,
        "variant": scored.variant,
        "success_probability": float(scored.probability[0]),
        "fallback": scored.fallback,
        # The reasons shown on the collaboration's page, as they stood at proposal.
        "factors": factors(rows[0], scored.contributions[0]),
    }


def _open_partners(column, other, entity_id: int) -> set[int]:
    """Return ids on the other side that already have an open collaboration with this one."""
    return set(
        db.session.scalars(
            select(other).where(
                column == entity_id, Collaboration.status.in_(OPEN_STATUSES)
            )
        )
    )


def rank_influencers(
    company: Company,
    limit: int = 20,
    filters: dict[str, Any] | None = None,
    budget: float | None = None,
    source: str = "rank",
) -> list[dict[str, Any]]:
    """Rank every influencer for ``company``; return the best ``limit`` with reasons."""
    pool = current_pool(require=("company", company.id))
    rows = pool.rows_for_company(company.id, budget)
    mask = _influencer_mask(pool, filters or {})
    busy = _open_partners(
        Collaboration.company_id, Collaboration.influencer_id, company.id
    )
    if busy:
        mask &= ~np.isin(pool.influencer_ids, list(busy))
    picks = interleaved.ranked_list(
        rows,
        mask,
        limit,
        company.external_id,
        "company",
        request_key=repr(sorted((filters or {}).items())),
        item_id=lambda i: pool.influencer_profiles[i]["external_id"],
    )
    return _answers(
        picks,
        rows,
        company.external_id,
        source,
        pair_of=lambda i: (int(pool.influencer_ids[i]), company.id),
        card_of=lambda i: {"influencer": _influencer_card(pool.influencer_profiles[i])},
    )


def _answers(
    picks, rows, subject: str, source: str, pair_of, card_of
) -> list[dict[str, Any]]:
    """Describe and log each pick of a ranked list, in list order.

    :param pair_of: ``i -> (influencer id, company id)`` of pool row ``i``.
    :param card_of: ``i -> {"influencer" or "company": the candidate's card}``.
    """
    answers: list[dict[str, Any]] = [{} for _ in picks]
    for scored, positions in interleaved.by_scorer(picks):
        indices = [picks[p].index for p in positions]
        contribution = contributions(scored, rows[indices])
        listed = factor_lists(rows[indices], contribution)
        for local, position in enumerate(positions):
            i = indices[local]
            answers[position] = {
                **card_of(i),
                **result(scored, i, rows[i], contribution[local], listed[local]),
            }
        log_predictions(scored, [(i, *pair_of(i)) for i in indices], subject, source)
    return answers


def rank_companies(
    influencer: Influencer, limit: int = 20, source: str = "rank"
) -> list[dict[str, Any]]:
    """Rank every company for ``influencer``; return the best ``limit`` with reasons."""
    pool = current_pool(require=("influencer", influencer.id))
    rows = pool.rows_for_influencer(influencer.id)
    mask = np.ones(len(pool.company_ids), dtype=bool)
    busy = _open_partners(
        Collaboration.influencer_id, Collaboration.company_id, influencer.id
    )
    if busy:
        mask &= ~np.isin(pool.company_ids, list(busy))
    # The influencer asking is the routing subject for this list.
    picks = interleaved.ranked_list(
        rows,
        mask,
        limit,
        influencer.external_id,
        "influencer",
        request_key="",
        item_id=lambda i: pool.company_profiles[i]["external_id"],
    )
    return _answers(
        picks,
        rows,
        influencer.external_id,
        source,
        pair_of=lambda i: (influencer.id, int(pool.company_ids[i])),
        card_of=lambda i: {"company": _company_card(pool.company_profiles[i])},
    )


def _influencer_mask(pool, filters: dict[str, Any]) -> np.ndarray:
    """Return which influencers pass the ranking filters (``RANKING_FILTERS``)."""
    profiles = pool.influencer_profiles
    mask = np.ones(len(profiles), dtype=bool)
    if filters.get("niche"):
        mask &= np.array([p["niche"] == filters["niche"] for p in profiles], bool)
    if filters.get("country"):
        mask &= np.array([p["country"] == filters["country"] for p in profiles], bool)
    if filters.get("min_followers") is not None:
        mask &= pool.influencers.followers >= float(filters["min_followers"])
    if filters.get("max_rate") is not None:
        mask &= pool.influencers.rate <= float(filters["max_rate"])
    return mask


def _influencer_card(profile: dict[str, Any]) -> dict[str, Any]:
    """Return the public summary of an influencer profile."""
    keys = (
        "handle",
        "niche",
        "country",
        "followers",
        "engagement_rate",
        "rate_per_post",
        "platforms",
    )
    return {"id": profile["external_id"], **{k: profile[k] for k in keys}}


def _company_card(profile: dict[str, Any]) -> dict[str, Any]:
    """Return the public summary of a company profile."""
    keys = ("name", "industry", "country", "budget_per_campaign", "target_niches")
    return {"id": profile["external_id"], **{k: profile[k] for k in keys}}

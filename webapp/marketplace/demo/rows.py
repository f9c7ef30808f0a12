"""Turn the demo's numpy columns into row dicts for bulk inserts (JSON-safe)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from webapp.core.taxonomy import COUNTRIES, NICHES
from webapp.core.timeutil import start_of
from webapp.marketplace.demo.collaborations import Pairs
from webapp.marketplace.demo.history import History
from webapp.marketplace.demo.outcomes import Ratings, Results
from webapp.marketplace.demo.profiles import Companies, Influencers
from webapp.marketplace.demo.timeline import Timeline
from webapp.marketplace.demo.truth import Truth
from webapp.models.marketplace import (
    COMPANY_PROFILE_FIELDS,
    INFLUENCER_PROFILE_FIELDS,
    revision_row,
)

Row = dict[str, Any]


def money(values: np.ndarray, places: int = 2) -> list[float]:
    """Return correctly rounded Python floats (what a Numeric column reads back)."""
    return [round(v, places) for v in values.tolist()]


def influencer_rows(inf: Influencers) -> list[Row]:
    """Return one insert row per row of ``inf`` (numbered in row order)."""
    joined = inf.joined.tolist()
    columns = {
        "handle": inf.handles,
        "niche": [NICHES[k] for k in inf.niche.tolist()],
        "secondary_niches": inf.secondary,
        "platforms": inf.platforms,
        "followers": inf.followers.tolist(),
        "engagement_rate": inf.engagement.tolist(),
        "country": [COUNTRIES[k] for k in inf.country.tolist()],
        "rate_per_post": money(inf.rate),
        "joined_on": joined,
        "posts_per_week": inf.posts_per_week.tolist(),
        "avg_response_hours": inf.response_hours.tolist(),
        "content_quality": inf.quality.tolist(),
    }
    rows = [
        dict(zip(columns, values, strict=True))
        for values in zip(*columns.values(), strict=True)
    ]
    for k, row in enumerate(rows):
        row["external_id"] = f"INF-{k + 1:06d}"
        row["created_at"] = row["updated_at"] = start_of(joined[k])
    return rows


def company_rows(comp: Companies) -> list[Row]:
    """Return one insert row per row of ``comp`` (numbered in row order)."""
    joined = comp.joined.tolist()
    columns = {
        "name": comp.names,
        "industry": [NICHES[k] for k in comp.industry.tolist()],
        "target_niches": comp.target_niches,
        "country": [COUNTRIES[k] for k in comp.country.tolist()],
        "target_countries": comp.target_countries,
        "budget_per_campaign": money(comp.budget),
        "joined_on": joined,
    }
    rows = [
        dict(zip(columns, values, strict=True))
        for values in zip(*columns.values(), strict=True)
    ]
    for k, row in enumerate(rows):
        row["external_id"] = f"CO-{k + 1:05d}"
        row["created_at"] = row["updated_at"] = start_of(joined[k])
    return rows


def profile_rows(kind: str, timeline: Timeline) -> tuple[list[Row], list[Row]]:
    """Return (current profile rows, every state's rows) of a timeline.

    The current rows are the newest states, numbered in entity order; the
    state rows line up with ``timeline.states``.
    """
    build = influencer_rows if kind == "influencer" else company_rows
    states = build(timeline.states)
    prefix, width = ("INF", 6) if kind == "influencer" else ("CO", 5)
    current = []
    for k, row in enumerate(timeline.current().tolist()):
        profile = dict(states[row], external_id=f"{prefix}-{k + 1:0{width}d}")
        profile["created_at"] = start_of(profile["joined_on"])
        profile["updated_at"] = timeline.valid_from[row].item()
        current.append(profile)
    return current, states


def revision_rows(
    kind: str, timeline: Timeline, states: list[Row], ids: list[int]
) -> list[Row]:
    """Return one ProfileRevision per state, valid from when the state began."""
    fields = (
        INFLUENCER_PROFILE_FIELDS if kind == "influencer" else COMPANY_PROFILE_FIELDS
    )
    entity_ids = np.asarray(ids)[timeline.entity].tolist()
    return [
        {
            "kind": kind,
            "entity_id": entity_id,
            "valid_from": valid_from,
            "attributes": {field: row[field] for field in fields},
        }
        for row, entity_id, valid_from in zip(
            states, entity_ids, timeline.valid_from.tolist(), strict=True
        )
    ]


def collaboration_rows(
    pairs: Pairs,
    results: Results,
    history: History,
    influencer_ids: list[int],
    company_ids: list[int],
) -> list[Row]:
    """Return one insert row per collaboration (numbered in proposal order)."""
    cancelled_at = history.cancelled_at.tolist()
    influencer = np.asarray(influencer_ids)[pairs.influencer].tolist()
    company = np.asarray(company_ids)[pairs.company].tolist()
    proposed = pairs.proposed.tolist()
    completed = results.completed_on.tolist()
    status = results.status.tolist()
    budget = money(pairs.budget)
    return [
        {
            "external_id": f"COL-{k + 1:07d}",
            "influencer_id": influencer[k],
            "company_id": company[k],
            "proposed_on": proposed[k],
            "status": status[k],
            "budget": budget[k],
            "completed_on": completed[k],
            "cancelled_at": cancelled_at[k],
            "cancel_reason": history.cancel_reason[k],
            "proposer_side": "company",
            "match_snapshot": {},
            "created_at": start_of(proposed[k]),
        }
        for k in range(len(proposed))
    ]


def truth_rows(truth: Truth, collaboration_ids: list[int]) -> list[Row]:
    """Return the hidden ground truth rows, one per collaboration."""
    return [
        {"collaboration_id": cid, "success_probability": p, "expected_roi": roi}
        for cid, p, roi in zip(
            collaboration_ids,
            truth.probability.tolist(),
            truth.expected_roi.tolist(),
            strict=True,
        )
    ]


def outcome_rows(ratings: Ratings, collaboration_ids: list[int]) -> list[Row]:
    """Return one side's outcome rows (rated_by_id stays NULL: nobody signed in)."""
    ids = np.asarray(collaboration_ids)[ratings.collaboration].tolist()
    roi = [None if math.isnan(v) else round(v, 4) for v in ratings.roi.tolist()]
    rated_at = ratings.rated_at.tolist()
    edited_at = ratings.edited_at.tolist()  # None where never edited
    return [
        {
            "collaboration_id": ids[k],
            "rater_side": ratings.side,
            "success_rating": rating,
            "completion_status": completion,
            "roi_achieved": roi[k],
            "would_collaborate_again": again,
            "success_factors": ratings.factors[k],
            "feedback": ratings.feedback[k],
            "rated_at": rated_at[k],
            "updated_at": edited_at[k] or rated_at[k],
        }
        for k, (rating, completion, again) in enumerate(
            zip(
                ratings.rating.tolist(),
                ratings.completion.tolist(),
                ratings.again.tolist(),
                strict=True,
            )
        )
    ]


def outcome_revision_rows(
    outcomes: list[Row], firsts: list[tuple[int, str]], ids: dict[tuple[int, str], int]
) -> list[Row]:
    """Return each rating's revisions: the first verdict when rated, then any edit.

    :param firsts: per outcome row, the (rating, completion status) first given.
    """
    revisions = []
    for row, (rating, completion) in zip(outcomes, firsts, strict=True):
        values = {
            "rated_by_id": None,
            **row,
            "id": ids[(row["collaboration_id"], row["rater_side"])],
        }
        first = dict(values, success_rating=rating, completion_status=completion)
        revisions.append(revision_row(first, row["rated_at"]))
        if row["updated_at"] != row["rated_at"]:
            revisions.append(revision_row(values, row["updated_at"]))
    return revisions


def first_verdicts(ratings: Ratings) -> list[tuple[int, str]]:
    """Return (first rating, first completion status) of each of one side's rows."""
    return list(
        zip(
            ratings.first_rating.tolist(),
            ratings.first_completion.tolist(),
            strict=True,
        )
    )

"""What a rollout's arms have shown, read from the prediction log and the outcomes.

A collaboration is credited to the arm whose version served the pair's latest
prediction under this rollout before the collaboration was created (the score
the proposer saw); its brand-side rating is an outcome of that arm, a success
by the label rule (``webapp.learning.labels.success_label``). An arm's error
rate is the share of its logged predictions the fallback answered because the
arm's version failed or was refused (``prediction_logs.fallback``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from webapp.experiments.results import MeanVariant
from webapp.extensions import db
from webapp.learning.labels import success_label
from webapp.models import Collaboration, Outcome, PredictionLog, Rollout
from webapp.rollouts.bucketing import ARMS, CANDIDATE
from webapp.rollouts.guardrails import ArmNumbers


@dataclass(frozen=True)
class RatedOutcome:
    """One brand-rated collaboration credited to an arm."""

    arm: str
    rated_at: datetime
    success: int
    rating: float


def serving_arm(rollout_id: int):
    """Return SQL for the arm of the pair's latest prediction before the collaboration."""
    return (
        select(PredictionLog.variant)
        .where(
            PredictionLog.rollout_id == rollout_id,
            PredictionLog.influencer_id == Collaboration.influencer_id,
            PredictionLog.company_id == Collaboration.company_id,
            PredictionLog.created_at <= Collaboration.created_at,
        )
        .order_by(PredictionLog.created_at.desc(), PredictionLog.id.desc())
        .limit(1)
        .correlate(Collaboration)
        .scalar_subquery()
    )


def rated_outcomes(rollout: Rollout) -> list[RatedOutcome]:
    """Return the rollout's credited outcomes, oldest rating first."""
    if rollout.started_at is None:
        return []
    arm = serving_arm(rollout.id).label("arm")
    label = success_label(int(current_app.config["SUCCESS_MIN_RATING"]))
    rows = db.session.execute(
        select(arm, Outcome.rated_at, label, Outcome.success_rating)
        .join(Outcome.collaboration)
        .where(
            Outcome.rater_side == "company",
            Collaboration.created_at >= rollout.started_at,
        )
        .order_by(Outcome.rated_at, Outcome.id)
    ).all()
    return [
        RatedOutcome(side, at, int(success), float(rating))
        for side, at, success, rating in rows
        if side in ARMS
    ]


def prediction_counts(rollout_id: int, until: datetime) -> dict[str, tuple[int, int]]:
    """Return ``{arm: (predictions, failures)}`` logged up to ``until``."""
    rows = db.session.execute(
        select(PredictionLog.variant, PredictionLog.fallback, func.count())
        .where(
            PredictionLog.rollout_id == rollout_id,
            PredictionLog.created_at <= until,
        )
        .group_by(PredictionLog.variant, PredictionLog.fallback)
    ).all()
    counts = {side: [0, 0] for side in ARMS}
    for side, fell_back, count in rows:
        if side in counts:
            counts[side][0] += count
            counts[side][1] += count if fell_back else 0
    return {side: (total, failed) for side, (total, failed) in counts.items()}


def arm_numbers(
    outcomes: list[RatedOutcome], counts: dict[str, tuple[int, int]], until: datetime
) -> dict[str, ArmNumbers]:
    """Return each arm's figures from the outcomes rated up to ``until`` (pure)."""
    found = {}
    for side in ARMS:
        mine = [o for o in outcomes if o.arm == side and o.rated_at <= until]
        ratings = MeanVariant.from_values(
            side, len(mine), len(mine), [o.rating for o in mine]
        )
        predictions, failures = counts.get(side, (0, 0))
        found[side] = ArmNumbers(
            len(mine), sum(o.success for o in mine), ratings, predictions, failures
        )
    return found


def candidate_rating_times(outcomes: list[RatedOutcome]) -> list[datetime]:
    """Return when each candidate outcome was rated, in order (pure)."""
    return sorted(o.rated_at for o in outcomes if o.arm == CANDIDATE)

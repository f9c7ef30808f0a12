"""What a rollout's arms have shown, read from the prediction log and the outcomes.

A collaboration is credited to the arm whose version served the pair's latest
prediction under this rollout before the collaboration was created (the score
the proposer saw); its brand-side rating is an outcome of that arm, a success
by the label rule (``webapp.learning.labels.success_label``). An arm's error
rate is the share of its logged predictions the fallback answered because the
arm's version failed or was refused (``prediction_logs.fallback``).

The same credit gives the early gates their evidence (``gates``): every
collaboration of the arm since the rollout started, when it was accepted and
cancelled (its status changes), and the probability the arm's version logged
for the pair (the score of that same prediction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from webapp.experiments.results import MeanVariant
from webapp.extensions import db
from webapp.learning.labels import success_label
from webapp.models import (
    Collaboration,
    Outcome,
    PredictionLog,
    Rollout,
    StatusChange,
)
from webapp.rollouts.bucketing import ARMS, CANDIDATE
from webapp.rollouts.gates import ArmLeading, ArmScores, Evidence
from webapp.rollouts.guardrails import ArmNumbers


@dataclass(frozen=True)
class RatedOutcome:
    """One brand-rated collaboration credited to an arm."""

    arm: str
    rated_at: datetime
    success: int
    rating: float
    probability: float | None = None


@dataclass(frozen=True)
class CreditedCollaboration:
    """One collaboration credited to an arm, with its status times and logged score."""

    arm: str
    created_at: datetime
    accepted_at: datetime | None
    cancelled_at: datetime | None
    probability: float | None


def serving_arm(rollout_id: int, column=PredictionLog.variant):
    """Return SQL for the arm (or ``column``) of the pair's latest prediction before it."""
    return (
        select(column)
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
    score = serving_arm(rollout.id, PredictionLog.score).label("score")
    label = success_label(int(current_app.config["SUCCESS_MIN_RATING"]))
    rows = db.session.execute(
        select(arm, Outcome.rated_at, label, Outcome.success_rating, score)
        .join(Outcome.collaboration)
        .where(
            Outcome.rater_side == "company",
            Collaboration.created_at >= rollout.started_at,
        )
        .order_by(Outcome.rated_at, Outcome.id)
    ).all()
    return [
        RatedOutcome(side, at, int(success), float(rating), probability)
        for side, at, success, rating, probability in rows
        if side in ARMS
    ]


def status_time(status: str):
    """Return SQL for when the collaboration first reached ``status`` (or NULL)."""
    return (
        select(func.min(StatusChange.created_at))
        .where(
            StatusChange.collaboration_id == Collaboration.id,
            StatusChange.status == status,
        )
        .correlate(Collaboration)
        .scalar_subquery()
    )


def credited_collaborations(rollout: Rollout) -> list[CreditedCollaboration]:
    """Return every collaboration credited to an arm since the rollout started."""
    if rollout.started_at is None:
        return []
    rows = db.session.execute(
        select(
            serving_arm(rollout.id),
            Collaboration.created_at,
            status_time("accepted"),
            status_time("cancelled"),
            serving_arm(rollout.id, PredictionLog.score),
        )
        .where(Collaboration.created_at >= rollout.started_at)
        .order_by(Collaboration.created_at, Collaboration.id)
    ).all()
    return [CreditedCollaboration(*row) for row in rows if row[0] in ARMS]


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


def before(moment: datetime | None, until: datetime) -> bool:
    """Return whether ``moment`` happened by ``until``."""
    return moment is not None and moment <= until


def leading_numbers(
    collaborations: list[CreditedCollaboration], until: datetime
) -> dict[str, ArmLeading]:
    """Return each arm's proposals, acceptances and cancellations up to ``until`` (pure)."""
    found = {}
    for side in ARMS:
        mine = [c for c in collaborations if c.arm == side and c.created_at <= until]
        accepted = [c for c in mine if before(c.accepted_at, until)]
        declined = [
            c
            for c in mine
            if before(c.cancelled_at, until) and not before(c.accepted_at, until)
        ]
        found[side] = ArmLeading(
            len(mine),
            len(accepted) + len(declined),
            len(accepted),
            sum(before(c.cancelled_at, until) for c in accepted),
        )
    return found


def arm_scores(
    collaborations: list[CreditedCollaboration],
    outcomes: list[RatedOutcome],
    until: datetime,
) -> dict[str, ArmScores]:
    """Return each arm's logged probabilities and its labelled ones up to ``until``."""
    found = {}
    for side in ARMS:
        logged = [
            c.probability
            for c in collaborations
            if c.arm == side and c.created_at <= until and c.probability is not None
        ]
        rated = [
            o
            for o in outcomes
            if o.arm == side and o.rated_at <= until and o.probability is not None
        ]
        found[side] = ArmScores.of(
            logged, [o.probability for o in rated], [o.success for o in rated]
        )
    return found


def numbers_at(rollout: Rollout):
    """Return the candidate's rating times and the rollout's evidence at any moment.

    Reads the rated outcomes and credited collaborations once; each call of
    the returned function counts the predictions logged up to its moment.
    """
    outcomes = rated_outcomes(rollout)
    collaborations = credited_collaborations(rollout)

    def at(moment: datetime) -> Evidence:
        counts = prediction_counts(rollout.id, moment)
        return Evidence(
            realised=arm_numbers(outcomes, counts, moment),
            leading=leading_numbers(collaborations, moment),
            scores=arm_scores(collaborations, outcomes, moment),
        )

    return candidate_rating_times(outcomes), at

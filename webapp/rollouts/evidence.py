"""What a rollout's arms have shown, read from the prediction log and the outcomes.

A collaboration is credited to the arm whose version served the pair's latest
prediction under this rollout before the collaboration was created (the score
the proposer saw), and to the rollout's unit (its brand or its creator, as
``Rollout.unit`` says: what was bucketed). Its brand-side rating is an outcome
of that arm, a success by the label rule (``webapp.learning.labels.success_label``).

The evidence at a moment is the evidence as it stood then, so a tick that
catches up on missed steps decides each step on what was known when it fell
due: a rating counts from its first revision, with the values of its latest
revision recorded by that moment (``outcome_revisions``); acceptances and
cancellations count from their status changes; predictions from when they were
logged. A rating given or edited later does not reach back.

An arm's error rate counts requests, not log rows: a batch or ranking request
logs a row per pair, all with one ``request_id``. The unit of the error rate
is a request's share for one rollout unit (a batch of 1,000 pairs over three
brands is three requests, one per brand), failed when the fallback answered
it because the arm's version failed or was refused (``prediction_logs.fallback``).
Rows logged before request ids existed count one request each.

The same credit gives the early gates their evidence (``gates``): every
collaboration of the arm since the rollout started, when it was accepted and
cancelled (its status changes), and the probability the arm's version logged
for the pair (the score of that same prediction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from flask import current_app
from sqlalchemy import String, case, cast, func, select

from webapp.experiments.stats import RatioMoments
from webapp.extensions import db
from webapp.learning.labels import success_label
from webapp.models import (
    Collaboration,
    OutcomeRevision,
    PredictionLog,
    Rollout,
    StatusChange,
)
from webapp.rollouts.bucketing import ARMS, CANDIDATE
from webapp.rollouts.gates import ArmLeading, ArmScores, Evidence
from webapp.rollouts.guardrails import ArmNumbers
from webapp.serving.prediction_log import served


@dataclass(frozen=True)
class RatedOutcome:
    """One revision of a brand's rating of a collaboration credited to an arm."""

    arm: str
    unit: int
    collaboration_id: int
    recorded_at: datetime
    success: int
    rating: float
    probability: float | None = None


@dataclass(frozen=True)
class CreditedCollaboration:
    """One collaboration credited to an arm, with its status times and logged score."""

    arm: str
    unit: int
    created_at: datetime
    accepted_at: datetime | None
    cancelled_at: datetime | None
    probability: float | None


def unit_of(rollout: Rollout):
    """Return the collaboration's column that names the rollout's unit."""
    if rollout.unit == "influencer":
        return Collaboration.influencer_id
    return Collaboration.company_id


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
    """Return every brand rating revision of the credited collaborations, oldest first."""
    if rollout.started_at is None:
        return []
    arm = serving_arm(rollout.id).label("arm")
    score = serving_arm(rollout.id, PredictionLog.score).label("score")
    label = success_label(
        int(current_app.config["SUCCESS_MIN_RATING"]), OutcomeRevision
    )
    rows = db.session.execute(
        select(
            arm,
            unit_of(rollout),
            OutcomeRevision.collaboration_id,
            OutcomeRevision.recorded_at,
            label,
            OutcomeRevision.success_rating,
            score,
        )
        .join(Collaboration, OutcomeRevision.collaboration_id == Collaboration.id)
        .where(
            OutcomeRevision.rater_side == "company",
            Collaboration.created_at >= rollout.started_at,
        )
        .order_by(OutcomeRevision.recorded_at, OutcomeRevision.id)
    ).all()
    return [
        RatedOutcome(side, unit, collaboration, at, int(success), float(rating), p)
        for side, unit, collaboration, at, success, rating, p in rows
        if side in ARMS
    ]


def ratings_at(outcomes: list[RatedOutcome], until: datetime) -> list[RatedOutcome]:
    """Return each collaboration's rating as it stood at ``until`` (pure).

    :param outcomes: revisions ordered by ``recorded_at`` (``rated_outcomes``).
    """
    latest: dict[int, RatedOutcome] = {}
    for revision in outcomes:
        if revision.recorded_at > until:
            break
        latest[revision.collaboration_id] = revision
    return list(latest.values())


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
            unit_of(rollout),
            Collaboration.created_at,
            status_time("accepted"),
            status_time("cancelled"),
            serving_arm(rollout.id, PredictionLog.score),
        )
        .where(Collaboration.created_at >= rollout.started_at)
        .order_by(Collaboration.created_at, Collaboration.id)
    ).all()
    return [CreditedCollaboration(*row) for row in rows if row[0] in ARMS]


def request_key():
    """Return SQL naming a row's request (its own prediction, before request ids)."""
    return func.coalesce(
        PredictionLog.request_id,
        PredictionLog.prediction_id,
        cast(PredictionLog.id, String),
    )


def request_counts(rollout_id: int, until: datetime) -> dict[str, RatioMoments]:
    """Return ``{arm: failed requests / requests per unit}`` logged up to ``until``."""
    key = request_key()
    rows = db.session.execute(
        select(
            PredictionLog.variant,
            PredictionLog.subject,
            func.count(func.distinct(key)),
            func.count(func.distinct(case((PredictionLog.fallback, key)))),
        )
        .where(
            PredictionLog.rollout_id == rollout_id,
            PredictionLog.created_at <= until,
            served(),
        )
        .group_by(PredictionLog.variant, PredictionLog.subject)
    ).all()
    return {
        side: RatioMoments.from_units(
            [failed for arm, _, _, failed in rows if arm == side],
            [requests for arm, _, requests, _ in rows if arm == side],
        )
        for side in ARMS
    }


def arm_numbers(
    outcomes: list[RatedOutcome], counts: dict[str, RatioMoments]
) -> dict[str, ArmNumbers]:
    """Return each arm's per-unit figures from ratings as they stood (pure).

    :param outcomes: one rating per collaboration (``ratings_at``).
    """
    found = {}
    for side in ARMS:
        mine = [o for o in outcomes if o.arm == side]
        units = [o.unit for o in mine]
        found[side] = ArmNumbers(
            success=RatioMoments.from_rows(units, [o.success for o in mine]),
            rating=RatioMoments.from_rows(units, [o.rating for o in mine]),
            errors=counts.get(side, RatioMoments.from_units([], [])),
        )
    return found


def candidate_rating_times(outcomes: list[RatedOutcome]) -> list[datetime]:
    """Return when each candidate collaboration was first rated, in order (pure)."""
    first: dict[int, datetime] = {}
    for revision in outcomes:
        if revision.arm == CANDIDATE:
            first.setdefault(revision.collaboration_id, revision.recorded_at)
    return sorted(first.values())


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
        accepted = np.array([before(c.accepted_at, until) for c in mine], bool)
        cancelled = np.array([before(c.cancelled_at, until) for c in mine], bool)
        units = [c.unit for c in mine]
        found[side] = ArmLeading(
            len(mine),
            # Answered: accepted, or cancelled (declined, withdrawn) before that.
            acceptance=RatioMoments.from_rows(units, accepted, accepted | cancelled),
            cancellation=RatioMoments.from_rows(units, accepted & cancelled, accepted),
        )
    return found


def arm_scores(
    collaborations: list[CreditedCollaboration],
    outcomes: list[RatedOutcome],
    until: datetime,
) -> dict[str, ArmScores]:
    """Return each arm's logged probabilities and its labelled ones up to ``until``.

    :param outcomes: one rating per collaboration as it stood (``ratings_at``).
    """
    found = {}
    for side in ARMS:
        logged = [
            c
            for c in collaborations
            if c.arm == side and c.created_at <= until and c.probability is not None
        ]
        rated = [o for o in outcomes if o.arm == side and o.probability is not None]
        found[side] = ArmScores.of(
            [c.probability for c in logged],
            [c.unit for c in logged],
            [o.probability for o in rated],
            [o.success for o in rated],
            [o.unit for o in rated],
        )
    return found


def numbers_at(rollout: Rollout):
    """Return the candidate's rating times and the rollout's evidence at any moment.

    Reads the rating revisions and credited collaborations once; each call of
    the returned function takes them as they stood at its moment and counts the
    requests logged up to it.
    """
    outcomes = rated_outcomes(rollout)
    collaborations = credited_collaborations(rollout)

    def at(moment: datetime) -> Evidence:
        ratings = ratings_at(outcomes, moment)
        return Evidence(
            realised=arm_numbers(ratings, request_counts(rollout.id, moment)),
            leading=leading_numbers(collaborations, moment),
            scores=arm_scores(collaborations, ratings, moment),
        )

    return candidate_rating_times(outcomes), at

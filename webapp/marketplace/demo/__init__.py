"""A synthetic marketplace with a known ground truth (``flask seed-demo``).

The world is drawn with numpy from one seed and the ``WorldParameters``
(``parameters``; same parameters, seed and day, same world):

- ``profiles``: influencers (heavy-tailed followers, engagement falling with
  audience size, skewed niches and countries, rates rising with reach, some
  with a partly bought audience) and companies (industry, target niches and
  countries, log-normal budgets), as they stood when they joined.
- ``timeline``: how every profile changed since (audience growth, re-pricing,
  niche drift, budgets, targets), each state a ProfileRevision.
- ``collaborations``: ~18 months of proposals, more recent ones more frequent;
  brands mostly, not always, pick creators in their target niches and countries
  as the profiles stood that day; budgets near rate x 1-6 posts, sometimes well
  below the rate.
- ``truth``: the hidden success probability and expected ROI of every
  collaboration; the formula is documented there. It is stored in
  ``DemoGroundTruth``, which only benchmarks read.
- ``outcomes``: statuses, end dates and both sides' ratings sampled from it,
  with disputes and ratings edited after the fact (OutcomeRevisions).
- ``activity``: weekly NicheActivity series with trend, seasonality and noise.
- ``history``: every collaboration's status history (a StatusChange per step)
  and the moment and reason of each cancellation.

Everything is written in one transaction with bulk inserts, so a failure leaves
the database as it was.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from flask import current_app
from sqlalchemy import exists, func, select

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning.labels import success_label
from webapp.marketplace.demo import rows as build
from webapp.marketplace.demo.activity import niche_activity_rows
from webapp.marketplace.demo.collaborations import Pairs, make_pairs
from webapp.marketplace.demo.history import (
    History,
    status_change_rows,
    status_history,
)
from webapp.marketplace.demo.outcomes import Results, sample_results
from webapp.marketplace.demo.parameters import DEFAULT_PARAMETERS, WorldParameters
from webapp.marketplace.demo.profiles import make_companies, make_influencers
from webapp.marketplace.demo.timeline import (
    Timeline,
    company_timeline,
    influencer_timeline,
)
from webapp.marketplace.demo.truth import Truth, compute_truth
from webapp.marketplace.demo.writer import (
    Progress,
    ProgressCallback,
    ids_of,
    insert_rows,
)
from webapp.models import (
    Collaboration,
    Company,
    DemoGroundTruth,
    Influencer,
    NicheActivity,
    Outcome,
    OutcomeRevision,
    ProfileRevision,
    StatusChange,
)

__all__ = [
    "DEFAULT_PARAMETERS",
    "SeedReport",
    "WorldParameters",
    "draw_world",
    "marketplace_is_empty",
    "seed_world",
]


@dataclass
class SeedReport:
    """Row counts of a seeded world and how long seeding took."""

    counts: dict[str, int] = field(default_factory=dict)
    success_rate: float = float("nan")
    elapsed: float = 0.0

    def summary(self) -> str:
        """Return a one-paragraph account of what was seeded, for the CLI."""
        parts = ", ".join(f"{count:,} {name}" for name, count in self.counts.items())
        rate = (
            f" Brand-rated success rate {self.success_rate:.1%}."
            if not math.isnan(self.success_rate)
            else ""
        )
        return f"Seeded {parts}.{rate} Took {self.elapsed:.1f} s."


def marketplace_is_empty() -> bool:
    """True when there are no influencers, companies or collaborations."""
    return not db.session.scalar(
        select(
            exists(select(Influencer.id))
            | exists(select(Company.id))
            | exists(select(Collaboration.id))
        )
    )


def seed_world(
    n_influencers: int | None = None,
    n_companies: int | None = None,
    n_collaborations: int | None = None,
    seed: int | None = None,
    progress: ProgressCallback | None = None,
    *,
    now: datetime | None = None,
    params: WorldParameters = DEFAULT_PARAMETERS,
) -> SeedReport:
    """Generate and store a synthetic marketplace; commit once at the end.

    :param params: the world's parameters; the counts and seed given here
        override theirs.
    :param progress: called as ``progress(fraction, stage)``, fraction rising 0..1.
    :param now: the moment the world ends (naive UTC); defaults to now.
    """
    given = {
        "n_influencers": n_influencers,
        "n_companies": n_companies,
        "n_collaborations": n_collaborations,
        "seed": seed,
    }
    params = replace(params, **{k: v for k, v in given.items() if v is not None})
    started = time.perf_counter()
    now = now or utcnow()
    n_influencers, n_companies = params.n_influencers, params.n_companies
    n_collaborations = params.n_collaborations
    n_revisions = n_influencers * (
        1 + 1.5 * params.influencer_revisions_per_year
    ) + n_companies * (1 + 1.5 * params.company_revisions_per_year)
    tracker = Progress(
        progress,
        {
            "drawing the world": 0.02 * n_collaborations + 1,
            "influencers": n_influencers,
            "companies": n_companies,
            "profile revisions": n_revisions,
            "collaborations": n_collaborations,
            "status history": 3.5 * n_collaborations,
            "ground truth": 0.5 * n_collaborations,
            "outcomes": 1.6 * n_collaborations,
            "rating revisions": 1.2 * n_collaborations,
            "niche activity": 500,
        },
    )
    tracker.report("drawing the world", 0.0)
    world = draw_world(params, now)
    tracker.report("drawing the world")
    try:
        counts = write_world(tracker, world)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return SeedReport(
        counts=counts,
        success_rate=brand_success_rate(),
        elapsed=time.perf_counter() - started,
    )


@dataclass
class DrawnWorld:
    """Everything a seed draws, before it is written (hidden columns included)."""

    params: WorldParameters
    timelines: tuple[Timeline, Timeline]  # creators', brands'
    pairs: Pairs
    truth: Truth
    results: Results
    activity: list[dict]
    history: History


def draw_world(params: WorldParameters, now: datetime) -> DrawnWorld:
    """Draw the world of ``params`` ending at ``now`` (same inputs, same world)."""
    today = now.date()
    rng = np.random.default_rng(params.seed)
    inf = make_influencers(rng, params.n_influencers, today, params)
    comp = make_companies(rng, params.n_companies, today, params)
    timelines = (
        influencer_timeline(rng, inf, now, params),
        company_timeline(rng, comp, now, params),
    )
    pairs = make_pairs(rng, inf, comp, params.n_collaborations, today, timelines)
    truth = compute_truth(rng, timelines[0].states, timelines[1].states, pairs, params)
    results = sample_results(rng, pairs, truth, now, params)
    activity = niche_activity_rows(rng, today)
    history = status_history(rng, pairs, results, now)
    return DrawnWorld(params, timelines, pairs, truth, results, activity, history)


def outcome_ids() -> dict[tuple[int, str], int]:
    """Return the ids of the outcomes written, by (collaboration id, side)."""
    rows = db.session.execute(
        select(Outcome.collaboration_id, Outcome.rater_side, Outcome.id)
    ).all()
    return {(cid, side): oid for cid, side, oid in rows}


def brand_success_rate() -> float:
    """Return the share of brand ratings that are successes by the label rule."""
    rate = db.session.scalar(
        select(func.avg(success_label(current_app.config["SUCCESS_MIN_RATING"])))
        .select_from(Outcome)
        .join(Outcome.collaboration)
        .where(Outcome.rater_side == "company")
    )
    return float("nan") if rate is None else float(rate)


def write_world(tracker: Progress, world: DrawnWorld) -> dict[str, int]:
    """Bulk-insert every table of the drawn world; return row counts by table."""
    timelines, pairs, results, history = (
        world.timelines,
        world.pairs,
        world.results,
        world.history,
    )
    influencers, influencer_states = build.profile_rows("influencer", timelines[0])
    insert_rows(Influencer, influencers, tracker, "influencers")
    influencer_ids = ids_of(Influencer, influencers)
    companies, company_states = build.profile_rows("company", timelines[1])
    insert_rows(Company, companies, tracker, "companies")
    company_ids = ids_of(Company, companies)
    revisions = build.revision_rows(
        "influencer", timelines[0], influencer_states, influencer_ids
    ) + build.revision_rows("company", timelines[1], company_states, company_ids)
    insert_rows(ProfileRevision, revisions, tracker, "profile revisions")
    collaborations = build.collaboration_rows(
        pairs, results, history, influencer_ids, company_ids
    )
    insert_rows(Collaboration, collaborations, tracker, "collaborations")
    collaboration_ids = ids_of(Collaboration, collaborations)
    changes = status_change_rows(history, collaboration_ids)
    insert_rows(StatusChange, changes, tracker, "status history")
    truths = build.truth_rows(world.truth, collaboration_ids)
    insert_rows(DemoGroundTruth, truths, tracker, "ground truth")
    outcomes = [
        row
        for ratings in results.ratings
        for row in build.outcome_rows(ratings, collaboration_ids)
    ]
    firsts = [v for ratings in results.ratings for v in build.first_verdicts(ratings)]
    insert_rows(Outcome, outcomes, tracker, "outcomes")
    rating_revisions = build.outcome_revision_rows(outcomes, firsts, outcome_ids())
    insert_rows(OutcomeRevision, rating_revisions, tracker, "rating revisions")
    insert_rows(NicheActivity, world.activity, tracker, "niche activity")
    return {
        "influencers": len(influencers),
        "companies": len(companies),
        "collaborations": len(collaborations),
        "outcomes": len(outcomes),
        "status changes": len(changes),
        "profile revisions": len(revisions),
        "rating revisions": len(rating_revisions),
        "niche activity rows": len(world.activity),
    }

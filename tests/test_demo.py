"""The synthetic demo world: shape, consistency, reproducibility and the CLI."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from webapp.core.taxonomy import NICHES, SUCCESS_FACTORS
from webapp.core.timeutil import start_of, utcnow
from webapp.extensions import db
from webapp.marketplace import demo
from webapp.models import (
    Collaboration,
    Company,
    DemoGroundTruth,
    Influencer,
    NicheActivity,
    Outcome,
    ProfileRevision,
)

SIZE = dict(n_influencers=200, n_companies=30, n_collaborations=1500)
DEMO_TABLES = (
    Outcome,
    DemoGroundTruth,
    Collaboration,
    ProfileRevision,
    NicheActivity,
    Influencer,
    Company,
)


@pytest.fixture
def seeded(app):
    """Seed a small world; return its report and the moment it ends."""
    now = utcnow()
    calls = []
    report = demo.seed_world(
        **SIZE, seed=7, progress=lambda f, s: calls.append((f, s)), now=now
    )
    return {"report": report, "now": now, "calls": calls}


def count(model) -> int:
    """Return the number of rows of ``model``."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def all_rows(model):
    """Return every row of ``model``."""
    return db.session.scalars(sa.select(model)).unique().all()


def brand_labels() -> tuple[np.ndarray, np.ndarray]:
    """Return (true p, label) for every brand-rated collaboration."""
    rows = db.session.execute(
        sa.select(
            DemoGroundTruth.success_probability,
            Outcome.success_rating,
            Outcome.completion_status,
        )
        .join(Outcome, Outcome.collaboration_id == DemoGroundTruth.collaboration_id)
        .where(Outcome.rater_side == "company")
    ).all()
    p = np.array([r[0] for r in rows])
    label = np.array([r[1] >= 4 and r[2] == "completed" for r in rows])
    return p, label


def test_counts_match_the_request(seeded):
    assert count(Influencer) == 200
    assert count(Company) == 30
    assert count(Collaboration) == 1500
    assert count(DemoGroundTruth) == 1500
    # One revision per profile at joining, more for the profiles that changed.
    assert count(ProfileRevision) > 230
    assert count(ProfileRevision) == seeded["report"].counts["profile revisions"]
    assert count(NicheActivity) % len(NICHES) == 0
    counts = seeded["report"].counts
    assert counts["collaborations"] == 1500
    assert counts["outcomes"] == count(Outcome)
    assert "1,500 collaborations" in seeded["report"].summary()


def test_external_ids_follow_the_house_format(seeded):
    first = db.session.scalar(sa.select(sa.func.min(Influencer.external_id)))
    assert first == "INF-000001"
    assert db.session.scalar(sa.select(sa.func.max(Company.external_id))) == "CO-00030"
    assert (
        db.session.scalar(sa.select(sa.func.max(Collaboration.external_id)))
        == "COL-0001500"
    )


def snapshot():
    """Return the world as comparable tuples (independent of database ids)."""
    collaborations = sorted(
        (
            c.external_id,
            c.influencer.external_id,
            c.company.external_id,
            c.proposed_on,
            c.status,
            c.budget,
            c.completed_on,
            tuple(sorted((o.rater_side, o.success_rating) for o in c.outcomes)),
        )
        for c in all_rows(Collaboration)
    )
    influencers = sorted(
        (i.external_id, i.handle, i.followers, i.engagement_rate, i.country)
        for i in all_rows(Influencer)
    )
    truth = sorted(round(t.success_probability, 12) for t in all_rows(DemoGroundTruth))
    return collaborations, influencers, truth


def wipe() -> None:
    """Delete the demo world so the next seed starts from empty tables."""
    for model in DEMO_TABLES:
        db.session.execute(sa.delete(model))
    db.session.commit()


def test_same_seed_gives_the_same_world(app):
    now = utcnow()
    demo.seed_world(**SIZE, seed=11, now=now)
    first = snapshot()
    wipe()
    demo.seed_world(**SIZE, seed=11, now=now)
    assert snapshot() == first
    wipe()
    demo.seed_world(**SIZE, seed=12, now=now)
    assert snapshot()[0] != first[0]


def test_statuses_and_dates_are_consistent(seeded):
    now = seeded["now"]
    today = now.date()
    collaborations = all_rows(Collaboration)
    statuses = Counter(c.status for c in collaborations)
    assert set(statuses) == {"proposed", "accepted", "active", "completed", "cancelled"}
    for c in collaborations:
        finished = c.proposed_on < today - timedelta(days=45)
        assert c.is_finished == finished, c.external_id
        if c.status == "completed":
            assert timedelta(14) <= c.completed_on - c.proposed_on <= timedelta(60)
            assert c.completed_on <= today
        else:
            assert c.completed_on is None
        sides = [o.rater_side for o in c.outcomes]
        assert len(sides) == len(set(sides))
        if not c.is_finished:
            assert sides == []
        for outcome in c.outcomes:
            assert outcome.rated_at <= now
            assert outcome.rated_by_id is None
            if c.status == "completed":
                assert outcome.rated_at >= start_of(c.completed_on)
                assert outcome.rated_at <= start_of(c.completed_on) + timedelta(15)
            else:
                assert outcome.completion_status == "cancelled"
                assert outcome.rated_at > start_of(c.proposed_on)


def test_some_finished_collaborations_are_left_to_rate(seeded):
    finished = sum(c.is_finished for c in all_rows(Collaboration))
    for side in ("company", "influencer"):
        rated = db.session.scalar(
            sa.select(sa.func.count()).where(Outcome.rater_side == side)
        )
        assert 0.05 * finished < finished - rated < 0.25 * finished


def test_outcome_fields_are_plausible(seeded):
    outcomes = all_rows(Outcome)
    for outcome in outcomes:
        assert set(outcome.success_factors) <= set(SUCCESS_FACTORS)
        if outcome.rater_side == "influencer":
            assert outcome.roi_achieved is None
        elif outcome.roi_achieved is not None:
            assert outcome.roi_achieved >= -1
        if outcome.completion_status == "cancelled":
            assert outcome.collaboration.status == "cancelled"
    brand_roi = [o.roi_achieved for o in outcomes if o.rater_side == "company"]
    assert any(r is None for r in brand_roi) and any(r is not None for r in brand_roi)
    again = [o.would_collaborate_again for o in outcomes if o.success_rating == 5]
    assert np.mean(again) > 0.8
    assert any(o.feedback for o in outcomes) and any(not o.feedback for o in outcomes)


def test_successes_are_completed_and_failures_vary(seeded):
    p, label = brand_labels()
    assert 0.35 < label.mean() < 0.7
    brand = [o for o in all_rows(Outcome) if o.rater_side == "company"]
    failures = Counter(
        (o.collaboration.status, o.completion_status)
        for o in brand
        if not (o.success_rating >= 4 and o.completion_status == "completed")
    )
    assert failures[("cancelled", "cancelled")] > 0
    assert failures[("completed", "completed")] > 0
    assert failures[("completed", "partially_completed")] > 0
    assert all(
        o.success_rating <= 3 for o in brand if o.completion_status != "completed"
    )


def test_ground_truth_is_stored_and_informative(seeded):
    truth = all_rows(DemoGroundTruth)
    assert {t.collaboration_id for t in truth} == {
        c.id for c in all_rows(Collaboration)
    }
    assert all(0 < t.success_probability < 1 for t in truth)
    assert all(t.expected_roi >= -1 for t in truth)
    p, label = brand_labels()
    assert roc_auc_score(label, p) > 0.7


def test_brands_mostly_pick_creators_in_their_niches(seeded):
    collaborations = all_rows(Collaboration)
    in_target = np.mean(
        [c.influencer.niche in c.company.target_niches for c in collaborations]
    )
    assert 0.35 < in_target < 0.9


def test_engagement_falls_with_followers(seeded):
    influencers = all_rows(Influencer)
    followers = [i.followers for i in influencers]
    engagement = [i.engagement_rate for i in influencers]
    assert spearmanr(followers, engagement).statistic < -0.4
    assert min(followers) >= 1000 and max(followers) <= 10_000_000
    assert all(0.002 <= e <= 0.3 for e in engagement)


def test_niche_activity_is_weekly_and_positive(seeded):
    today = seeded["now"].date()
    this_monday = today - timedelta(days=today.weekday())
    rows = all_rows(NicheActivity)
    assert {r.niche for r in rows} == set(NICHES)
    assert all(r.value > 0 for r in rows)
    for niche in NICHES:
        weeks = sorted(r.period_start for r in rows if r.niche == niche)
        assert all(w.weekday() == 0 for w in weeks)
        assert {b - a for a, b in zip(weeks, weeks[1:], strict=False)} == {timedelta(7)}
        assert weeks[-1] == this_monday
        assert weeks[-1] - weeks[0] >= timedelta(weeks=100)


def test_every_profile_has_its_first_revision_and_ends_at_its_current_one(seeded):
    revisions: dict[tuple[str, int], list] = {}
    for r in sorted(all_rows(ProfileRevision), key=lambda r: (r.valid_from, r.id)):
        revisions.setdefault((r.kind, r.entity_id), []).append(r)
    for kind, model in (("influencer", Influencer), ("company", Company)):
        for profile in all_rows(model):
            mine = revisions[(kind, profile.id)]
            assert mine[0].valid_from == start_of(profile.joined_on)
            assert mine[-1].attributes == profile.profile()
            assert all(r.valid_from < seeded["now"] for r in mine)


def test_progress_rises_to_one_through_the_stages(seeded):
    calls = seeded["calls"]
    fractions = [f for f, _ in calls]
    assert len(calls) >= 20
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert {"influencers", "collaborations", "outcomes", "niche activity"} <= {
        s for _, s in calls
    }


def test_collaborations_need_profiles(app):
    with pytest.raises(ValueError):
        demo.seed_world(n_influencers=0, n_companies=5, n_collaborations=10)
    assert demo.marketplace_is_empty()


def test_cli_seeds_once_then_refuses_or_skips(runner):
    args = ["seed-demo", "--influencers", "40", "--companies", "8"]
    args += ["--collaborations", "300"]
    assert demo.marketplace_is_empty()
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "300 collaborations" in result.output
    assert not demo.marketplace_is_empty()

    refused = runner.invoke(args=args)
    assert refused.exit_code != 0
    assert "already has data" in refused.output
    skipped = runner.invoke(args=[*args, "--if-empty"])
    assert skipped.exit_code == 0
    assert "not seeding" in skipped.output
    assert count(Collaboration) == 300

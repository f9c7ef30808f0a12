"""Pair features and point-in-time history."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from conftest import make_company, make_influencer

from webapp.core.timeutil import start_of
from webapp.extensions import db
from webapp.learning import features, loaders, training_data
from webapp.learning.history import UNKNOWN_NICHE_PAIR, HistoryEvents, HistoryIndex
from webapp.models import Collaboration, Outcome, ProfileRevision

NAMES = list(features.FEATURE_NAMES)


def column(X: np.ndarray, name: str) -> np.ndarray:
    return X[:, NAMES.index(name)]


def test_niche_and_country_alignment(app):
    inf = features.encode_influencers(
        [
            {
                **make_influencer("A").__dict__,
                "secondary_niches": [],
                "platforms": ["x"],
            },
            {
                **make_influencer("B", niche="gaming", country="JP").__dict__,
                "platforms": [],
            },
        ]
    )
    co = features.encode_companies([make_company("C").__dict__] * 2)
    history = HistoryIndex(HistoryEvents.empty()).stats(
        np.array([1, 2]),
        np.array([1, 1]),
        np.array([9000, 9000]),
        features.niche_pairs(inf, co),
    )
    X = features.pair_matrix(
        inf, co, history, np.array([9000.0, 9000.0]), np.array([1200.0, 50.0])
    )
    assert column(X, "niche_primary_match").tolist() == [1, 0]
    assert column(X, "audience_country_match").tolist() == [1, 0]
    assert column(X, "location_match").tolist() == [1, 0]
    assert column(X, "log_budget_ratio")[0] == pytest.approx(np.log(1200 / 400))
    assert column(X, "influencer_success_rate").tolist() == [
        0.5,
        0.5,
    ]  # prior, no history
    assert X.shape == (2, len(NAMES))


def brute_force_counts(events: HistoryEvents, influencer: int, company: int, day: int):
    """Count history by looping over every event (the reference implementation)."""
    collabs = sum(
        1
        for i, d in zip(events.collab_influencer, events.collab_day, strict=True)
        if i == influencer and d < day
    )
    rated = sum(
        1
        for i, s in zip(events.brand_influencer, events.brand_second, strict=True)
        if i == influencer and s < day * 86400
    )
    pair = sum(
        1
        for i, c, d in zip(
            events.collab_influencer,
            events.collab_company,
            events.collab_day,
            strict=True,
        )
        if i == influencer and c == company and d < day
    )
    return collabs, rated, pair


def test_history_index_matches_brute_force():
    rng = np.random.default_rng(5)
    n = 400
    events = HistoryEvents(
        collab_influencer=rng.integers(1, 30, n),
        collab_company=rng.integers(1, 10, n),
        collab_day=rng.integers(9000, 9300, n),
        brand_influencer=rng.integers(1, 30, n),
        brand_company=rng.integers(1, 10, n),
        brand_second=rng.integers(9000 * 86400, 9300 * 86400, n),
        brand_success=rng.random(n) < 0.5,
        partner_company=rng.integers(1, 10, n),
        partner_second=rng.integers(9000 * 86400, 9300 * 86400, n),
        partner_rating=rng.integers(1, 6, n),
    )
    queries_i, queries_c, queries_d = (
        rng.integers(1, 30, 50),
        rng.integers(1, 10, 50),
        rng.integers(8990, 9310, 50),
    )
    stats = HistoryIndex(events).stats(
        queries_i, queries_c, queries_d, np.full(50, UNKNOWN_NICHE_PAIR)
    )
    for q in range(50):
        collabs, rated, pair = brute_force_counts(
            events, queries_i[q], queries_c[q], queries_d[q]
        )
        assert stats.influencer_collaborations[q] == collabs
        assert stats.influencer_rated[q] == rated
        assert stats.pair_collaborations[q] == pair


def test_shared_partners_counts_two_hop_brands_before_the_day():
    # influencer 1 worked with brand 10 (day 5); brand 10 also worked with influencer 2
    # (day 6); company 20 worked with influencer 2 (day 7). So for (1, 20): brand 10
    # shares influencer 2 with company 20 -> 1 shared partner, from day 8 on.
    events = HistoryEvents.empty()
    events.collab_influencer = np.array([1, 2, 2])
    events.collab_company = np.array([10, 10, 20])
    events.collab_day = np.array([5, 6, 7])
    index = HistoryIndex(events)
    days = np.array([7, 8, 100])
    shared = index.shared_partners(np.array([1, 1, 1]), np.array([20, 20, 20]), days)
    assert shared.tolist() == [0, 1, 1]


@pytest.fixture
def history_world(app, world):
    """The conftest world plus rated history for influencer A before and after a pivot."""
    inf_a = world["influencers"][0]
    co_b = world["companies"][1]
    past = Collaboration(
        external_id="PAST",
        influencer=inf_a,
        company=co_b,
        proposed_on=date(2025, 1, 10),
        status="completed",
        budget=800.0,
        completed_on=date(2025, 2, 1),
    )
    db.session.add(past)
    # As the demo and the importer do: the profile as known since the creator joined.
    db.session.add(
        ProfileRevision(
            kind="influencer",
            entity_id=inf_a.id,
            valid_from=start_of(inf_a.joined_on),
            attributes=inf_a.profile(),
        )
    )
    db.session.add(
        Outcome(
            collaboration=past,
            rater_side="company",
            success_rating=5,
            completion_status="completed",
            would_collaborate_again=True,
            rated_at=datetime(2025, 2, 3, 10),
        )
    )
    db.session.commit()
    return world


def features_of(external_id: str) -> np.ndarray:
    """Return the training feature row of one collaboration."""
    data = training_data.build("success", {"SUCCESS_MIN_RATING": 4})
    collab = db.session.scalar(
        db.select(Collaboration).where(Collaboration.external_id == external_id)
    )
    position = int(np.flatnonzero(data.times == np.datetime64(collab.proposed_on))[0])
    return data.X[position]


def label_rows(world) -> None:
    """Give the pivot collaboration (C-A-completed) a brand rating so it is a training row."""
    db.session.add(
        Outcome(
            collaboration=world["collaborations"]["completed"],
            rater_side="company",
            success_rating=4,
            completion_status="completed",
            would_collaborate_again=True,
            rated_at=datetime(2025, 4, 5),
        )
    )
    db.session.commit()


def test_a_future_outcome_does_not_move_a_past_feature(app, history_world):
    world = history_world
    label_rows(world)
    pivot = world["collaborations"]["completed"]  # proposed 2025-03-01
    before = features_of(pivot.external_id)
    assert before[NAMES.index("influencer_rated_outcomes")] == pytest.approx(
        np.log1p(1)
    )

    # Plant the future: a later collaboration of the same influencer, a brand rating of
    # it given after the pivot day, and a profile edit after the pivot day.
    later = Collaboration(
        external_id="LATER",
        influencer=pivot.influencer,
        company=pivot.company,
        proposed_on=date(2025, 5, 1),
        status="completed",
        budget=100.0,
        completed_on=date(2025, 5, 20),
    )
    db.session.add(later)
    db.session.add(
        Outcome(
            collaboration=later,
            rater_side="company",
            success_rating=1,
            completion_status="disputed",
            would_collaborate_again=False,
            rated_at=start_of(pivot.proposed_on) + timedelta(seconds=1),
        )
    )
    db.session.add(
        ProfileRevision(
            kind="influencer",
            entity_id=pivot.influencer_id,
            valid_from=start_of(pivot.proposed_on) + timedelta(hours=1),
            attributes={
                **pivot.influencer.profile(),
                "followers": 9_000_000,
                "content_quality": 1.0,
            },
        )
    )
    db.session.commit()

    after = features_of(pivot.external_id)
    np.testing.assert_array_equal(before, after)
    # ...while the later collaboration does see the rating given before it.
    assert features_of("LATER")[
        NAMES.index("influencer_rated_outcomes")
    ] == pytest.approx(np.log1p(3))


def test_orm_profile_changes_record_revisions(app, world):
    inf = world["influencers"][0]
    count = db.select(db.func.count()).select_from(ProfileRevision)
    before = db.session.scalar(count)
    inf.handle = "renamed"  # not a profile attribute: no revision
    db.session.commit()
    assert db.session.scalar(count) == before
    inf.followers = 99_999
    db.session.commit()
    assert db.session.scalar(count) == before + 1
    latest = db.session.scalars(
        db.select(ProfileRevision).order_by(ProfileRevision.id.desc()).limit(1)
    ).one()
    assert latest.attributes["followers"] == 99_999 and latest.entity_id == inf.id


def test_profile_as_of_uses_the_revision_valid_before_the_day(app, world):
    inf = world["influencers"][0]
    db.session.execute(db.delete(ProfileRevision))
    db.session.add_all(
        [
            ProfileRevision(
                kind="influencer",
                entity_id=inf.id,
                valid_from=datetime(2024, 1, 1),
                attributes={**inf.profile(), "followers": 1000},
            ),
            ProfileRevision(
                kind="influencer",
                entity_id=inf.id,
                valid_from=datetime(2025, 1, 1),
                attributes={**inf.profile(), "followers": 2000},
            ),
        ]
    )
    db.session.commit()
    days = np.array(
        [
            features.day_number(d)
            for d in (
                date(2023, 6, 1),
                date(2024, 6, 1),
                date(2025, 1, 1),
                date(2025, 1, 2),
            )
        ]
    )
    profiles, approximated = loaders.profiles_as_of(
        "influencer", np.full(4, inf.id), days
    )
    # Before the first revision: the earliest known; on the day of a change: still the old one.
    assert [p["followers"] for p in profiles] == [1000, 1000, 1000, 2000]
    # Only the first query had no revision before its day: it is flagged.
    assert approximated.tolist() == [True, False, False, False]


def test_snapshot_features_are_used_when_present(app, world):
    label_rows(world)
    pivot = world["collaborations"]["completed"]
    recomputed = features_of(pivot.external_id)
    snapshot = features.as_snapshot(recomputed + 1.0)
    pivot.match_snapshot = {"features": snapshot, "model_type": "match_success"}
    db.session.commit()
    history = [NAMES.index(name) for name in features.HISTORY_FEATURES]
    profile = [j for j in range(len(NAMES)) if j not in history]
    row = features_of(pivot.external_id)
    # Profile and terms features as stored at proposal; history always point in time.
    np.testing.assert_allclose(row[profile], recomputed[profile] + 1.0)
    np.testing.assert_allclose(row[history], recomputed[history])


def test_opted_out_users_are_left_out_of_training(app, world):
    label_rows(world)
    before = training_data.build("success", {"SUCCESS_MIN_RATING": 4}).n_samples
    world["brand"].training_opt_out = True  # the brand of company A
    db.session.commit()
    with pytest.raises(Exception, match="no rated, finished collaborations"):
        training_data.build("success", {"SUCCESS_MIN_RATING": 4})
    assert before >= 1


def test_shared_partners_of_one_day_match_the_replay_of_events():
    # Serving asks for many pairs as of one day (a partner graph); training asks
    # for many days (a replay of events). Both count the same thing.
    rng = np.random.default_rng(3)
    events = HistoryEvents.empty()
    events.collab_influencer = rng.integers(1, 40, 600)
    events.collab_company = rng.integers(100, 130, 600)
    events.collab_day = rng.integers(0, 200, 600)
    influencers = rng.integers(1, 45, 400)
    companies = rng.integers(100, 133, 400)
    for day in (0, 50, 120, 199, 400):
        days = np.full(400, day)
        # Adding a query one day later forces the replay path for the rest.
        replayed = HistoryIndex(events).shared_partners(
            np.append(influencers, 1), np.append(companies, 100), np.append(days, 0)
        )[:-1]
        by_graph = HistoryIndex(events).shared_partners(influencers, companies, days)
        assert by_graph.tolist() == replayed.tolist()
        assert day < 50 or by_graph.sum() > 0

"""Features a marketplace learns from (issue 11, point 2), each point in time.

For every new feature: an event after the moment (a later rating, cancellation,
dispute or profile revision) moves nothing in the row, and the same event
before the moment moves the feature. Then the parts the features rest on: the
empirical-Bayes prior strength, recency weighting, and the database loaders,
with training and serving computing the same row for the same moment.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import add_brand_rating, add_cancellation, add_collaboration

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning import features, loaders, track_records, training_data
from webapp.learning.history import HistoryEvents, HistoryIndex, niche_pair_code
from webapp.learning.profile_signals import ProfileRevisions
from webapp.marketplace import lifecycle
from webapp.serving import serving_state

DAY = 9500  # the moment every row describes (a day number)
SECOND = DAY * 86_400
NAMES = list(features.FEATURE_NAMES)
PROFILE = dict(
    niche="fitness",
    secondary_niches=[],
    platforms=["instagram"],
    country="US",
    followers=25_000,
    engagement_rate=0.045,
    rate_per_post=400.0,
    joined_on=date(2020, 1, 1),
    posts_per_week=4.0,
    avg_response_hours=6.0,
    content_quality=7.0,
)
BRAND = dict(
    industry="fitness",
    target_niches=["fitness"],
    country="US",
    target_countries=["US"],
    budget_per_campaign=5_000.0,
    joined_on=date(2020, 1, 1),
)
INF = features.encode_influencers([PROFILE])
CO = features.encode_companies([BRAND])
PAIR = features.niche_pairs(INF, CO)


def background() -> HistoryEvents:
    """Other creators' and brands' outcomes and profiles, all long before DAY."""
    rng = np.random.default_rng(3)
    n, m = 600, 80
    inf = rng.integers(10, 60, n)
    co = rng.integers(10, 40, n)
    reliability = rng.beta(3, 3, 100)
    followers = np.exp(rng.uniform(np.log(2e3), np.log(2e6), m))
    engagement = 0.08 * (followers / 5e3) ** -0.3 * np.exp(rng.normal(0, 0.3, m))
    return HistoryEvents(
        collab_influencer=inf,
        collab_company=co,
        collab_day=rng.integers(DAY - 700, DAY - 50, n),
        brand_influencer=inf,
        brand_company=co,
        brand_second=rng.integers(SECOND - 700 * 86_400, SECOND - 50 * 86_400, n),
        brand_success=rng.random(n) < reliability[inf],
        partner_company=co,
        partner_second=rng.integers(SECOND - 700 * 86_400, SECOND - 50 * 86_400, n),
        partner_rating=rng.integers(1, 6, n),
        brand_outcome=np.arange(n),
        partner_outcome=np.arange(n),
        brand_niche_pair=np.where(rng.random(n) < 0.3, PAIR[0], PAIR[0] + 1),
        profiles=ProfileRevisions.sorted(
            np.arange(100, 100 + m),
            np.full(m, SECOND - 400 * 86_400),
            followers,
            engagement,
        ),
    )


def add(events: HistoryEvents, **arrays) -> HistoryEvents:
    """Return ``events`` with the given one-event arrays appended."""
    grown = {
        name: np.concatenate([getattr(events, name), np.asarray(values)])
        for name, values in arrays.items()
    }
    return dataclasses.replace(events, **grown)


def rating(events, second, influencer=1, company=1, pair=None, success=False):
    """Add a brand rating revision of a new outcome."""
    return add(
        events,
        brand_influencer=[influencer],
        brand_company=[company],
        brand_second=[second],
        brand_success=[success],
        brand_outcome=[events.brand_outcome.max() + 1],
        brand_niche_pair=[PAIR[0] + 1 if pair is None else pair],
    )


def cancellation(events, second, influencer=1, company=2):
    return add(
        events,
        cancel_influencer=[influencer],
        cancel_company=[company],
        cancel_second=[second],
    )


def dispute(events, second, influencer=1, company=2):
    return add(
        events,
        dispute_influencer=[influencer],
        dispute_company=[company],
        dispute_second=[second],
    )


def profile_revision(events, second, entity=1, followers=90_000.0):
    """Add an influencer profile revision (another count of followers)."""
    p = events.profiles
    return dataclasses.replace(
        events,
        profiles=ProfileRevisions.sorted(
            np.r_[p.entity, entity],
            np.r_[p.second, second],
            np.r_[p.followers, followers],
            np.r_[p.engagement, 0.3],
        ),
    )


def with_own_profiles(events: HistoryEvents) -> HistoryEvents:
    """Give influencer 1 a first profile long before DAY (growth needs two)."""
    return profile_revision(events, SECOND - 300 * 86_400, followers=25_000.0)


def row(events: HistoryEvents) -> np.ndarray:
    """Return the feature row of (influencer 1, company 1) as of DAY."""
    one = np.array([1])
    stats = HistoryIndex(events).stats(one, one, np.array([DAY]), PAIR)
    return features.pair_matrix(INF, CO, stats, np.array([float(DAY)]), [800.0])[0]


EVENTS = {
    "influencer_success_rate": lambda ev, s: rating(ev, s, company=2),
    "company_success_rate": lambda ev, s: rating(ev, s, influencer=2),
    "niche_pair_success_rate": lambda ev, s: rating(
        ev, s, influencer=3, company=3, pair=PAIR[0]
    ),
    "influencer_cancellations": lambda ev, s: cancellation(ev, s),
    "company_cancellations": lambda ev, s: cancellation(ev, s, 2, 1),
    "influencer_disputes": lambda ev, s: dispute(ev, s),
    "company_disputes": lambda ev, s: dispute(ev, s, 2, 1),
    "follower_growth": lambda ev, s: profile_revision(ev, s),
    # Another creator with implausible engagement for the size moves the fit.
    "engagement_residual": lambda ev, s: profile_revision(
        ev, s, entity=500, followers=5e6
    ),
}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_a_later_event_moves_nothing_and_an_earlier_one_moves_the_feature(name):
    base = with_own_profiles(background())
    before = row(base)
    # The moment itself counts as later: an event of DAY is seen from DAY + 1 on.
    for later in (SECOND, SECOND + 3600, SECOND + 40 * 86_400):
        np.testing.assert_array_equal(row(EVENTS[name](base, later)), before)
    earlier = row(EVENTS[name](base, SECOND - 60 * 86_400))
    j = NAMES.index(name)
    assert earlier[j] != pytest.approx(before[j], abs=1e-9)


def test_a_rating_edit_after_the_moment_does_not_move_the_track_records():
    base = rating(background(), SECOND - 30 * 86_400, success=True, pair=PAIR[0])
    before = row(base)
    edited = add(
        base,
        brand_influencer=[1],
        brand_company=[1],
        brand_second=[SECOND + 5],
        brand_success=[False],
        brand_outcome=[base.brand_outcome[-1]],
        brand_niche_pair=[PAIR[0]],
    )
    np.testing.assert_array_equal(row(edited), before)
    later = HistoryIndex(edited).stats(
        np.array([1]), np.array([1]), np.array([DAY + 1]), PAIR
    )
    assert (
        later.influencer_success_rate[0]
        < before[NAMES.index("influencer_success_rate")]
    )


def test_a_recent_success_weighs_more_than_an_old_one():
    old_success = rating(
        rating(background(), SECOND - 700 * 86_400, success=True),
        SECOND - 10 * 86_400,
    )
    recent_success = rating(
        rating(background(), SECOND - 700 * 86_400),
        SECOND - 10 * 86_400,
        success=True,
    )
    j = NAMES.index("influencer_success_rate")
    assert row(recent_success)[j] > row(old_success)[j]


def test_a_track_record_is_shrunk_more_the_less_evidence_there_is():
    one, many = background(), background()
    one = rating(one, SECOND - 20 * 86_400, success=True)
    for k in range(12):
        many = rating(many, SECOND - (20 + k) * 86_400, success=True)
    query = (np.array([1]), np.array([1]), np.array([DAY]), PAIR)
    population = HistoryIndex(background()).stats(*query).influencer_success_rate[0]
    few = HistoryIndex(one).stats(*query).influencer_success_rate[0]
    lots = HistoryIndex(many).stats(*query).influencer_success_rate[0]
    assert population < few < lots < 1.0


def test_the_prior_strength_is_estimated_from_the_spread_of_rates():
    rng = np.random.default_rng(11)
    for alpha, beta in ((6.0, 4.0), (30.0, 20.0)):
        p = rng.beta(alpha, beta, 3000)
        n = rng.integers(5, 40, 3000).astype(float)
        k = rng.binomial(n.astype(int), p).astype(float)
        estimate = track_records.prior_strength(n, k)
        assert estimate == pytest.approx(alpha + beta, rel=0.25)
    # Rates that differ only by chance: the strongest prior; too few: the fallback.
    n = np.full(3000, 20.0)
    k = rng.binomial(20, 0.4, 3000).astype(float)
    assert track_records.prior_strength(n, k) >= 200
    few = track_records.prior_strength(np.array([3.0, 1.0]), np.array([1.0, 1.0]))
    assert few == track_records.FALLBACK_PRIOR_STRENGTH


def test_the_engagement_residual_is_measured_against_the_audience_size():
    """Two creators with the same raw rate: the larger audience is the surprise."""
    events = background()
    big = dict(PROFILE, followers=2_000_000)
    inf = features.encode_influencers([PROFILE, big])
    co = CO.take(np.zeros(2, dtype=np.int64))
    stats = HistoryIndex(events).stats(
        np.array([1, 2]), np.array([1, 1]), np.full(2, DAY), np.r_[PAIR, PAIR]
    )
    rows = features.pair_matrix(inf, co, stats, np.full(2, float(DAY)), [800.0] * 2)
    j = NAMES.index("engagement_residual")
    assert rows[1, j] > rows[0, j] + 0.5
    # Without profiles known before the moment there is no fit: the residual is 0.
    empty = HistoryIndex(HistoryEvents.empty()).stats(
        np.array([1]), np.array([1]), np.array([DAY]), PAIR
    )
    assert features.engagement_residual(INF, empty)[0] == 0.0


def test_niche_pair_codes_leave_unknown_niches_out():
    assert niche_pair_code(np.array([0, -1, 2]), np.array([1, 1, -1])).tolist() == [
        1,
        -1,
        -1,
    ]


def test_a_query_must_say_its_niche_pairs():
    index, one = HistoryIndex(background()), np.array([1])
    with pytest.raises(TypeError):
        index.stats(one, one, np.array([DAY]))  # forgotten: no silent population rate
    with pytest.raises(ValueError, match="niche_pair"):
        index.stats(one, one, np.array([DAY]), np.r_[PAIR, PAIR])


# -- the database side: loaders, training and serving -------------------------------


def test_cancellations_and_disputes_count_from_when_they_happened(world):
    inf_a, co_a = world["influencers"][0], world["companies"][0]
    pivot = world["collaborations"]["completed"]  # proposed 1 Mar 2025
    add_brand_rating(pivot, 4, datetime(2025, 4, 5))
    for name, cancelled_at in (("EARLY", (2025, 2, 1)), ("LATE", (2025, 6, 1))):
        add_cancellation(
            add_collaboration(name, inf_a, co_a, date(2025, 1, 12), "accepted"),
            datetime(*cancelled_at),
        )
    for name, rated in (("EARLY-D", (2025, 2, 10)), ("LATE-D", (2025, 5, 1))):
        disputed = add_collaboration(name, inf_a, co_a, date(2025, 1, 15))
        add_brand_rating(disputed, 2, datetime(*rated)).completion_status = "disputed"
    db.session.commit()

    data = training_data.build("success", {"SUCCESS_MIN_RATING": 4})
    [position] = np.flatnonzero(data.row_ids == pivot.id)
    seen = dict(zip(NAMES, data.X[position], strict=True))
    for name in (
        "influencer_cancellations",
        "company_cancellations",
        "influencer_disputes",
        "company_disputes",
    ):
        assert seen[name] == pytest.approx(np.log1p(1)), name

    events = loaders.load_events(4)
    assert sorted(events.cancel_second.tolist()) == sorted(
        loaders.seconds([datetime(2025, 2, 1), datetime(2025, 6, 1)]).tolist()
    )
    assert len(events.dispute_second) == 2


def test_a_cancellation_counts_after_acceptance_against_the_side_that_cancelled(
    world,
):
    inf_a, co_a = world["influencers"][0], world["companies"][0]
    creator, brand, admin = world["creator"], world["brand"], world["admin"]
    collabs = world["collaborations"]
    # Proposals that never ran: the creator declines one, the brand withdraws one.
    lifecycle.transition(collabs["proposed"], "decline", creator)
    withdrawn = add_collaboration(
        "WITHDRAWN", inf_a, co_a, date(2025, 4, 1), "proposed"
    )
    db.session.commit()
    lifecycle.transition(withdrawn, "withdraw", brand)
    tomorrow = np.array([features.day_number(utcnow().date()) + 1])

    def cancellations() -> tuple[float, float]:
        stats = HistoryIndex(loaders.load_events(4)).stats(
            np.array([inf_a.id]), np.array([co_a.id]), tomorrow, np.array([-1])
        )
        return (
            float(stats.influencer_cancellations[0]),
            float(stats.company_cancellations[0]),
        )

    assert cancellations() == (0, 0)
    # The brand cancels a running one: it counts against the brand only.
    lifecycle.transition(collabs["active"], "cancel", brand, note="Budget cut")
    assert cancellations() == (0, 1)
    # An admin settles a dispute: no side is recorded, it counts against both.
    accepted = add_collaboration("ACCEPTED", inf_a, co_a, date(2025, 4, 2), "accepted")
    db.session.commit()
    lifecycle.transition(accepted, "cancel", admin, note="Dispute settled")
    assert cancellations() == (1, 2)


def test_training_and_serving_compute_the_same_row_for_the_same_day(world):
    inf_a, co_a, co_b = world["influencers"][0], *world["companies"]
    last_month = utcnow() - timedelta(days=30)
    done = add_collaboration("DONE", inf_a, co_a, last_month.date() - timedelta(10))
    add_brand_rating(done, 5, last_month)
    gone = add_collaboration(
        "GONE", inf_a, co_b, last_month.date() - timedelta(5), status="active"
    )
    add_cancellation(gone, last_month, from_status="active")
    fought = add_collaboration("FOUGHT", inf_a, co_b, last_month.date())
    add_brand_rating(fought, 2, last_month).completion_status = "disputed"
    db.session.commit()
    serving_state().pool.clear()

    today = utcnow().date()
    recomputed = training_data.pair_features_at_proposal(
        [
            SimpleNamespace(
                influencer_id=inf_a.id,
                company_id=co_b.id,
                proposed_on=today,
                budget=700.0,
                match_snapshot={},
            )
        ],
        4,
    )[0]
    pool = serving_state().pool.get(4)
    served = pool.rows_for_company(co_b.id, 700.0)
    position = int(np.searchsorted(pool.influencer_ids, inf_a.id))
    np.testing.assert_allclose(served[position], recomputed)
    seen = dict(zip(NAMES, recomputed, strict=True))
    assert seen["influencer_cancellations"] == pytest.approx(np.log1p(1))
    assert seen["company_disputes"] == pytest.approx(np.log1p(1))

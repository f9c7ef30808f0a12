"""The learning loop cannot see the future (issue 6, point 3).

Each test plants a leak — a rating edited later, a cancellation nobody rates, a
member who opts out after the fact, an event of today — and shows that what a
past moment saw (a feature, a label, its time) does not move.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from types import SimpleNamespace

import numpy as np
import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT, add_brand_rating, add_collaboration, make_influencer

from webapp.core.timeutil import start_of, utcnow
from webapp.extensions import db
from webapp.learning import features, loaders, training_data
from webapp.learning.history import HistoryIndex
from webapp.marketplace import importer, lifecycle, proposals
from webapp.models import (
    Collaboration,
    Outcome,
    OutcomeRevision,
    ProfileRevision,
)
from webapp.serving import serving_state

NAMES = list(features.FEATURE_NAMES)
CONFIG = {"SUCCESS_MIN_RATING": 4}


def feature(row: np.ndarray, name: str) -> float:
    return float(row[NAMES.index(name)])


def training_row(collaboration: Collaboration) -> tuple[np.ndarray, int, np.datetime64]:
    """Return (features, label, label time) of one collaboration's training row."""
    data = training_data.build("success", CONFIG)
    [position] = np.flatnonzero(data.row_ids == collaboration.id)
    return data.X[position], int(data.y[position]), data.label_times[position]


@pytest.fixture
def past(world):
    """PAST (influencer A with brand A, Jan 2025) rated a success on 3 Feb 2025.

    The pivot C-A-completed (proposed 1 Mar 2025) is a training row whose
    history sees PAST's rating.
    """
    inf_a, co_a = world["influencers"][0], world["companies"][0]
    past = add_collaboration("PAST", inf_a, co_a, date(2025, 1, 10))
    add_brand_rating(past, 5, datetime(2025, 2, 3, 10))
    add_brand_rating(world["collaborations"]["completed"], 4, datetime(2025, 4, 5))
    db.session.commit()
    return past


# -- (a) rating edits are revisions ------------------------------------------------


def test_editing_a_rating_through_the_form_does_not_move_past_features(
    client, auth, world, past
):
    pivot = world["collaborations"]["completed"]
    before, _, _ = training_row(pivot)
    # One outcome known, a success: the population rate then is that success too.
    assert feature(before, "influencer_success_rate") == pytest.approx(1.0)

    # Plant the leak: the brand edits PAST's rating today, long after the pivot.
    auth.login("brand@example.com")
    edited = utcnow()
    response = client.post(
        "/collaborations/PAST/rate",
        data={
            "success_rating": "1",
            "completion_status": "disputed",
            "would_collaborate_again": "no",
        },
    )
    assert response.status_code == 302

    after, _, _ = training_row(pivot)
    np.testing.assert_array_equal(before, after)
    db.session.expire_all()
    outcome = db.session.get(Collaboration, past.id).outcome_for("company")
    assert [r.success_rating for r in outcome.revisions] == [5, 1]
    assert outcome.revisions[0].recorded_at == datetime(2025, 2, 3, 10)
    assert outcome.revisions[1].recorded_at >= edited.replace(microsecond=0)
    # A moment after the edit sees the new value: one failure, one success.
    index = HistoryIndex(loaders.load_events(4))
    tomorrow = np.array([features.day_number(edited.date()) + 1])
    stats = index.stats(
        np.array([pivot.influencer_id]), np.array([1]), tomorrow, np.array([-1])
    )
    assert stats.influencer_rated.tolist() == [2]
    assert 0.0 < stats.influencer_success_rate[0] < 1.0


def test_a_label_flipped_by_a_later_edit_is_known_only_from_the_edit(world, past):
    _, label, known = training_row(past)
    assert (label, known) == (1, np.datetime64("2025-02-03T10:00:00"))

    # An edit that keeps the label (5 -> 4, still completed) keeps its time.
    outcome = past.outcome_for("company")
    outcome.success_rating = 4
    db.session.commit()
    assert training_row(past)[1:] == (1, np.datetime64("2025-02-03T10:00:00"))

    # One that flips it is a new label from its own time on, not back-dated.
    edited = np.datetime64(utcnow().replace(microsecond=0), "s")
    outcome.success_rating = 2
    db.session.commit()
    _, label, known = training_row(past)
    assert label == 0 and known >= edited
    data = training_data.build("success", CONFIG)
    [row] = np.flatnonzero(data.row_ids == past.id)
    for train, _ in data.time_folds(2):
        assert row not in train  # every fold starts before the edit


def test_the_demo_writes_a_revision_per_rating_and_per_edit(app):
    from webapp.marketplace import demo

    demo.seed_world(n_influencers=30, n_companies=6, n_collaborations=80, seed=3)
    outcomes = db.session.execute(
        db.select(Outcome.id, Outcome.rated_at, Outcome.updated_at)
    ).all()
    times: dict[int, list] = {}
    for outcome_id, recorded_at in db.session.execute(
        db.select(OutcomeRevision.outcome_id, OutcomeRevision.recorded_at).order_by(
            OutcomeRevision.recorded_at
        )
    ):
        times.setdefault(outcome_id, []).append(recorded_at)
    assert outcomes
    for outcome_id, rated_at, updated_at in outcomes:
        expected = [rated_at] if updated_at == rated_at else [rated_at, updated_at]
        assert times[outcome_id] == expected


# -- (b) cancellations ---------------------------------------------------------------


def test_an_unrated_cancellation_is_a_failure_from_its_cancellation(world, past):
    cancelled = world["collaborations"]["cancelled"]  # proposed 2 Mar 2025, unrated
    cancelled.cancelled_at = datetime(2025, 3, 20, 15, 30)
    db.session.commit()
    _, label, known = training_row(cancelled)
    assert (label, known) == (0, np.datetime64("2025-03-20T15:30:00"))


def test_a_cancellation_through_the_lifecycle_is_labelled_when_cancelled(world, past):
    active = world["collaborations"]["active"]
    lifecycle.transition(active, "cancel", world["brand"], note="Budget cut")
    db.session.refresh(active)
    _, label, known = training_row(active)
    assert label == 0 and known == np.datetime64(active.cancelled_at, "s")


def test_an_imported_cancellation_is_known_from_its_rating_or_the_import(app, tmp_path):
    paths = {}
    for kind in ("influencers", "companies", "collaborations", "outcomes"):
        paths[kind] = tmp_path / f"{kind}.csv"
        shutil.copy(
            PROJECT_ROOT / "tests" / "data" / "csv" / f"{kind}.csv", paths[kind]
        )
    started = utcnow().replace(microsecond=0)
    assert importer.import_files(paths).ok
    col3 = db.session.scalar(
        db.select(Collaboration).where(Collaboration.external_id == "COL-003")
    )
    assert col3.status == "cancelled" and col3.cancelled_at >= started
    # The brand rated it on 20 Jul 2024: the cancellation was known by then.
    _, label, known = training_row(col3)
    assert (label, known) == (0, np.datetime64(start_of(date(2024, 7, 20)), "s"))


# -- (c) opted-out members are left out of every row's history ------------------------


@pytest.fixture
def pivot_b(world, past):
    """PIVOT: influencer A with brand B (Apr 2025), rated; its history is all brand A."""
    inf_a, co_b = world["influencers"][0], world["companies"][1]
    pivot = add_collaboration("PIVOT", inf_a, co_b, date(2025, 4, 20))
    add_brand_rating(pivot, 5, datetime(2025, 5, 30))
    db.session.commit()
    return pivot


def test_a_snapshot_taken_before_an_opt_out_does_not_carry_their_history(
    world, pivot_b
):
    row, _, _ = training_row(pivot_b)
    assert feature(row, "influencer_past_collaborations") == pytest.approx(np.log1p(5))
    assert feature(row, "influencer_rated_outcomes") == pytest.approx(np.log1p(2))
    # Serving stored this row when PIVOT was proposed, before brand A opted out.
    pivot_b.match_snapshot = {"features": features.as_snapshot(row)}
    world["brand"].training_opt_out = True
    db.session.commit()

    after, _, _ = training_row(pivot_b)
    assert feature(after, "influencer_past_collaborations") == 0
    assert feature(after, "influencer_rated_outcomes") == 0
    assert feature(after, "influencer_success_rate") == 0.5  # the prior, no history


def test_a_rating_by_a_member_who_opted_out_is_left_out_after_another_edit(
    world, make_user
):
    inf_b, co_a, co_b = world["influencers"][1], *world["companies"]
    first_rater = make_user("first@example.com", company=co_b)
    other = world["collaborations"]["other"]  # influencer B with brand B, Mar 2025
    outcome = add_brand_rating(other, 5, datetime(2025, 3, 25), rated_by=first_rater)
    pivot = add_collaboration("PIVOT-B", inf_b, co_a, date(2025, 5, 1))
    add_brand_rating(pivot, 4, datetime(2025, 6, 1))
    db.session.commit()
    assert feature(training_row(pivot)[0], "influencer_rated_outcomes") == (
        pytest.approx(np.log1p(1))
    )
    # A colleague edits the rating; the first rater leaves the brand and opts out.
    outcome.rated_by = make_user("second@example.com", company=co_b)
    outcome.success_rating = 3
    db.session.commit()
    first_rater.company_id = None
    first_rater.training_opt_out = True
    db.session.commit()

    row, _, _ = training_row(pivot)
    assert feature(row, "influencer_rated_outcomes") == 0
    assert feature(row, "influencer_past_collaborations") == 0
    data = training_data.build("success", CONFIG)
    assert other.id not in data.row_ids.tolist()


def test_history_loaders_and_the_serving_pool_leave_opted_out_members_out(
    world, pivot_b
):
    co_a = world["companies"][0]
    world["creator"].training_opt_out = True  # influencer A: every collaboration
    db.session.commit()
    events = loaders.load_events(4)
    inf_a = world["influencers"][0].id
    assert inf_a not in events.collab_influencer.tolist()
    assert inf_a not in events.brand_influencer.tolist()
    assert co_a.id not in events.partner_company.tolist()
    assert len(events.collab_day) == 1  # only C-B-completed is left
    pool = serving_state().pool
    pool.clear()
    stats = pool.get(4).history.stats(
        np.array([inf_a]), np.array([co_a.id]), np.array([99_999]), np.array([-1])
    )
    assert stats.influencer_collaborations.tolist() == [0]
    assert stats.company_collaborations.tolist() == [0]


def test_an_opted_out_influencers_profile_does_not_move_the_engagement_fit(
    world, make_user
):
    # Enough profiles for a fit, engagement falling with audience; the ORM
    # records each one's revision as it is inserted (valid from now).
    db.session.add_all(
        make_influencer(
            f"FIT-{n}",
            followers=round(1_000 * 2 ** (3 * n / 4)),  # fits a 32-bit column
            engagement_rate=0.2 * 2 ** (-n / 4),
        )
        for n in range(24)
    )
    outlier = make_influencer("OUTLIER", followers=5_000_000, engagement_rate=0.9)
    db.session.add(outlier)
    db.session.commit()
    tomorrow = features.day_number(utcnow().date()) + 1
    with_outlier = loaders.influencer_revisions().engagement_fit(tomorrow)
    assert np.isfinite(with_outlier).all()

    make_user("outlier@example.com", influencer=outlier).training_opt_out = True
    db.session.commit()
    opted_out = loaders.influencer_revisions()
    assert outlier.id not in opted_out.entity.tolist()
    db.session.execute(
        sa.delete(ProfileRevision).where(
            ProfileRevision.kind == "influencer",
            ProfileRevision.entity_id == outlier.id,
        )
    )
    db.session.commit()
    without_outlier = loaders.influencer_revisions().engagement_fit(tomorrow)
    assert opted_out.engagement_fit(tomorrow) == pytest.approx(without_outlier)
    assert with_outlier != pytest.approx(without_outlier)  # the outlier did count


# -- (d) serving and training share one day rule -------------------------------------


def test_a_collaboration_proposed_today_sees_what_training_will_see(world, make_user):
    inf_a, co_a, co_b = world["influencers"][0], *world["companies"]
    for kind, entity in (("influencer", inf_a), ("company", co_b)):
        db.session.add(
            ProfileRevision(
                kind=kind,
                entity_id=entity.id,
                valid_from=start_of(entity.joined_on),
                attributes=entity.profile(),
            )
        )
    # Plant today's events: influencer A's collaboration proposed today, and a
    # brand rating of its March collaboration given a moment ago.
    today = utcnow().date()
    add_collaboration("TODAY", inf_a, co_a, today, status="cancelled")
    add_brand_rating(world["collaborations"]["completed"], 5, utcnow())
    db.session.commit()
    serving_state().pool.clear()

    member = make_user("brand-b@example.com", company=co_b)
    proposed = proposals.propose(inf_a, co_b, 700.0, member)
    assert proposed.proposed_on == today
    served = features.from_snapshot(proposed.match_snapshot["features"])

    # What training computes for this row once it is finished (no snapshot).
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
    np.testing.assert_allclose(served, recomputed)
    assert feature(served, "influencer_rated_outcomes") == 0  # today's rating: not yet
    # Ranking applies the same rule.
    pool = serving_state().pool.get(4)
    ranked = pool.rows_for_company(co_b.id, 700.0)
    position = int(np.searchsorted(pool.influencer_ids, inf_a.id))
    np.testing.assert_allclose(ranked[position], recomputed)


# -- (e) an event's niche pair is the one its profiles had then --------------------


def test_an_events_niche_pair_is_unknown_while_its_profiles_were_recorded_later(
    world, past
):
    inf_a, co_a = world["influencers"][0], world["companies"][0]
    # The world's profiles were recorded when inserted (today), after PAST and
    # the pivot: the profile a track record would read describes a later moment.
    events = loaders.load_events(4)
    assert len(events.brand_niche_pair) == 2
    assert events.brand_niche_pair.tolist() == [-1, -1]

    for kind, entity in (("influencer", inf_a), ("company", co_a)):
        db.session.add(
            ProfileRevision(
                kind=kind,
                entity_id=entity.id,
                valid_from=start_of(entity.joined_on),
                attributes=entity.profile(),
            )
        )
    db.session.commit()
    known = features.niche_pairs(
        features.encode_influencers(
            loaders.current_profiles("influencer", [inf_a.id])[1]
        ),
        features.encode_companies(loaders.current_profiles("company", [co_a.id])[1]),
    )[0]
    assert known >= 0
    assert loaders.load_events(4).brand_niche_pair.tolist() == [known, known]

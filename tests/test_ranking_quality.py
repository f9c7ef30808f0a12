"""Rankings measured as rankings (issue 11, point 5): the protocol, its leaks, the page.

A small hand-made marketplace whose window start is 1 June 2025: creator A has
one success before it, B one rated only after it, D joins during the window,
E is in an open collaboration with brand X at the start, F is proposed to by X
only after it. In the window X succeeds with A (and with D, who cannot be
ranked) and fails with C.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
from conftest import add_brand_rating, add_collaboration, make_company, make_influencer
from training_helpers import seed_small_world, train_version

from webapp.core.timeutil import start_of
from webapp.extensions import db
from webapp.learning import features, ranking_quality, training_data
from webapp.model_types import HeldOut, ModelType, Predictions
from webapp.models import (
    Collaboration,
    ModelVersion,
    ProfileRevision,
    StatusChange,
)
from webapp.serving.pools import CandidatePool

START = date(2025, 6, 1)
CONFIG = {"SUCCESS_MIN_RATING": 4}
NAMES = list(features.FEATURE_NAMES)


class ByAudience(ModelType):
    """Ranks by audience size alone, so the expected order is known by hand."""

    name = "by_audience"

    def predict(self, artifact, rows):
        return Predictions(score=rows[:, NAMES.index("log_followers")] / 10)


def history(of, *steps: tuple[str, datetime]) -> None:
    for status, at in steps:
        db.session.add(
            StatusChange(collaboration=of, status=status, action="seed", created_at=at)
        )


@pytest.fixture
def market(app):
    """The marketplace of the module docstring; B's success is rated on 1 July."""
    people = {
        "A": make_influencer("INF-A", followers=10_000),
        "B": make_influencer("INF-B", followers=50_000),
        "C": make_influencer("INF-C", followers=20_000),
        "D": make_influencer("INF-D", followers=40_000, joined_on=date(2025, 6, 5)),
        "E": make_influencer("INF-E", followers=30_000),
        "F": make_influencer("INF-F", followers=5_000),
        "X": make_company("CO-X"),
        "Y": make_company("CO-Y"),
    }
    db.session.add_all(people.values())
    db.session.flush()
    # A's profile grows huge after the start: the start must not see it.
    a = people["A"]
    for valid_from, followers in (
        (start_of(a.joined_on), 10_000),
        (datetime(2025, 6, 5), 900_000),
    ):
        db.session.add(
            ProfileRevision(
                kind="influencer",
                entity_id=a.id,
                valid_from=valid_from,
                attributes={**a.profile(), "followers": followers},
            )
        )
    a.followers = 900_000
    p = people
    past = add_collaboration("PAST-A", p["A"], p["Y"], date(2025, 3, 1))
    add_brand_rating(past, 5, datetime(2025, 4, 1))
    late = add_collaboration("LATE-B", p["B"], p["Y"], date(2025, 4, 1))
    add_brand_rating(late, 5, datetime(2025, 7, 1))
    busy = add_collaboration("BUSY-E", p["E"], p["X"], date(2025, 5, 20))
    history(
        busy,
        ("proposed", datetime(2025, 5, 20, 9)),
        ("accepted", datetime(2025, 5, 22, 9)),
        ("completed", datetime(2025, 6, 20, 9)),
    )
    win = add_collaboration("WIN-A", p["A"], p["X"], START)
    add_brand_rating(win, 5, datetime(2025, 7, 15))
    loss = add_collaboration("LOSS-C", p["C"], p["X"], date(2025, 6, 12))
    add_brand_rating(loss, 2, datetime(2025, 7, 10))
    newcomer = add_collaboration("WIN-D", p["D"], p["X"], date(2025, 6, 15))
    add_brand_rating(newcomer, 5, datetime(2025, 7, 20))
    later = add_collaboration("OPEN-F", p["F"], p["X"], date(2025, 6, 20), "proposed")
    history(later, ("proposed", datetime(2025, 6, 20, 9)))
    db.session.commit()
    return {**people, "late": late}


def window(only_failures: bool = False):
    """Return the training data and the held-out window from START on."""
    data = training_data.build("success", CONFIG)
    rows = np.flatnonzero(data.times >= np.datetime64(START))
    if only_failures:
        rows = rows[data.y[rows] == 0]
    return data, HeldOut(artifact=None, rows=rows)


def measured(only_failures: bool = False) -> dict:
    data, held_out = window(only_failures)
    return ranking_quality.measure(ByAudience(), data, held_out, 4, max_brands=50)


def test_the_window_brands_candidates_and_relevance_follow_the_protocol(market):
    report = measured()
    assert report["window"] == {
        "from": "2025-06-01",
        "to": "2025-06-15",
        "rows": 3,
        "successes": 2,
    }
    # A, B, C, E, F had joined by the start; D joined during the window.
    assert report["candidates"] == 5
    assert (report["brands_with_successes"], report["brands"]) == (1, 1)
    assert report["relevant"] == 1
    assert report["unreachable"] == {"joined_later": 1, "busy_at_start": 0}
    popularity, model = report["rankers"]["popularity"], report["rankers"]["model"]
    # X ranks A, B, C, F (E is busy): popularity puts A (one past success) first.
    assert popularity["ndcg_at_10"] == pytest.approx(1.0)
    assert popularity["precision_at_10"] == pytest.approx(0.1)
    assert popularity["recall_at_50"] == pytest.approx(1.0)
    assert popularity["coverage_at_10"] == pytest.approx(4 / 5)
    # By audience as of the start: B 50k, C 20k, A 10k (not 900k), F 5k.
    assert model["ndcg_at_10"] == pytest.approx(1 / np.log2(4))
    assert set(report["rankers"]) == {"model", "popularity", "rule_based"}
    assert 0 <= report["rankers"]["rule_based"]["ndcg_at_10"] <= 1


def test_a_success_rated_after_the_start_does_not_count_for_popularity(market):
    pool = CandidatePool.as_of(features.day_number(START), 4)
    ids = np.array([market["A"].id, market["B"].id])
    day = features.day_number(START)
    assert pool.history.influencer_successes(ids, day).tolist() == [1, 0]
    # Known from 1 July on: the rating is there and counts once known.
    later = features.day_number(date(2025, 7, 2))
    assert pool.history.influencer_successes(ids, later).tolist() == [1, 1]
    assert measured()["rankers"]["popularity"]["ndcg_at_10"] == pytest.approx(1.0)


def test_the_same_success_rated_before_the_start_ties_a_and_b(market):
    # The control for the test above: had B's success been known, B would tie A.
    revision = market["late"].outcome_for("company").revisions[0]
    revision.recorded_at = datetime(2025, 5, 1)
    market["late"].outcome_for("company").rated_at = datetime(2025, 5, 1)
    db.session.commit()
    tied = (1 + 1 / np.log2(3)) / 2
    assert measured()["rankers"]["popularity"]["ndcg_at_10"] == pytest.approx(tied)


def test_candidates_exclude_nothing_on_later_data(market):
    p = market
    # Open at the start: E only; F's proposal (open today) came later.
    assert ranking_quality.open_pairs_at(start_of(START)) == {p["X"].id: {p["E"].id}}
    pool = CandidatePool.as_of(features.day_number(START), 4)
    assert set(pool.influencer_ids.tolist()) == {
        p[k].id for k in ("A", "B", "C", "E", "F")
    }
    profiles = {q["id"]: q for q in pool.influencer_profiles}
    assert profiles[p["A"].id]["followers"] == 10_000


def test_the_replayed_row_is_the_training_row_of_a_pair_proposed_that_day(market):
    # WIN-A was proposed on START: training describes it as of that day, and so
    # must the replayed Find influencers list (given the same budget).
    data, _ = window()
    win = db.session.scalar(
        db.select(Collaboration).where(Collaboration.external_id == "WIN-A")
    )
    [position] = np.flatnonzero(data.row_ids == win.id)
    pool = CandidatePool.as_of(features.day_number(START), 4)
    rows = pool.rows_for_company(
        market["X"].id, win.budget, day=features.day_number(START)
    )
    [a] = np.flatnonzero(pool.influencer_ids == market["A"].id)
    np.testing.assert_allclose(rows[a], data.X[position])


def test_a_window_without_successes_measures_nothing(market):
    report = measured(only_failures=True)
    assert report["brands"] == 0
    assert report["rankers"] == {}


def add_version(metrics: dict) -> ModelVersion:
    version = ModelVersion(
        model_type="match_success",
        version=1,
        algorithm="logistic_regression",
        metrics=metrics,
        artifact_path="match_success/v1.joblib",
        sha256="0" * 64,
        size_bytes=1,
    )
    db.session.add(version)
    db.session.commit()
    return version


def test_the_model_page_shows_the_three_rankings(market, signed_in_admin):
    add_version({"roc_auc": 0.7, "ranking": measured()})
    response = signed_in_admin.get("/models/match_success")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="ranking-table"' in page
    for key in ("model", "popularity", "rule_based"):
        assert f'id="ranking-{key}"' in page
    assert "Popularity (most past successes)" in page
    assert "1 success with a brand or" in page  # D joined during the window
    assert 'id="ranking-empty"' not in page


def test_the_model_page_says_so_when_no_brand_could_be_ranked(market, signed_in_admin):
    add_version({"roc_auc": 0.7, "ranking": measured(only_failures=True)})
    response = signed_in_admin.get("/models/match_success")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="ranking-empty"' in page
    assert 'id="ranking-table"' not in page


def test_training_match_success_stores_rankings_on_its_final_window(
    app, signed_in_admin
):
    seed_small_world()
    version = train_version()
    report = version.metrics["ranking"]
    assert report["window"]["from"] == version.metrics["windows"]["final"]["from"]
    assert report["window"]["rows"] == version.metrics["windows"]["final"]["rows"]
    assert report["brands"] > 0
    for name in ("model", "popularity", "rule_based"):
        figures = report["rankers"][name]
        assert set(figures) == set(ranking_quality.METRICS)
        assert all(0 <= value <= 1 for value in figures.values())
    page = signed_in_admin.get("/models/match_success").get_data(as_text=True)
    assert 'id="ranking-table"' in page

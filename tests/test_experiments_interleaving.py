"""Team-draft interleaving, crediting and preference results (no app needed)."""

import random

import numpy as np
import pytest
from scipy.stats import binomtest

from webapp.experiments.interleaving import (
    credit,
    interleave,
    preference,
    preference_results,
    team_draft,
)
from webapp.experiments.simulation import (
    correct_pick_rate,
    order_by_scores,
    simulate_interleaving_test,
)


def random_rankings(rng: random.Random, size: int = 12):
    """Return two random orderings of the same candidates."""
    items = [f"creator-{index}" for index in range(size)]
    return rng.sample(items, size), rng.sample(items, size)


def test_same_request_shows_the_same_list():
    """Coins come from the experiment key and the request: a reload repeats it."""
    ranking_a, ranking_b = random_rankings(random.Random(1))
    first = interleave(ranking_a, ranking_b, "find-influencers", "brand-7:page-1")
    again = interleave(ranking_a, ranking_b, "find-influencers", "brand-7:page-1")
    assert first == again
    lists = {
        interleave(ranking_a, ranking_b, "find-influencers", f"brand-{unit}").items
        for unit in range(50)
    }
    assert len(lists) > 1  # other requests flip other coins


def test_team_draft_follows_the_algorithm():
    """Each pick is its team's best remaining item; teams stay balanced."""
    rng = random.Random(2)
    for trial in range(300):
        ranking_a, ranking_b = random_rankings(rng, size=rng.randint(3, 15))
        shown = interleave(ranking_a, ranking_b, "exp", str(trial), length=8)
        assert len(set(shown.items)) == len(shown.items)
        for position, (item, team) in enumerate(
            zip(shown.items, shown.teams, strict=True)
        ):
            ranking = ranking_a if team == "a" else ranking_b
            before = set(shown.items[:position])
            assert item == next(x for x in ranking if x not in before)
            picks_a = shown.teams[: position + 1].count("a")
            assert abs(2 * picks_a - (position + 1)) <= 1


def test_each_ranker_picks_first_half_the_time():
    """Over many requests the first pick is a's about half the time."""
    ranking_a, ranking_b = ["x", "y", "z"], ["y", "z", "x"]
    first_teams = [
        interleave(ranking_a, ranking_b, "exp", f"unit-{unit}").teams[0]
        for unit in range(2000)
    ]
    assert binomtest(first_teams.count("a"), 2000, 0.5).pvalue > 0.001


def test_identical_rankings_interleave_to_themselves():
    """When both rankers agree, the user sees exactly that ranking."""
    ranking = list(range(10))
    shown = team_draft(ranking, ranking, iter([True, False] * 10))
    assert list(shown.items) == ranking


def test_credit_goes_to_the_contributing_ranker():
    """Events on shown items count for their team; unshown items are ignored."""
    shown = team_draft(["a1", "a2", "a3"], ["b1", "b2", "b3"], iter([True] * 3), 4)
    assert shown.items == ("a1", "b1", "a2", "b2")
    credits = credit(shown, ["a1", "a2", "b2", "not-shown"])
    assert credits == {"a": 2, "b": 1}
    assert preference(credits) == "a"
    assert preference({"a": 1, "b": 1}) is None


def test_preference_results_match_scipy_binomtest():
    """Share, Clopper-Pearson interval and sign-test p-value, recomputed."""
    prefs = ["a"] * 34 + ["b"] * 18 + [None] * 40
    result = preference_results(prefs, versions=("v12", "v13"))
    direct = binomtest(34, 52, 0.5)
    assert result["p_value"] == pytest.approx(direct.pvalue, abs=1e-12)
    assert result["units"] == 92 and result["ties"] == 40
    first, second = result["versions"]
    assert first["key"] == "v12" and first["share"] == pytest.approx(34 / 52)
    interval = direct.proportion_ci(confidence_level=0.95, method="exact")
    assert first["ci"] == pytest.approx([interval.low, interval.high], abs=1e-12)
    assert second["share"] == pytest.approx(18 / 52)
    empty = preference_results([None, None])
    assert empty["p_value"] is None and empty["versions"][0]["share"] is None


def ranking_world(seed=5, brands=40, creators=60):
    """Return true success chances and two rankers, a less noisy than b."""
    rng = np.random.default_rng(seed)
    logit = -3.0 + rng.normal(0, 1, (brands, 1)) + rng.normal(0, 1, (brands, creators))
    success_prob = 1 / (1 + np.exp(-logit))
    better = order_by_scores(logit + rng.normal(0, 0.5, logit.shape))
    worse = order_by_scores(logit + rng.normal(0, 2.0, logit.shape))
    return success_prob, better, worse


def test_interleaving_simulation_finds_the_better_ranker():
    """At 400 simulated brands the truly better ranker wins, significantly."""
    success_prob, better, worse = ranking_world()
    result = simulate_interleaving_test(
        success_prob, worse, better, 400, np.random.default_rng(3)
    )
    worse_entry, better_entry = result["versions"]
    assert better_entry["wins"] > worse_entry["wins"]
    assert result["p_value"] < 0.05
    pick_rate = correct_pick_rate(
        "interleaving", success_prob, worse, better, 400, 200, np.random.default_rng(4)
    )
    assert pick_rate > 0.95

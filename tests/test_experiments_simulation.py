"""Simulated experiments: A/A calibration, power, and A/B versus interleaving."""

import numpy as np
import pytest
from scipy.stats import binomtest

from webapp.experiments import power
from webapp.experiments.results import MeanVariant, experiment_results
from webapp.experiments.simulation import (
    aa_false_positive_rate,
    ab_power,
    ab_runs,
    default_examination,
    order_by_scores,
    simulate_ab_test,
    units_needed,
)
from webapp.experiments.stats import compare_means, two_proportion_p_value

ALPHA = 0.05


def consistent_with(observed_share: float, runs: int, expected: float) -> bool:
    """Return whether a simulated share is within binomial noise (p > 0.001)."""
    return binomtest(round(observed_share * runs), runs, expected).pvalue > 0.001


def test_aa_runs_are_significant_at_the_nominal_rate():
    """2,000 A/A tests at 10 % with 2,000 units per arm: about 5 % significant."""
    rate = aa_false_positive_rate(0.10, 2_000, 2_000, np.random.default_rng(1))
    assert consistent_with(rate, 2_000, ALPHA)


def test_aa_runs_of_a_mean_metric_are_significant_at_the_nominal_rate():
    """1,000 Welch A/A tests on skewed (gamma) values: about 5 % significant."""
    rng = np.random.default_rng(2)
    significant = 0
    for _ in range(1_000):
        a, b = rng.gamma(2.0, 1.0, 300), rng.gamma(2.0, 1.0, 250)
        moments_a = (a.mean(), a.var(ddof=1), len(a))
        moments_b = (b.mean(), b.var(ddof=1), len(b))
        significant += compare_means(moments_b, moments_a).p_value < ALPHA
    assert consistent_with(significant / 1_000, 1_000, ALPHA)


def test_truly_better_treatment_reaches_significance_with_the_right_sign():
    """10 % -> 12 % at the planned sample size: power about 80 %, sign right."""
    units = power.rate_sample_size(0.10, 0.20)
    observed, right_sign = ab_power(0.10, 0.12, units, 1_000, np.random.default_rng(3))
    assert consistent_with(observed, 1_000, 0.80)
    assert right_sign > 0.99


def ranking_world(seed=5, brands=40, creators=60):
    """Return true success chances and two rankers, a less noisy than b."""
    rng = np.random.default_rng(seed)
    logit = -3.0 + rng.normal(0, 1, (brands, 1)) + rng.normal(0, 1, (brands, creators))
    success_prob = 1 / (1 + np.exp(-logit))
    better = order_by_scores(logit + rng.normal(0, 0.5, logit.shape))
    worse = order_by_scores(logit + rng.normal(0, 2.0, logit.shape))
    return success_prob, better, worse


def test_simulated_ab_test_on_rankers_declares_the_better_one():
    """The ranker closer to the truth wins an A/B test of 3,000 brands."""
    success_prob, better, worse = ranking_world()
    variants = simulate_ab_test(
        success_prob, worse, better, 3_000, np.random.default_rng(6)
    )
    document = experiment_results(
        key="rankers",
        status="running",
        metric="success_rate",
        variants=variants,
        weights=[0.5, 0.5],
        required_sample_size=1_000,
    )
    treatment = document["variants"][1]
    assert treatment["lift_abs"] > 0 and treatment["p_value"] < ALPHA
    assert document["winner"] == "b"


def test_aa_on_a_ranking_world_is_calibrated():
    """One ranker against itself: the z-test fires about 5 % of the time."""
    success_prob, better, _worse = ranking_world()
    rate_a, rate_b = ab_runs(
        success_prob,
        better,
        better,
        1_000,
        1_000,
        np.random.default_rng(7),
        default_examination(10),
    )
    p_values = [
        two_proportion_p_value(round(b * 500), 500, round(a * 500), 500)
        for a, b in zip(rate_a, rate_b, strict=True)
    ]
    share = np.mean([p is not None and p < ALPHA for p in p_values])
    assert consistent_with(share, 1_000, ALPHA)


def test_interleaving_needs_fewer_units_than_ab():
    """Units needed to pick the better ranker 95 % of the time, both designs."""
    success_prob, better, worse = ranking_world()
    needed_interleaving = units_needed(
        "interleaving", success_prob, worse, better, reps=200, seed=1
    )
    needed_ab = units_needed("ab", success_prob, worse, better, reps=200, seed=1)
    assert needed_interleaving is not None and needed_ab is not None
    assert needed_interleaving < needed_ab


def test_mean_variant_input_works_in_results():
    """A mean metric's document names a winner for a clear, planned lift."""
    rng = np.random.default_rng(10)
    needed = power.mean_sample_size(4.0, 1.0, 0.05)
    control = MeanVariant.from_values("c", needed, needed, rng.normal(4.0, 1.0, needed))
    treated = MeanVariant.from_values("t", needed, needed, rng.normal(4.4, 1.0, needed))
    document = experiment_results(
        key="ratings",
        status="running",
        metric="mean_rating",
        variants=[control, treated],
        weights=[0.5, 0.5],
        required_sample_size=needed,
    )
    assert document["winner"] == "t"
    assert document["variants"][1]["lift_rel"] == pytest.approx(0.1, abs=0.05)


@pytest.fixture(scope="module")
def demo_world():
    """A small marketplace drawn by seed-demo's generator, ranked by two versions."""
    from webapp.experiments.demo_world import demo_ranking_world

    return demo_ranking_world(300, 40, seed=5)


def test_on_a_seed_demo_world_the_profile_version_is_truly_better(demo_world):
    rates = demo_world.expected_rates()
    assert demo_world.better_and_worse() == ("profile", "no_engagement")
    assert rates["profile"] > rates["no_engagement"]
    assert demo_world.success_prob.shape == (40, 300)


def test_on_a_seed_demo_world_aa_is_calibrated_and_ab_finds_the_better(demo_world):
    from webapp.experiments.simulation import (
        expected_success_rate,
        significant_share,
    )

    examination = 0.25 * default_examination(10)
    good = demo_world.rankings["profile"]
    weak = demo_world.rankings["no_engagement"]
    aa_a, aa_b = ab_runs(
        demo_world.success_prob,
        good,
        good,
        2_000,
        2_000,
        np.random.default_rng(21),
        examination,
    )
    aa_rate, _ = significant_share(aa_a, aa_b, 1_000)
    assert consistent_with(aa_rate, 2_000, ALPHA)
    truth = {
        name: expected_success_rate(demo_world.success_prob, ranking, examination)
        for name, ranking in demo_world.rankings.items()
    }
    assert truth["profile"] > truth["no_engagement"]
    planned = power.rate_sample_size(
        truth["no_engagement"], truth["profile"] / truth["no_engagement"] - 1
    )
    ab_a, ab_b = ab_runs(
        demo_world.success_prob,
        weak,
        good,
        2 * planned,
        300,
        np.random.default_rng(22),
        examination,
    )
    observed, right_sign = significant_share(ab_a, ab_b, planned)
    assert consistent_with(observed, 300, 0.80)
    assert right_sign > 0.99


def test_on_a_seed_demo_world_interleaving_needs_fewer_units(demo_world):
    good = demo_world.rankings["profile"]
    weak = demo_world.rankings["no_engagement"]
    needed = {
        design: units_needed(
            design, demo_world.success_prob, weak, good, reps=150, seed=3
        )
        for design in ("ab", "interleaving")
    }
    assert None not in needed.values()
    assert needed["interleaving"] < needed["ab"]

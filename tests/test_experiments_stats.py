"""Experiment statistics against independent computations and textbook examples.

Every figure is recomputed here with statsmodels or scipy called directly on the
same counts (or raw values), or taken from a published example, and must agree
to 1e-6. No app is needed.
"""

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from scipy.special import betaln
from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import (
    proportion_confint,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from webapp.experiments import bayes, power
from webapp.experiments.results import MeanVariant, RateVariant, analyze_metric
from webapp.experiments.stats import (
    compare_means,
    compare_rates,
    sample_ratio_mismatch,
    t_interval,
    two_proportion_p_value,
    wilson_interval,
)

TOL = 1e-6
Z95 = scipy_stats.norm.ppf(0.975)
RATE_COUNTS = [(500, 5000, 580, 4950), (12, 99, 5, 83), (130, 1000, 100, 1000)]


def exact_beta_chance(control_conv, control_n, treat_conv, treat_n):
    """P(p_t > p_c) for Beta posteriors by the finite sum (Evan Miller, 2015).

    "Formulas for Bayesian A/B testing", evanmiller.org: with integer a_t,
    P = sum_{i<a_t} B(a_c + i, b_c + b_t) / ((b_t + i) B(1 + i, b_t) B(a_c, b_c)).
    """
    a_c, b_c = 1 + control_conv, 1 + control_n - control_conv
    a_t, b_t = 1 + treat_conv, 1 + treat_n - treat_conv
    i = np.arange(a_t)
    log_terms = (
        betaln(a_c + i, b_c + b_t)
        - np.log(b_t + i)
        - betaln(1 + i, b_t)
        - betaln(a_c, b_c)
    )
    return float(np.exp(log_terms).sum())


# --- rates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("conversions", "units", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611)],
)
def test_wilson_interval_matches_newcombe_1998(conversions, units, low, high):
    """Newcombe (Stat. Med. 17:857, 1998) Table I, method 3 (Wilson score)."""
    interval = wilson_interval(conversions, units)
    assert interval == pytest.approx((low, high), abs=5e-5)
    direct = proportion_confint(conversions, units, alpha=0.05, method="wilson")
    assert interval == pytest.approx(direct, abs=TOL)


def test_pooled_z_test_matches_the_statsmodels_docs_example():
    """statsmodels' proportions_ztest docstring: 5/83 vs 12/99 gives p = 0.159."""
    assert two_proportion_p_value(5, 83, 12, 99) == pytest.approx(0.159, abs=5e-4)


@pytest.mark.parametrize(("c_conv", "c_n", "t_conv", "t_n"), RATE_COUNTS)
def test_rate_comparison_agrees_with_direct_computation(c_conv, c_n, t_conv, t_n):
    """p-value, Wald interval and delta-method relative interval, recomputed."""
    lift = compare_rates(t_conv, t_n, c_conv, c_n)
    _z, p_value = proportions_ztest([t_conv, c_conv], [t_n, c_n])
    assert lift.p_value == pytest.approx(p_value, abs=TOL)
    p_t, p_c = t_conv / t_n, c_conv / c_n
    se = math.sqrt(p_t * (1 - p_t) / t_n + p_c * (1 - p_c) / c_n)
    assert lift.lift_abs == pytest.approx(p_t - p_c, abs=TOL)
    assert lift.lift_abs_ci == pytest.approx(
        (p_t - p_c - Z95 * se, p_t - p_c + Z95 * se), abs=TOL
    )
    # Delta method by a numerical gradient of f(p_t, p_c) = p_t / p_c - 1.
    step = 1e-7
    grad = np.array(
        [
            ((p_t + step) / p_c - (p_t - step) / p_c) / (2 * step),
            (p_t / (p_c + step) - p_t / (p_c - step)) / (2 * step),
        ]
    )
    cov = np.diag([p_t * (1 - p_t) / t_n, p_c * (1 - p_c) / c_n])
    half = Z95 * math.sqrt(grad @ cov @ grad)
    assert lift.lift_rel == pytest.approx(p_t / p_c - 1, abs=TOL)
    assert lift.lift_rel_ci == pytest.approx(
        (p_t / p_c - 1 - half, p_t / p_c - 1 + half), abs=TOL
    )


def test_undefined_rate_statistics_are_none():
    """No conversions anywhere: no z-test, no relative lift, but an interval."""
    lift = compare_rates(0, 100, 0, 100)
    assert lift.p_value is None
    assert lift.lift_rel is None
    assert lift.lift_abs == 0
    assert compare_rates(5, 0, 5, 100).lift_abs is None
    assert wilson_interval(0, 0) is None


# --- means -----------------------------------------------------------------

WIKIPEDIA_WELCH_A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1]
WIKIPEDIA_WELCH_A1 += [21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
WIKIPEDIA_WELCH_A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0]
WIKIPEDIA_WELCH_A2 += [24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]


def moments(values):
    """Return (mean, variance ddof 1, count) of raw values."""
    values = np.asarray(values, dtype=float)
    return values.mean(), values.var(ddof=1), len(values)


def test_welch_matches_the_wikipedia_example():
    """Wikipedia "Welch's t-test", example 1: t = -2.46, df = 24.99, p = 0.021."""
    lift = compare_means(moments(WIKIPEDIA_WELCH_A1), moments(WIKIPEDIA_WELCH_A2))
    assert lift.p_value == pytest.approx(0.021, abs=5e-4)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mean_comparison_agrees_with_scipy_and_statsmodels(seed):
    """Welch p-value and interval, t intervals, from the raw values directly."""
    rng = np.random.default_rng(seed)
    control = rng.gamma(2.0, 1.5, size=int(rng.integers(30, 300)))
    treatment = rng.gamma(2.2, 1.6, size=int(rng.integers(30, 300)))
    lift = compare_means(moments(treatment), moments(control))
    welch = scipy_stats.ttest_ind(treatment, control, equal_var=False)
    assert lift.p_value == pytest.approx(welch.pvalue, abs=TOL)
    compared = CompareMeans.from_data(treatment, control)
    assert lift.lift_abs_ci == pytest.approx(
        compared.tconfint_diff(alpha=0.05, usevar="unequal"), abs=TOL
    )
    assert lift.lift_abs == pytest.approx(treatment.mean() - control.mean(), abs=TOL)
    assert t_interval(*moments(control)) == pytest.approx(
        DescrStatsW(control).tconfint_mean(alpha=0.05), abs=TOL
    )
    m_t, m_c = treatment.mean(), control.mean()
    var_t, var_c = (
        moments(treatment)[1] / len(treatment),
        moments(control)[1] / len(control),
    )
    half = Z95 * math.sqrt(var_t / m_c**2 + m_t**2 * var_c / m_c**4)
    assert lift.lift_rel_ci == pytest.approx(
        (m_t / m_c - 1 - half, m_t / m_c - 1 + half), abs=TOL
    )


def test_mean_variant_summary_matches_numpy():
    """Sufficient statistics give numpy's mean and sample variance."""
    values = np.random.default_rng(5).normal(4, 1.3, size=77)
    summary = MeanVariant.from_values("a", 90, 80, values)
    assert summary.mean == pytest.approx(values.mean(), abs=TOL)
    assert summary.variance == pytest.approx(values.var(ddof=1), abs=TOL)


# --- Bayesian --------------------------------------------------------------


@pytest.mark.parametrize(
    "counts", [(10, 100, 15, 100), (500, 5000, 430, 5000), (100, 1000, 120, 1000)]
)
def test_rate_chance_to_beat_control_equals_the_exact_sum(counts):
    """Quadrature equals the closed-form finite sum to 1e-6."""
    assert bayes.rate_chance_to_beat_control(*counts) == pytest.approx(
        exact_beta_chance(*counts), abs=TOL
    )


def test_rate_expected_loss_agrees_with_monte_carlo():
    """E[max(p_c - p_t, 0)] within 5 Monte Carlo standard errors (1e6 draws)."""
    rng = np.random.default_rng(11)
    c_conv, c_n, t_conv, t_n = 100, 1000, 110, 1000
    draws_c = rng.beta(1 + c_conv, 1 + c_n - c_conv, 1_000_000)
    draws_t = rng.beta(1 + t_conv, 1 + t_n - t_conv, 1_000_000)
    shortfall = np.maximum(draws_c - draws_t, 0)
    standard_error = shortfall.std() / math.sqrt(len(shortfall))
    assert bayes.rate_expected_loss(c_conv, c_n, t_conv, t_n) == pytest.approx(
        shortfall.mean(), abs=5 * standard_error
    )


def test_normal_read_outs_agree_with_numerical_integration():
    """Closed forms equal scipy's quadrature over the normal posterior."""
    d, s = 0.12, 0.08
    chance = scipy_stats.norm(d, s).sf(0)
    loss = scipy_stats.norm(d, s).expect(lambda x: max(-x, 0.0), lb=-1, ub=1)
    assert bayes.normal_chance_to_beat_control(d, s) == pytest.approx(chance, abs=TOL)
    assert bayes.normal_expected_loss(d, s) == pytest.approx(loss, abs=TOL)


# --- sample ratio mismatch -------------------------------------------------


def test_srm_flags_a_skewed_split_and_not_a_fair_one():
    """5,000 vs 5,400 at 50/50 is flagged; 5,000 vs 5,050 is not."""
    p_skewed, flag_skewed = sample_ratio_mismatch([5000, 5400], [0.5, 0.5])
    assert flag_skewed
    assert p_skewed == pytest.approx(
        scipy_stats.chisquare([5000, 5400]).pvalue, abs=TOL
    )
    p_fair, flag_fair = sample_ratio_mismatch([5000, 5050], [0.5, 0.5])
    assert not flag_fair
    assert p_fair == pytest.approx(0.6179522, abs=TOL)


def test_srm_uses_the_configured_weights():
    """A 20/80 split is fine at 20/80 weights and flagged at 50/50."""
    assert not sample_ratio_mismatch([2000, 8050], [0.2, 0.8])[1]
    assert sample_ratio_mismatch([2000, 8050], [0.5, 0.5])[1]
    assert sample_ratio_mismatch([0, 0], [0.5, 0.5]) == (None, False)


# --- power -----------------------------------------------------------------


def test_sample_sizes_match_cohens_tables():
    """Cohen (1988) tables: h = 0.2 needs 392.4 per group, d = 0.5 needs 64."""
    baseline = 0.5
    lifted = math.sin(math.asin(math.sqrt(baseline)) + 0.1) ** 2  # h = 0.2
    assert power.rate_sample_size(baseline, lifted / baseline - 1) == 393  # 392.44
    assert power.mean_sample_size(10.0, 2.0, 0.1) == 64  # d = 1 / 2


def test_power_functions_agree_with_statsmodels():
    """Sizes and MDEs round-trip through statsmodels' solvers."""
    n = power.rate_sample_size(0.10, 0.20)
    direct = NormalIndPower().solve_power(
        proportion_effectsize(0.12, 0.10), alpha=0.05, power=0.8
    )
    assert n == math.ceil(direct)
    mde = power.rate_mde(0.10, n)
    assert mde == pytest.approx(0.20, abs=2e-3)
    n_mean = power.mean_sample_size(4.0, 1.2, 0.05)
    assert n_mean == math.ceil(
        TTestIndPower().solve_power(0.2 / 1.2, alpha=0.05, power=0.8)
    )
    assert power.mean_mde(4.0, 1.2, n_mean) == pytest.approx(0.05, abs=1e-3)
    with pytest.raises(ValueError):
        power.rate_sample_size(0.10, 0.0)


# --- the results rows ------------------------------------------------------


def test_rate_rows_have_exactly_the_api_fields():
    """Control rows carry the summary; treatment rows add the comparison."""
    rows = analyze_metric(
        "success_rate",
        [RateVariant("control", 5100, 5000, 500), RateVariant("b", 5000, 4950, 580)],
    )
    assert set(rows[0]) == {"key", "units", "exposures", "conversions", "mean", "ci"}
    assert set(rows[1]) == set(rows[0]) | {
        "lift_abs",
        "lift_abs_ci",
        "lift_rel",
        "lift_rel_ci",
        "p_value",
        "chance_to_beat_control",
        "expected_loss",
    }
    assert rows[1]["mean"] == pytest.approx(580 / 4950, abs=TOL)
    assert rows[1]["chance_to_beat_control"] == pytest.approx(
        exact_beta_chance(500, 5000, 580, 4950), abs=TOL
    )


def test_mean_rows_use_sum_and_t_intervals():
    """Mean rows report the sum, the t interval and a Welch p-value."""
    rng = np.random.default_rng(8)
    a, b = rng.normal(4, 1, 60), rng.normal(4.5, 1, 70)
    rows = analyze_metric(
        "mean_rating",
        [
            MeanVariant.from_values("a", 80, 75, a),
            MeanVariant.from_values("b", 80, 76, b),
        ],
    )
    assert "sum" in rows[0] and "conversions" not in rows[0]
    assert rows[0]["sum"] == pytest.approx(a.sum(), abs=TOL)
    assert rows[1]["p_value"] == pytest.approx(
        scipy_stats.ttest_ind(b, a, equal_var=False).pvalue, abs=TOL
    )
    assert rows[1]["chance_to_beat_control"] > 0.99
    with pytest.raises(ValueError):
        analyze_metric("clicks", [])

"""Always-valid inference: formulas, and peeking at every step under the null."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from webapp.experiments import sequential
from webapp.experiments.stats import compare_rates

ALPHA = 0.05


def test_p_value_and_confidence_sequence_agree():
    """p < alpha exactly when zero is outside the (1 - alpha) sequence."""
    rng = np.random.default_rng(3)
    estimates = rng.normal(0, 0.02, 500)
    std_errors = rng.uniform(0.005, 0.02, 500)
    n = rng.integers(100, 50_000, 500)
    p_values = sequential.always_valid_p_value(estimates, std_errors, n)
    low, high = sequential.confidence_sequence(estimates, std_errors, n)
    excluded = (low > 0) | (high < 0)
    assert np.array_equal(p_values < ALPHA, excluded)
    assert excluded.any() and not excluded.all()


def test_sequence_is_wider_than_the_fixed_interval_and_tightest_at_tuning():
    """The sequence pays for peeking: wider than 1.96 se, least so at N*."""
    sizes = np.array([100, 1_000, 5_000, 50_000, 500_000])
    widths = sequential.multiplier(sizes)
    assert (widths > scipy_stats.norm.ppf(0.975)).all()
    assert (np.diff(widths / np.sqrt(sizes)) < 0).all()  # in metric units it shrinks
    at_tuning = sequential.multiplier(5_000, tuning=5_000)
    for other in (1_250, 2_500, 10_000, 20_000):
        assert at_tuning < sequential.multiplier(5_000, tuning=other)


def peeking_false_positive_rates(rng, runs=2000, looks=100, batch=50, rate=0.1):
    """Simulate A/A tests looked at after every batch; return (sequential, naive) FPR.

    Looks before ``sequential.ready`` are skipped for both, as the results do.
    """
    control = rng.binomial(batch, rate, size=(runs, looks)).cumsum(axis=1)
    treatment = rng.binomial(batch, rate, size=(runs, looks)).cumsum(axis=1)
    n_arm = batch * np.arange(1, looks + 1)
    p_c, p_t = control / n_arm, treatment / n_arm
    se = np.sqrt(p_c * (1 - p_c) / n_arm + p_t * (1 - p_t) / n_arm)
    difference = p_t - p_c
    with np.errstate(invalid="ignore", divide="ignore"):
        always_valid = sequential.always_valid_p_value(difference, se, 2 * n_arm)
        naive = 2 * scipy_stats.norm.sf(np.abs(difference / se))
    read = sequential.ready(n_arm, n_arm)
    return (
        ((always_valid < ALPHA) & read).any(axis=1).mean(),
        ((naive < ALPHA) & read).any(axis=1).mean(),
    )


def test_peeking_at_every_step_keeps_the_false_positive_rate_below_alpha():
    """2,000 A/A runs, 100 looks each: sequential stays <= 5 %, naive does not."""
    sequential_rate, naive_rate = peeking_false_positive_rates(
        np.random.default_rng(20240601)
    )
    assert sequential_rate <= ALPHA
    assert naive_rate > 3 * ALPHA  # the peeking problem the sequence solves


def test_peeking_after_every_single_unit_is_safe_once_ready():
    """600 A/A runs read after each of 2,000 units per arm stay <= 5 %."""
    sequential_rate, naive_rate = peeking_false_positive_rates(
        np.random.default_rng(77), runs=600, looks=2_000, batch=1, rate=0.2
    )
    assert sequential_rate <= ALPHA
    assert naive_rate > 5 * ALPHA


def test_too_early_looks_give_no_sequential_verdict():
    """Below the minimum units per variant only the point estimates are shown."""
    early = compare_rates(9, 20, 1, 20, sequential_tuning=5000)
    assert early.lift_abs == pytest.approx(0.4)
    assert early.p_value is None and early.lift_abs_ci is None
    assert compare_rates(9, 20, 1, 20).p_value < ALPHA  # the fixed test would call it


def test_sequential_test_still_detects_a_real_effect():
    """A 10 % -> 12 % lift is found by 10,000 units per arm in most runs."""
    rng = np.random.default_rng(9)
    runs, looks, batch = 400, 40, 250
    control = rng.binomial(batch, 0.10, size=(runs, looks)).cumsum(axis=1)
    treatment = rng.binomial(batch, 0.12, size=(runs, looks)).cumsum(axis=1)
    n_arm = batch * np.arange(1, looks + 1)
    p_c, p_t = control / n_arm, treatment / n_arm
    se = np.sqrt(p_c * (1 - p_c) / n_arm + p_t * (1 - p_t) / n_arm)
    p_values = sequential.running_minimum(
        sequential.always_valid_p_value(p_t - p_c, se, 2 * n_arm)
    )
    assert (p_values[:, -1] < ALPHA).mean() > 0.8


def test_undefined_inputs_give_none():
    """No units or no variance: no p-value."""
    assert sequential.p_value_or_none(0.1, 0.0, 100) is None
    assert sequential.p_value_or_none(0.1, 0.1, 0) is None
    assert sequential.p_value_or_none(0.0, 0.1, 100) == pytest.approx(1.0)

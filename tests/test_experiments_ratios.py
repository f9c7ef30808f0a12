"""Ratio metrics with the unit as cluster: the delta method checked independently."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from webapp.experiments import sequential
from webapp.experiments.stats import RatioMoments, compare_rates, compare_ratios


def clustered_rows(rng, brands: int, effect: float = 0.0, spread: float = 0.25):
    """Return (brand of each row, 0/1 success of each row) for brands of unequal size.

    Each brand has its own success chance (a brand effect of sd ``spread`` on
    the logit) and a heavy-tailed number of collaborations.
    """
    sizes = 1 + rng.geometric(0.08, brands)
    chance = 1 / (1 + np.exp(-(rng.normal(-0.6, spread * 4, brands) + effect)))
    brand = np.repeat(np.arange(brands), sizes)
    success = (rng.random(len(brand)) < chance[brand]).astype(float)
    return brand, success


def test_from_rows_sums_rows_into_their_units_and_drops_empty_units():
    found = RatioMoments.from_rows(["a", "b", "a", "c"], [1, 0, 1, 0], [1, 1, 1, 0])
    assert found == RatioMoments.from_units([2, 0], [2, 1])
    assert found.units == 2 and found.ratio == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        RatioMoments.from_units([1, 2], [1])


def test_the_delta_method_variance_is_the_cluster_robust_one_of_statsmodels():
    rng = np.random.default_rng(1)
    brand, success = clustered_rows(rng, 80)
    moments = RatioMoments.from_rows(brand, success)
    # Intercept-only OLS, clusters = brands, no small-sample correction (CR0).
    fit = sm.OLS(success, np.ones(len(success))).fit(
        cov_type="cluster", cov_kwds={"groups": brand, "use_correction": False}
    )
    n = moments.units
    assert moments.ratio == pytest.approx(fit.params[0])
    assert moments.ratio_variance() == pytest.approx(
        fit.bse[0] ** 2 * n / (n - 1), rel=1e-9
    )


def test_the_difference_matches_an_intercept_and_arm_model_with_brand_clusters():
    rng = np.random.default_rng(2)
    brand_t, success_t = clustered_rows(rng, 70, effect=0.3)
    brand_c, success_c = clustered_rows(rng, 90)
    brand = np.r_[brand_t, brand_c + 1000]
    y = np.r_[success_t, success_c]
    arm = np.r_[np.ones(len(success_t)), np.zeros(len(success_c))]
    fit = sm.OLS(y, sm.add_constant(arm)).fit(
        cov_type="cluster", cov_kwds={"groups": brand}
    )
    lift = compare_ratios(
        RatioMoments.from_rows(brand_t, success_t),
        RatioMoments.from_rows(brand_c, success_c),
    )
    assert lift.lift_abs == pytest.approx(fit.params[1])
    # statsmodels' correction G/(G-1) (N-1)/(N-2) versus n/(n-1) per arm: within 2 %.
    low, high = lift.lift_abs_ci
    assert ((high - low) / 2 / 1.959964) ** 2 == pytest.approx(
        fit.bse[1] ** 2, rel=0.02
    )
    assert lift.p_value == pytest.approx(fit.pvalues[1], rel=0.05)


def test_the_delta_method_variance_matches_a_bootstrap_over_brands():
    rng = np.random.default_rng(3)
    brand, success = clustered_rows(rng, 120)
    per_brand_x = np.bincount(brand, success)
    per_brand_y = np.bincount(brand)
    draws = rng.integers(0, len(per_brand_y), (4000, len(per_brand_y)))
    boot = per_brand_x[draws].sum(axis=1) / per_brand_y[draws].sum(axis=1)
    variance = RatioMoments.from_units(per_brand_x, per_brand_y).ratio_variance()
    assert variance == pytest.approx(boot.var(ddof=1), rel=0.1)


def busy_brands(rates) -> tuple[np.ndarray, np.ndarray]:
    """Return (successes, collaborations) per brand: five busy brands, 30 small ones."""
    small = np.tile([0, 1, 2, 3, 4], 6)  # 30 brands of 5 collaborations
    return (
        np.r_[np.asarray(rates) * 200, small],
        np.r_[np.full(len(rates), 200), np.full(30, 5)],
    )


# No arm effect: brands differ, and the candidate drew busy brands that happen to
# succeed less. As rows these are 1,150 observations an arm; they are 35 brands.
UNLUCKY = busy_brands([0.10, 0.20, 0.25, 0.30, 0.45])
LUCKY = busy_brands([0.20, 0.30, 0.40, 0.45, 0.55])


@pytest.mark.parametrize("tuning", [None, sequential.DEFAULT_TUNING])
def test_a_few_busy_brands_do_not_make_a_difference_significant(tuning):
    (cx, cy), (bx, by) = UNLUCKY, LUCKY
    naive = compare_rates(
        int(cx.sum()), int(cy.sum()), int(bx.sum()), int(by.sum()), 0.05, tuning
    )
    clustered = compare_ratios(
        RatioMoments.from_units(cx, cy), RatioMoments.from_units(bx, by), 0.05, tuning
    )
    assert naive.lift_abs == pytest.approx(clustered.lift_abs)
    assert naive.p_value < 0.001
    assert clustered.p_value > 0.1


def test_under_no_effect_the_cluster_test_keeps_alpha_and_the_naive_one_does_not():
    rng = np.random.default_rng(4)
    naive, clustered = [], []
    for _ in range(400):
        brand_t, success_t = clustered_rows(rng, 40)
        brand_c, success_c = clustered_rows(rng, 40)
        naive.append(
            compare_rates(
                int(success_t.sum()),
                len(success_t),
                int(success_c.sum()),
                len(success_c),
            ).p_value
            < 0.05
        )
        clustered.append(
            compare_ratios(
                RatioMoments.from_rows(brand_t, success_t),
                RatioMoments.from_rows(brand_c, success_c),
            ).p_value
            < 0.05
        )
    assert np.mean(naive) > 0.2
    assert np.mean(clustered) < 0.09


def test_sequential_mode_waits_for_units_and_reads_always_valid_p_values():
    few = RatioMoments.from_units(np.ones(29), np.full(29, 50))
    many = RatioMoments.from_units(np.zeros(40), np.full(40, 50))
    early = compare_ratios(few, many, 0.05, sequential.DEFAULT_TUNING)
    assert early.p_value is None and early.lift_abs == pytest.approx(0.02)
    rng = np.random.default_rng(5)
    t = RatioMoments.from_rows(*clustered_rows(rng, 60, effect=0.5))
    c = RatioMoments.from_rows(*clustered_rows(rng, 60))
    fixed = compare_ratios(t, c, 0.05)
    always = compare_ratios(t, c, 0.05, sequential.DEFAULT_TUNING)
    assert always.lift_abs == pytest.approx(fixed.lift_abs)
    assert always.p_value >= fixed.p_value
    assert always.lift_abs_ci[0] < fixed.lift_abs_ci[0]


def test_arms_without_any_spread_differ_exactly():
    broken = RatioMoments.from_units(np.full(40, 3), np.full(40, 3))  # every request
    fine = RatioMoments.from_units(np.zeros(40), np.full(40, 3))
    lift = compare_ratios(broken, fine, 0.05, sequential.DEFAULT_TUNING)
    assert lift.lift_abs == 1.0 and lift.p_value == 0.0
    same = compare_ratios(fine, fine, 0.05, sequential.DEFAULT_TUNING)
    assert same.p_value == 1.0

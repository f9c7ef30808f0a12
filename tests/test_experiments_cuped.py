"""CUPED on synthetic data with a known correlation (no app needed)."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from webapp.experiments.cuped import CovariateVariant, cuped_analysis, cuped_theta


def synthetic_arms(rho, effect, n=20_000, seed=0):
    """Return (y, x) per arm with corr(x, y) = rho within each arm."""
    rng = np.random.default_rng(seed)
    arms = []
    for shift in (0.0, effect):
        x = rng.normal(5.0, 2.0, n)
        noise = rng.normal(0.0, 2.0, n)
        y = 10.0 + shift + rho * (x - 5.0) + np.sqrt(1 - rho**2) * noise
        arms.append((y, x))
    return arms


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.9])
def test_variance_reduction_is_rho_squared(rho):
    """With corr(x, y) = rho the adjusted variance is (1 - rho^2) of the raw one."""
    arms = synthetic_arms(rho, effect=0.05, seed=int(rho * 10))
    variants = [
        CovariateVariant.from_values(key, y, x)
        for key, (y, x) in zip(("control", "treatment"), arms, strict=True)
    ]
    result = cuped_analysis(variants)
    assert result["variance_reduction"] == pytest.approx(rho**2, abs=0.015)
    treatment = result["variants"][1]
    assert treatment["variance_reduction"] == pytest.approx(rho**2, abs=0.015)
    assert result["theta"] == pytest.approx(rho, abs=0.02)  # Var(x) = Var(noise)
    raw_low, raw_high = treatment["unadjusted"]["lift_abs_ci"]
    adj_low, adj_high = treatment["adjusted"]["lift_abs_ci"]
    assert (adj_high - adj_low) == pytest.approx(
        (raw_high - raw_low) * np.sqrt(1 - rho**2), rel=0.02
    )


def test_adjusted_comparison_equals_welch_on_adjusted_values():
    """Sufficient-statistic algebra equals scipy's Welch test on y - theta (x - x̄)."""
    arms = synthetic_arms(0.7, effect=0.08, n=3_000, seed=4)
    variants = [
        CovariateVariant.from_values(key, y, x)
        for key, (y, x) in zip(("control", "treatment"), arms, strict=True)
    ]
    theta = cuped_theta(variants)
    (y_c, x_c), (y_t, x_t) = arms
    # Independent theta: least-squares slope on within-arm centred data.
    centred_x = np.concatenate([x_c - x_c.mean(), x_t - x_t.mean()])
    centred_y = np.concatenate([y_c - y_c.mean(), y_t - y_t.mean()])
    slope = np.linalg.lstsq(centred_x[:, None], centred_y, rcond=None)[0][0]
    assert theta == pytest.approx(slope, abs=1e-9)
    overall_x = np.concatenate([x_c, x_t]).mean()
    adjusted_c = y_c - theta * (x_c - overall_x)
    adjusted_t = y_t - theta * (x_t - overall_x)
    result = cuped_analysis(variants)
    treatment = result["variants"][1]
    welch = scipy_stats.ttest_ind(adjusted_t, adjusted_c, equal_var=False)
    assert treatment["adjusted"]["p_value"] == pytest.approx(welch.pvalue, abs=1e-6)
    assert treatment["mean_adjusted"] == pytest.approx(adjusted_t.mean(), abs=1e-9)
    unadjusted = scipy_stats.ttest_ind(y_t, y_c, equal_var=False)
    assert treatment["unadjusted"]["p_value"] == pytest.approx(
        unadjusted.pvalue, abs=1e-6
    )
    adjusted_ci, raw_ci = (
        treatment["adjusted"]["lift_abs_ci"],
        treatment["unadjusted"]["lift_abs_ci"],
    )
    assert adjusted_ci[1] - adjusted_ci[0] < raw_ci[1] - raw_ci[0]


def test_cuped_keeps_the_estimate_unbiased():
    """Across 200 seeds the adjusted lift averages the true lift, with less spread."""
    raw, adjusted = [], []
    for seed in range(200):
        arms = synthetic_arms(0.8, effect=0.1, n=400, seed=seed)
        variants = [
            CovariateVariant.from_values(key, y, x)
            for key, (y, x) in zip(("c", "t"), arms, strict=True)
        ]
        row = cuped_analysis(variants)["variants"][1]
        raw.append(row["unadjusted"]["lift_abs"])
        adjusted.append(row["adjusted"]["lift_abs"])
    raw, adjusted = np.array(raw), np.array(adjusted)
    assert adjusted.mean() == pytest.approx(0.1, abs=3 * adjusted.std() / np.sqrt(200))
    assert adjusted.var() < 0.5 * raw.var()


def test_a_useless_covariate_changes_nothing_much():
    """Uncorrelated x: theta near 0 and no variance reduction to speak of."""
    arms = synthetic_arms(0.0, effect=0.0, n=5_000, seed=2)
    variants = [
        CovariateVariant.from_values(key, y, x)
        for key, (y, x) in zip(("c", "t"), arms, strict=True)
    ]
    result = cuped_analysis(variants)
    assert abs(result["theta"]) < 0.05
    assert abs(result["variance_reduction"]) < 0.005
    with pytest.raises(ValueError):
        cuped_analysis(variants[:1])

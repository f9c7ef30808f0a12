"""Monitoring's pure parts against scipy and scikit-learn computed directly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency, ks_2samp
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, mean_absolute_error, roc_auc_score

from webapp.monitoring import alerts, drift, quality, reference


def test_binary_figures_agree_with_sklearn():
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 1, 400)
    y = (rng.uniform(0, 1, 400) < p).astype(int)
    rating = rng.integers(1, 6, 400).astype(float)
    found = quality.binary(y, p, rating)
    assert found["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert found["brier"] == pytest.approx(brier_score_loss(y, p))
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    assert [c["observed"] for c in found["calibration"]] == pytest.approx(observed)
    assert [c["predicted"] for c in found["calibration"]] == pytest.approx(predicted)
    assert found["success_rate"] == pytest.approx(y.mean())
    assert found["mean_rating"] == pytest.approx(rating.mean())
    assert found["pairs"] == 400


def test_empty_and_one_class_windows_give_none():
    empty = quality.binary(np.array([]), np.array([]))
    assert empty["roc_auc"] is None and empty["brier"] is None
    assert empty["calibration"] is None and empty["success_rate"] is None
    one = quality.binary(np.ones(5), np.full(5, 0.7))
    assert one["roc_auc"] is None and one["calibration"] is None
    assert one["brier"] == pytest.approx(0.09)
    assert quality.risk(np.zeros(3), np.ones(3))["roc_auc"] is None
    assert quality.interval_regression(*[np.array([])] * 5)["mae"] is None
    assert quality.forecast(*[np.array([])] * 4)["mae"] is None


def test_interval_figures_agree_with_sklearn():
    rng = np.random.default_rng(3)
    actual = rng.normal(0.2, 0.3, 200)
    estimate = actual + rng.normal(0, 0.1, 200)
    low, high = estimate - 0.15, estimate + 0.15
    found = quality.interval_regression(actual, estimate, low, high, np.full(200, 0.9))
    assert found["mae"] == pytest.approx(mean_absolute_error(actual, estimate))
    inside = np.mean((actual >= low) & (actual <= high))
    assert found["coverage"] == pytest.approx(inside)
    assert found["nominal_coverage"] == pytest.approx(0.9)


def test_psi_of_known_shares():
    # PSI = sum (a - e) ln(a / e), written out here independently.
    expected = np.array([0.25, 0.25, 0.5])
    actual = np.array([0.5, 0.25, 0.25])
    by_hand = sum(
        (a - e) * np.log(a / e) for a, e in zip(actual, expected, strict=True)
    )
    assert drift.psi(expected * 400, actual * 80) == pytest.approx(by_hand)
    assert by_hand == pytest.approx(0.25 * np.log(2) * 2)
    assert drift.psi([10, 10], [3, 3]) == pytest.approx(0.0)


def test_shifted_numeric_feature_drifts_and_unshifted_does_not():
    rng = np.random.default_rng(11)
    train = rng.normal(0, 1, 5000)
    entry = reference.feature_reference(train)
    assert entry["kind"] == "numeric" and len(entry["edges"]) == 9
    same = drift.feature_drift(entry, rng.normal(0, 1, 800))
    moved = drift.feature_drift(entry, rng.normal(0.8, 1, 800))
    limits = alerts.Thresholds(0.2, 0.6, 0.25, 0.15, 0.05, 0.1, 30)
    assert same["psi"] < 0.05 and moved["psi"] > 0.2
    assert alerts.drift_alerts({"x": same}, limits) == []
    assert [a["feature"] for a in alerts.drift_alerts({"x": moved}, limits)] == ["x"]
    live = rng.normal(0.8, 1, 800)
    result = drift.feature_drift(entry, live)
    direct = ks_2samp(np.array(entry["sample"]), live)
    assert result["test"] == "ks"
    assert result["statistic"] == pytest.approx(direct.statistic)
    assert result["p_value"] == pytest.approx(direct.pvalue)
    # The PSI uses the reference's decile bins: recount them here.
    edges = np.quantile(train, np.linspace(0.1, 0.9, 9))
    ref = np.bincount(np.searchsorted(edges, train, side="right"), minlength=10)
    now = np.bincount(np.searchsorted(edges, live, side="right"), minlength=10)
    e, a = ref / ref.sum(), now / now.sum()
    assert result["psi"] == pytest.approx(np.sum((a - e) * np.log(a / e)))


def test_categorical_feature_uses_chi_square():
    train = np.array([0] * 700 + [1] * 300, dtype=float)
    entry = reference.feature_reference(train)
    assert entry == {"kind": "categorical", "n": 1000, "counts": {"0": 700, "1": 300}}
    live = np.array([0] * 40 + [1] * 60, dtype=float)
    result = drift.feature_drift(entry, live)
    direct = chi2_contingency(np.array([[700, 300], [40, 60]]))
    assert result["test"] == "chi2"
    assert result["statistic"] == pytest.approx(direct.statistic)
    assert result["p_value"] == pytest.approx(direct.pvalue)
    assert result["psi"] > 0.2
    assert drift.feature_drift(entry, np.array([])) is None


def test_quality_alerts_need_enough_pairs():
    limits = alerts.Thresholds(0.2, 0.6, 0.25, 0.15, 0.05, 0.1, 30)
    bad = {"pairs": 100, "roc_auc": 0.55, "brier": 0.3, "calibration_gap": 0.2}
    assert {a["metric"] for a in alerts.quality_alerts(bad, limits)} == {
        "roc_auc",
        "brier",
        "calibration_gap",
    }
    assert alerts.quality_alerts(bad | {"pairs": 10}, limits) == []
    short = {"pairs": 50, "coverage": 0.7, "nominal_coverage": 0.9}
    assert [a["metric"] for a in alerts.quality_alerts(short, limits)] == ["coverage"]
    assert alerts.error_rate_alerts({"predictions": 100, "error_rate": 0.1}, limits)
    assert not alerts.error_rate_alerts(
        {"predictions": 100, "error_rate": 0.01}, limits
    )

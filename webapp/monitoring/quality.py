"""Realised quality figures from (prediction, outcome) pairs; pure, scikit-learn metrics.

Every function takes aligned arrays and returns plain floats. A window with no
pairs, or with one class only where a figure needs both, gives None for that
figure rather than an error, so empty windows render as empty.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    brier_score_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    roc_auc_score,
)

CALIBRATION_BINS = 10


def _float(value: Any) -> float | None:
    """Return ``value`` as a float, None when it is None or not finite."""
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _mean(values: np.ndarray) -> float | None:
    """Return the mean of the finite values, None when there are none."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else None


def two_classes(y: np.ndarray) -> bool:
    """True when ``y`` holds both 0 and 1."""
    return len(np.unique(np.asarray(y))) == 2


def auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Return ROC AUC of ``score`` for the binary ``y``; None for empty or one-class y."""
    if len(y) == 0 or not two_classes(y):
        return None
    return _float(roc_auc_score(y, score))


def calibration(
    y: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS
) -> list[dict[str, float]] | None:
    """Return observed vs predicted success by probability decile (quantile bins).

    None for empty or one-class windows (sklearn's calibration_curve needs both).
    """
    if len(y) == 0 or not two_classes(y):
        return None
    observed, predicted = calibration_curve(
        y, probability, n_bins=bins, strategy="quantile"
    )
    return [
        {"predicted": float(p), "observed": float(o)}
        for p, o in zip(predicted, observed, strict=True)
    ]


def calibration_gap(points: list[dict[str, float]] | None) -> float | None:
    """Return the largest |observed - predicted| over the calibration bins."""
    if not points:
        return None
    return max(abs(p["observed"] - p["predicted"]) for p in points)


def expected_calibration_error(
    y: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS
) -> float | None:
    """Return the ECE: mean |observed - predicted| over quantile bins, weighted by size.

    The bins are the same quantile bins as ``calibration`` (ties may merge
    some); None for an empty window.
    """
    y = np.asarray(y, dtype=float)
    probability = np.asarray(probability, dtype=float)
    if len(y) == 0:
        return None
    edges = np.quantile(probability, np.linspace(0.0, 1.0, max(1, bins) + 1))
    members = np.searchsorted(edges[1:-1], probability, side="right")
    gaps = [
        np.sum(members == b)
        * abs(y[members == b].mean() - probability[members == b].mean())
        for b in np.unique(members)
    ]
    return _float(sum(gaps) / len(y))


def binary(
    y: np.ndarray, probability: np.ndarray, rating: np.ndarray | None = None
) -> dict[str, Any]:
    """Return ROC AUC, Brier score, calibration, success rate and mean rating.

    :param y: realised labels (1 = success).
    :param probability: the predicted probabilities of success.
    :param rating: the brand's rating per pair (NaN when none).
    """
    y = np.asarray(y, dtype=np.int64)
    probability = np.asarray(probability, dtype=float)
    points = calibration(y, probability)
    return {
        "pairs": int(len(y)),
        "roc_auc": auc(y, probability),
        "brier": _float(brier_score_loss(y, probability)) if len(y) else None,
        "calibration": points,
        "calibration_gap": calibration_gap(points),
        "success_rate": _mean(y),
        "mean_predicted": _mean(probability),
        "mean_rating": _mean(rating) if rating is not None else None,
    }


def risk(
    failed: np.ndarray, score: np.ndarray, rating: np.ndarray | None = None
) -> dict[str, Any]:
    """Return the risk score's ROC AUC on failed collaborations and the failure rate."""
    failed = np.asarray(failed, dtype=np.int64)
    return {
        "pairs": int(len(failed)),
        "roc_auc": auc(failed, np.asarray(score, dtype=float)),
        "failure_rate": _mean(failed),
        "mean_rating": _mean(rating) if rating is not None else None,
    }


def interval_regression(
    actual: np.ndarray,
    estimate: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    level: np.ndarray,
) -> dict[str, Any]:
    """Return MAE and the realised coverage of the intervals against their level.

    Rows without an interval (NaN bounds) count for MAE, not for coverage.
    """
    actual = np.asarray(actual, dtype=float)
    estimate = np.asarray(estimate, dtype=float)
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    has = np.isfinite(low) & np.isfinite(high)
    inside = (actual[has] >= low[has]) & (actual[has] <= high[has])
    return {
        "pairs": int(len(actual)),
        "mae": _float(mean_absolute_error(actual, estimate)) if len(actual) else None,
        "coverage": _mean(inside),
        "nominal_coverage": _mean(np.asarray(level, dtype=float)[has]),
        "mean_width": _mean((high - low)[has]),
        "mean_actual": _mean(actual),
    }


def forecast(
    actual: np.ndarray, forecast_value: np.ndarray, low: np.ndarray, high: np.ndarray
) -> dict[str, Any]:
    """Return MAE, MAPE and interval coverage of forecast points against realised values."""
    actual = np.asarray(actual, dtype=float)
    value = np.asarray(forecast_value, dtype=float)
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    has = np.isfinite(low) & np.isfinite(high)
    nonzero = actual != 0
    return {
        "pairs": int(len(actual)),
        "mae": _float(mean_absolute_error(actual, value)) if len(actual) else None,
        "mape": _float(mean_absolute_percentage_error(actual[nonzero], value[nonzero]))
        if nonzero.any()
        else None,
        "coverage": _mean((actual[has] >= low[has]) & (actual[has] <= high[has])),
    }

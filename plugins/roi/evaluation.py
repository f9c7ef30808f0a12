"""Held-out metrics and charts for point estimates with prediction intervals."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from webapp.model_types import chart_spec

CHART_POINTS = 150


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Return R², MAE and RMSE of ``predicted`` against ``y``."""
    return {
        "r2": float(r2_score(y, predicted)) if len(y) > 1 else float("nan"),
        "mae": float(mean_absolute_error(y, predicted)),
        "rmse": float(np.sqrt(mean_squared_error(y, predicted))),
    }


def interval_metrics(y: np.ndarray, low: np.ndarray, high: np.ndarray) -> dict:
    """Return the share of ``y`` inside [low, high] and the intervals' mean width."""
    return {
        "coverage": float(np.mean((y >= low) & (y <= high))),
        "mean_width": float(np.mean(high - low)),
    }


def band_coverage(y: np.ndarray, predicted: np.ndarray, half_width: float) -> float:
    """Return the coverage of a fixed band ``predicted ± half_width`` (a naive baseline)."""
    return float(np.mean(np.abs(y - predicted) <= half_width))


def width_spread(low: np.ndarray, high: np.ndarray) -> float:
    """Return how much widths vary between rows (coefficient of variation; 0 = constant)."""
    width = high - low
    mean = float(np.mean(width))
    return float(np.std(width) / mean) if mean > 0 else 0.0


def _thinned(n: int, limit: int = CHART_POINTS) -> np.ndarray:
    """Return evenly spaced indices into n rows, at most ``limit`` of them."""
    return np.unique(np.linspace(0, n - 1, min(n, limit)).astype(int))


def interval_chart(
    y: np.ndarray, predicted: np.ndarray, low: np.ndarray, high: np.ndarray, level
) -> dict[str, Any]:
    """Return the predicted-vs-actual chart with each row's interval as a shaded band."""
    order = np.argsort(predicted, kind="stable")
    keep = order[_thinned(len(order))]

    def points(ys: np.ndarray) -> list[dict[str, float]]:
        return [
            {"x": round(float(predicted[i]), 4), "y": round(float(ys[i]), 4)}
            for i in keep
        ]

    return chart_spec(
        "roi_intervals",
        f"Predicted vs. actual ROI with {level:.0%} intervals (latest window)",
        "scatter",
        [
            {"label": "actual", "data": points(y), "kind": "scatter"},
            {"label": "interval low", "data": points(low), "kind": "line"},
            {
                "label": "interval high",
                "data": points(high),
                "kind": "line",
                "fill": "interval low",
            },
            {
                "label": "predicted",
                "data": points(predicted),
                "kind": "line",
                "dashed": True,
            },
        ],
        x_label="Predicted ROI",
        y_label="ROI",
    )


def coverage_chart(folds: list[dict[str, Any]], level: float) -> dict[str, Any]:
    """Return held-out coverage per validation window next to the nominal level."""
    return chart_spec(
        "coverage",
        "Interval coverage per validation window",
        "bar",
        [
            {"label": "held-out coverage", "data": [f["coverage"] for f in folds]},
            {
                "label": f"nominal {level:.0%}",
                "data": [level] * len(folds),
                "kind": "line",
                "dashed": True,
            },
        ],
        y_label="Share of outcomes inside the interval",
        labels=[f"{f['valid_from']} → {f['valid_to']}" for f in folds],
    )

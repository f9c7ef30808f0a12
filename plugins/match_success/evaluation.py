"""Held-out metrics and curves for probabilistic classifiers."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    roc_curve,
)

N_BINS = 10


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, n_bins: int = N_BINS
) -> float:
    """Return the sample-weighted mean gap between predicted and observed rates over equal-width bins."""
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    predicted = np.bincount(bins, weights=p, minlength=n_bins)
    observed = np.bincount(bins, weights=y, minlength=n_bins)
    used = counts > 0
    gaps = np.abs(predicted[used] - observed[used]) / counts[used]
    return float(np.sum(gaps * counts[used]) / len(p))


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Return ROC AUC, PR AUC, Brier, log loss, accuracy and ECE of ``p`` against ``y``."""
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "accuracy": float(accuracy_score(y, p >= 0.5)),
        "ece": expected_calibration_error(y, p),
        "n": int(len(y)),
        "positive_rate": float(np.mean(y)),
    }


def curves(y: np.ndarray, p: np.ndarray, max_points: int = 60) -> dict[str, Any]:
    """Return ROC and calibration curve points, thinned for charts."""
    fpr, tpr, _ = roc_curve(y, p)
    keep = np.unique(
        np.linspace(0, len(fpr) - 1, min(len(fpr), max_points)).astype(int)
    )
    observed, predicted = calibration_curve(y, p, n_bins=N_BINS, strategy="quantile")
    return {
        "roc": {"fpr": fpr[keep].round(4).tolist(), "tpr": tpr[keep].round(4).tolist()},
        "calibration": {
            "predicted": predicted.round(4).tolist(),
            "observed": observed.round(4).tolist(),
        },
    }


def calibration_table(
    y: np.ndarray, p: np.ndarray, n_bins: int = N_BINS
) -> dict[str, list[float]]:
    """Return per-bin predicted mean, observed rate and count (for confidence at serving time)."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    edges[0], edges[-1] = 0.0, 1.0
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(bins, minlength=len(edges) - 1).astype(float)
    safe = np.maximum(counts, 1)
    return {
        "edges": edges.tolist(),
        "predicted": (
            np.bincount(bins, weights=p, minlength=len(counts)) / safe
        ).tolist(),
        "observed": (
            np.bincount(bins, weights=y, minlength=len(counts)) / safe
        ).tolist(),
        "count": counts.tolist(),
    }

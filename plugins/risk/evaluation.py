"""Held-out figures and charts of a risk model."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from plugins.risk.artifact import FACTOR_LABELS, FACTOR_NAMES
from webapp.model_types import chart_spec

BINS = np.linspace(0, 100, 11)


def held_out_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Return the ROC AUC of ``score`` for failures (y = 1); None with one class."""
    keep = np.isfinite(score)
    if len(np.unique(y[keep])) < 2:
        return None
    return float(roc_auc_score(y[keep], score[keep]))


def fold_row(data, train, valid, y, held, artifact) -> dict[str, Any]:
    """Return one validation window's figures."""
    return {
        "train": int(len(train)),
        "valid": int(len(valid)),
        "valid_from": str(data.times[valid[0]])[:10],
        "valid_to": str(data.times[valid[-1]])[:10],
        "failures_in_train": int(y[train].sum()),
        "classifier": artifact.classifier is not None,
        "roc_auc_unsupervised": held_out_auc(y[valid], held["anomaly"][valid]),
        "roc_auc_blended": (
            held_out_auc(y[valid], held["blended"][valid])
            if artifact.classifier is not None
            else None
        ),
    }


def risk_charts(
    y: np.ndarray, score: np.ndarray, contributions: np.ndarray
) -> list[dict[str, Any]]:
    """Return the score distribution (failed vs not) and how often each factor leads."""
    labels = [
        f"{int(lo)}-{int(hi)}" for lo, hi in zip(BINS[:-1], BINS[1:], strict=True)
    ]
    distribution = []
    for name, mask in (("failed", y == 1), ("went well", y == 0)):
        counts, _ = np.histogram(score[mask], bins=BINS)
        share = counts / max(int(mask.sum()), 1)
        distribution.append(
            {"label": name, "data": [round(float(v), 4) for v in share]}
        )
    pushed = contributions.max(axis=1) > 0
    top = np.argmax(contributions, axis=1)[pushed]
    frequency = np.bincount(top, minlength=len(FACTOR_NAMES)) / max(len(score), 1)
    return [
        chart_spec(
            "risk_distribution",
            "Held-out risk scores: failed vs. went well",
            "bar",
            distribution,
            x_label="risk score",
            y_label="share of the group's collaborations",
            labels=labels,
        ),
        chart_spec(
            "factor_frequency",
            "How often each factor leads (held-out window)",
            "bar",
            [
                {
                    "label": "share of collaborations",
                    "data": [round(float(v), 4) for v in frequency],
                }
            ],
            y_label="share with this as the top factor",
            labels=[FACTOR_LABELS[n] for n in FACTOR_NAMES],
        ),
    ]

"""Turn model versions' stored metrics into table columns and chart data for the pages.

Works for any model type: columns and charts appear only for the metrics a
version actually stored, so a third-party type's own metrics show up too.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from webapp.learning.features import FEATURE_LABELS
from webapp.models import ModelVersion

# (key, label, lower is better); None means no "best" direction is known.
KNOWN_METRICS: tuple[tuple[str, str, bool | None], ...] = (
    ("roc_auc", "ROC AUC", False),
    ("pr_auc", "PR AUC", False),
    ("brier", "Brier", True),
    ("log_loss", "Log loss", True),
    ("accuracy", "Accuracy", False),
    ("ece", "ECE", True),
    ("rmse", "RMSE", True),
    ("mae", "MAE", True),
    ("r2", "R²", False),
    ("mape", "MAPE", True),
    ("coverage", "Coverage", None),
    # Narrower is better only at equal coverage, so neither has a "best".
    ("mean_width", "Mean width", None),
    # A fixed band of ±0.30 around the point estimate, the naive comparison.
    ("band_30_coverage", "±0.30 band coverage", None),
    # How much interval widths vary between pairs (0: one width for all).
    ("width_spread", "Width spread", None),
)
# Scalar entries that describe the evaluation set rather than score the model.
NOT_SCORES = {"n", "positive_rate", "samples", "nominal_coverage"}
IMPORTANCE_SHOWN = 15


def _scalar(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def metric_columns(versions: list[ModelVersion]) -> list[dict[str, Any]]:
    """Return the metric columns to show: known ones first, then any other scalar."""
    present: set[str] = set()
    for version in versions:
        present.update(
            key
            for key, value in (version.metrics or {}).items()
            if _scalar(value) and key not in NOT_SCORES
        )
    columns = [
        {"key": key, "label": label, "lower_is_better": lower}
        for key, label, lower in KNOWN_METRICS
        if key in present
    ]
    known = {key for key, _, _ in KNOWN_METRICS}
    columns += [
        {"key": key, "label": key.replace("_", " "), "lower_is_better": None}
        for key in sorted(present - known)
    ]
    return columns


def best_values(versions: list[ModelVersion]) -> dict[str, float]:
    """Return the best value of each directional metric across ``versions``."""
    best: dict[str, float] = {}
    for key, _, lower in KNOWN_METRICS:
        values = [
            v.metrics[key] for v in versions if _scalar((v.metrics or {}).get(key))
        ]
        if values:
            best[key] = min(values) if lower else max(values)
    return best


def _points(xs: list[float], ys: list[float]) -> list[dict[str, float]]:
    return [{"x": x, "y": y} for x, y in zip(xs, ys, strict=True)]


def chart_data(versions: list[ModelVersion]) -> dict[str, list[dict[str, Any]]]:
    """Return ROC and calibration curves of ``versions`` as Chart.js datasets."""
    roc, calibration = [], []
    for version in versions:
        curves = (version.metrics or {}).get("curves") or {}
        label = f"v{version.version} ({version.status})"
        if curves.get("roc"):
            roc.append(
                {
                    "label": label,
                    "data": _points(curves["roc"]["fpr"], curves["roc"]["tpr"]),
                }
            )
        if curves.get("calibration"):
            points = curves["calibration"]
            calibration.append(
                {
                    "label": label,
                    "data": _points(points["predicted"], points["observed"]),
                }
            )
    return {"roc": roc, "calibration": calibration}


def feature_label(name: str) -> str:
    """Return the human label of a feature (its name when core does not know it)."""
    return FEATURE_LABELS.get(name, name.replace("_", " "))


def importance(version: ModelVersion | None) -> dict[str, list] | None:
    """Return the top permutation importances of ``version`` for a bar chart.

    ``every`` lists all features, most important first, for the table that
    says what each one adds (the chart shows the top IMPORTANCE_SHOWN).
    """
    rows = ((version.metrics or {}).get("importance") if version else None) or []
    rows = sorted(rows, key=lambda r: -r["mean"])
    if not rows:
        return None
    top = rows[:IMPORTANCE_SHOWN]
    return {
        "labels": [feature_label(r["feature"]) for r in top],
        "scores": [round(r["mean"], 4) for r in top],
        "std": [round(r.get("std", 0.0), 4) for r in top],
        "every": [
            {
                "feature": r["feature"],
                "label": feature_label(r["feature"]),
                "mean": r["mean"],
                "std": r.get("std", 0.0),
            }
            for r in rows
        ],
    }


def candidate_rows(version: ModelVersion | None) -> list[dict[str, Any]]:
    """Return the model-selection scores of every candidate algorithm, best first."""
    candidates = ((version.metrics or {}).get("candidates") if version else None) or {}
    rows = [
        {
            "algorithm": name,
            "chosen": name == version.algorithm,
            "roc_auc": scores.get("roc_auc"),
            "brier": scores.get("brier"),
            "fold_roc_auc": scores.get("fold_roc_auc") or [],
            "fold_brier": scores.get("fold_brier") or [],
            # ms to score 1,000 rows, when training measured it (match_success).
            "serving_ms": scores.get("serving_ms"),
            # Regression types score candidates by MAE and R² instead.
            "mae": scores.get("mae"),
            "r2": scores.get("r2"),
            "fold_mae": scores.get("fold_mae") or [],
        }
        for name, scores in candidates.items()
    ]
    if rows and rows[0]["roc_auc"] is None and rows[0]["mae"] is not None:
        return sorted(rows, key=lambda r: r["mae"])
    return sorted(rows, key=lambda r: -(r["roc_auc"] or 0.0))


def plugin_charts(versions: list[ModelVersion]) -> list[dict[str, Any]]:
    """Return the charts the versions stored (``metrics["charts"]``), merged by key.

    Datasets of the same chart from several compared versions are overlaid,
    each labelled with its version; a chart keeps the first version's title,
    kind, axes and category labels.
    """
    merged: dict[str, dict[str, Any]] = {}
    for version in versions:
        for chart in (version.metrics or {}).get("charts") or []:
            if not isinstance(chart, dict) or "key" not in chart:
                continue
            entry = merged.setdefault(chart["key"], {**chart, "datasets": []})
            prefix = f"v{version.version} " if len(versions) > 1 else ""
            for d in chart.get("datasets") or []:
                renamed = {**d, "label": prefix + str(d.get("label", ""))}
                if d.get("fill"):  # a band fills to another dataset, named by label
                    renamed["fill"] = prefix + str(d["fill"])
                entry["datasets"].append(renamed)
    return list(merged.values())


def plugin_tables(version: ModelVersion | None) -> list[dict[str, Any]]:
    """Return the tables a version stored (``metrics["tables"]``)."""
    tables = ((version.metrics or {}).get("tables") if version else None) or []
    return [t for t in tables if isinstance(t, dict) and t.get("columns")]


# How the rankers of ``metrics["ranking"]`` are named on the page, in table order.
RANKER_LABELS = {
    "model": "Model (the held-out pipeline)",
    "popularity": "Popularity (most past successes)",
    "rule_based": "Rule-based fallback",
}


def ranking_table(version: ModelVersion | None) -> dict[str, Any] | None:
    """Return the stored ranking report of ``version`` with its rows, or None.

    None when the version stored none (another type, or trained before rankings
    were measured); rows are empty when no brand could be ranked in the window.
    """
    report = (version.metrics or {}).get("ranking") if version else None
    if not isinstance(report, dict):
        return None
    rankers = report.get("rankers") or {}
    rows = [
        {"key": key, "label": label, **rankers[key]}
        for key, label in RANKER_LABELS.items()
        if key in rankers
    ]
    return {**report, "rows": rows}

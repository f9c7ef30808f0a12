"""The monitoring dashboard's charts, as chart specs (``registry.contract.chart_spec``)."""

from __future__ import annotations

from typing import Any

from webapp.registry.contract import chart_spec

# The figure shown over time for each kind of type, and its words.
TIME_METRICS = {
    "binary": ("roc_auc", "ROC AUC"),
    "risk": ("roc_auc", "ROC AUC on failed collaborations"),
    "value": ("mae", "ROI mean absolute error"),
    "forecast": ("mae", "forecast mean absolute error"),
}


def calibration_chart(report: dict[str, Any]) -> dict[str, Any] | None:
    """Return observed vs predicted success by decile per version, None without data."""
    datasets = [
        {
            "label": entry["label"],
            "data": [
                {"x": p["predicted"], "y": p["observed"]}
                for p in entry["overall"]["calibration"]
            ],
            "kind": "line",
        }
        for entry in report["versions"]
        if entry["overall"] and entry["overall"].get("calibration")
    ]
    if not datasets:
        return None
    datasets.append(
        {
            "label": "perfectly calibrated",
            "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
            "kind": "line",
            "dashed": True,
        }
    )
    return chart_spec(
        "calibration",
        "Calibration: observed success by predicted decile, since each version served",
        "line",
        datasets,
        x_label="predicted probability",
        y_label="observed success rate",
    )


def window_labels(report: dict[str, Any]) -> list[str]:
    """Return each window's label: the day it ends (UTC)."""
    return [w["end"][:10] for w in report["windows"]]


def metric_chart(report: dict[str, Any]) -> dict[str, Any] | None:
    """Return the kind's main figure per window and version, None without data."""
    key, words = TIME_METRICS.get(report["kind"], (None, None))
    if key is None:
        return None
    datasets = [
        {
            "label": entry["label"],
            "data": [(w or {}).get(key) for w in entry["windows"]],
            "kind": "line",
        }
        for entry in report["versions"]
        if any(w and w.get(key) is not None for w in entry["windows"])
    ]
    if not datasets:
        return None
    return chart_spec(
        "metric-over-time",
        f"{words[0].upper()}{words[1:]} per {report['window_days']}-day window "
        "(by when the outcome became known)",
        "line",
        datasets,
        x_label="window ending (UTC)",
        y_label=words,
        labels=window_labels(report),
    )


def volume_chart(report: dict[str, Any]) -> dict[str, Any] | None:
    """Return predictions per window and version (the fallback's share is the error rate)."""
    datasets = [
        {"label": entry["label"], "data": entry["volume"], "kind": "bar"}
        for entry in report["versions"]
        if any(entry["volume"])
    ]
    if not datasets:
        return None
    return chart_spec(
        "volume",
        f"Predictions served per {report['window_days']}-day window",
        "bar",
        datasets,
        x_label="window ending (UTC)",
        y_label="predictions",
        labels=window_labels(report),
    )


def drift_chart(entry: dict[str, Any], threshold: float) -> dict[str, Any] | None:
    """Return one version's PSI per feature against the alert threshold."""
    if not entry["drift"]:
        return None
    names = sorted(entry["drift"], key=lambda n: -entry["drift"][n]["psi"])
    return chart_spec(
        f"drift-{entry['key']}",
        f"{entry['label']}: population stability index per input "
        f"(alert above {threshold:g})",
        "bar",
        [
            {"label": "PSI", "data": [entry["drift"][n]["psi"] for n in names]},
            {
                "label": "alert threshold",
                "data": [threshold] * len(names),
                "kind": "line",
                "dashed": True,
            },
        ],
        x_label="input feature",
        y_label="PSI",
        labels=names,
    )


def shadow_calibration_chart(entry: dict[str, Any]) -> dict[str, Any] | None:
    """Return a shadow version's calibration beside serving's on the same requests."""
    sides = [
        (entry["label"], entry["shadow"]),
        ("serving (the same requests, as served)", entry["serving"]),
    ]
    datasets = [
        {
            "label": label,
            "data": [
                {"x": p["predicted"], "y": p["observed"]}
                for p in figures["calibration"]
            ],
            "kind": "line",
        }
        for label, figures in sides
        if figures and figures.get("calibration")
    ]
    if not datasets:
        return None
    datasets.append(
        {
            "label": "perfectly calibrated",
            "data": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
            "kind": "line",
            "dashed": True,
        }
    )
    return chart_spec(
        f"shadow-calibration-{entry['key']}",
        f"Shadow: {entry['label']} against serving, observed success by "
        "predicted decile",
        "line",
        datasets,
        x_label="predicted probability",
        y_label="observed success rate",
    )

"""The experiment page's charts, as chart specs (``registry.contract.chart_spec``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from webapp.experiments.results import MEAN_METRICS
from webapp.registry.contract import chart_spec


def _label(metric: str) -> str:
    return metric.replace("_", " ")


def cumulative_chart(
    experiment, daily: list[tuple[date, list[dict]]]
) -> dict[str, Any]:
    """Return the primary metric of each variant over the units exposed so far, by day."""
    labels = [day.isoformat() for day, _ in daily]
    datasets = [
        {
            "label": variant.key,
            "data": [rows[index]["mean"] for _, rows in daily],
            "kind": "line",
        }
        for index, variant in enumerate(experiment.variants)
    ]
    return chart_spec(
        "cumulative",
        f"Cumulative {_label(experiment.metric)} per variant",
        "line",
        datasets,
        x_label="day (UTC)",
        y_label=_label(experiment.metric)
        + ("" if experiment.metric in MEAN_METRICS else " (share of exposed units)"),
        labels=labels,
    )


def lift_chart(experiment, daily: list[tuple[date, list[dict]]]) -> dict[str, Any]:
    """Return each treatment's absolute lift over control with its 95 % CI, by day."""
    labels = [day.isoformat() for day, _ in daily]
    datasets = []
    for index, variant in enumerate(experiment.variants[1:], start=1):
        rows = [rows[index] for _, rows in daily]
        low = f"{variant.key} 95 % CI low"
        datasets += [
            {
                "label": f"{variant.key} lift",
                "data": [row.get("lift_abs") for row in rows],
                "kind": "line",
            },
            {
                "label": low,
                "data": [(row.get("lift_abs_ci") or [None, None])[0] for row in rows],
                "kind": "line",
                "dashed": True,
            },
            {
                "label": f"{variant.key} 95 % CI high",
                "data": [(row.get("lift_abs_ci") or [None, None])[1] for row in rows],
                "kind": "line",
                "dashed": True,
                "fill": low,
            },
        ]
    return chart_spec(
        "lift",
        "Lift over control with its 95 % confidence interval",
        "line",
        datasets,
        x_label="day (UTC)",
        y_label=f"difference in {_label(experiment.metric)}",
        labels=labels,
    )

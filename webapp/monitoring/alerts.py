"""Alert flags: drift or a realised figure past its configured threshold; pure.

Thresholds come from the MONITORING_* settings (``Thresholds.of``). A figure
that rests on fewer than MONITORING_MIN_PAIRS pairs raises no alert: a handful
of outcomes says too little to wake anyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """The alert thresholds (see webapp.config for their meaning and defaults)."""

    psi: float
    min_auc: float
    max_brier: float
    max_calibration_gap: float
    max_error_rate: float
    max_coverage_shortfall: float
    min_pairs: int

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Thresholds:
        """Read the thresholds from the app config."""
        return cls(
            psi=float(config["MONITORING_PSI_ALERT"]),
            min_auc=float(config["MONITORING_MIN_AUC"]),
            max_brier=float(config["MONITORING_MAX_BRIER"]),
            max_calibration_gap=float(config["MONITORING_MAX_CALIBRATION_GAP"]),
            max_error_rate=float(config["MONITORING_MAX_ERROR_RATE"]),
            max_coverage_shortfall=float(config["MONITORING_MAX_COVERAGE_SHORTFALL"]),
            min_pairs=int(config["MONITORING_MIN_PAIRS"]),
        )


def flag(metric: str, value: float, threshold: float, message: str) -> dict[str, Any]:
    """Return one alert."""
    return {
        "metric": metric,
        "value": value,
        "threshold": threshold,
        "message": message,
    }


def quality_alerts(figures: dict[str, Any], limits: Thresholds) -> list[dict]:
    """Return the alerts of one version's realised figures (any kind of type)."""
    if not figures or figures.get("pairs", 0) < limits.min_pairs:
        return []
    found = []
    auc = figures.get("roc_auc")
    if auc is not None and auc < limits.min_auc:
        found.append(
            flag(
                "roc_auc", auc, limits.min_auc, f"ROC AUC {auc:.3f} is below the limit"
            )
        )
    brier = figures.get("brier")
    if brier is not None and brier > limits.max_brier:
        found.append(
            flag("brier", brier, limits.max_brier, f"Brier score {brier:.3f} is high")
        )
    gap = figures.get("calibration_gap")
    if gap is not None and gap > limits.max_calibration_gap:
        found.append(
            flag(
                "calibration_gap",
                gap,
                limits.max_calibration_gap,
                f"a decile's observed success is {gap:.2f} off its prediction",
            )
        )
    coverage, nominal = figures.get("coverage"), figures.get("nominal_coverage")
    shortfall = (
        nominal - coverage if coverage is not None and nominal is not None else None
    )
    if shortfall is not None and shortfall > limits.max_coverage_shortfall:
        found.append(
            flag(
                "coverage",
                coverage,
                nominal - limits.max_coverage_shortfall,
                f"intervals held the outcome {coverage:.0%} of the time, "
                f"nominal {nominal:.0%}",
            )
        )
    return found


def drift_alerts(drift: dict[str, dict], limits: Thresholds) -> list[dict]:
    """Return one alert per feature whose PSI exceeds the threshold."""
    return [
        flag(
            "psi",
            result["psi"],
            limits.psi,
            f"{name} drifted (PSI {result['psi']:.2f})",
        )
        | {"feature": name}
        for name, result in drift.items()
        if result["live_n"] >= limits.min_pairs and result["psi"] > limits.psi
    ]


def error_rate_alerts(window: dict[str, Any], limits: Thresholds) -> list[dict]:
    """Return an alert when a window's fallback share exceeds the threshold."""
    rate = window.get("error_rate")
    if rate is None or window.get("predictions", 0) < limits.min_pairs:
        return []
    if rate <= limits.max_error_rate:
        return []
    return [
        flag(
            "error_rate",
            rate,
            limits.max_error_rate,
            f"{rate:.1%} of predictions were answered by the fallback",
        )
    ]

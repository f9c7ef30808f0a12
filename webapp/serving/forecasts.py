"""Niche trends: the active trend version's forecasts, or the fallback's, as of now.

Every niche's activity series is read fresh (the ``activity`` target's
builder); the routed version forecasts it (its artifact verified by sha256
first), and when no version can serve, the model type's rule-based forecast
answers with a note saying so. Emerging niches are the rising ones whose
forecast beat the naive forecast in the backtest, fastest growth first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from webapp.learning import training_data
from webapp.registry.artifacts import ArtifactError
from webapp.registry.contract import Forecast, Series, TrainingFailed
from webapp.registry.plugins import installed_types
from webapp.serving.routing import ServedVersion, route
from webapp.serving.state import serving_state

log = logging.getLogger(__name__)
TREND_TYPE = "trend"
DEFAULT_HORIZON = 12
MAX_HORIZON = 52


@dataclass
class TrendReport:
    """Forecasts of every niche, the history they continue, and who made them."""

    forecasts: list[Forecast]
    history: dict[str, Series] = field(default_factory=dict)
    version: ServedVersion | None = None
    fallback_reason: str | None = None
    # Set when there is nothing to forecast (no activity, no trend type installed).
    empty_reason: str | None = None

    @property
    def fallback(self) -> bool:
        """True when the rule-based forecast answered."""
        return self.version is None


def emerging(forecasts: list[Forecast]) -> list[Forecast]:
    """Return the rising niches whose forecast beat naive, fastest growth first."""
    rising = [
        f
        for f in forecasts
        if f.summary.get("trend") == "rising"
        and f.backtest.get("beats_naive")
        and f.summary.get("growth_rate") is not None
    ]
    return sorted(rising, key=lambda f: (-f.summary["growth_rate"], f.key))


def niche_trends(horizon: int = DEFAULT_HORIZON) -> TrendReport:
    """Forecast every niche ``horizon`` periods ahead with the version that serves."""
    types = installed_types(current_app)
    if TREND_TYPE not in types:
        return TrendReport([], empty_reason="No trend model type is installed.")
    model_type = types.get(TREND_TYPE)
    try:
        data = training_data.build(model_type.target, current_app.config)
    except TrainingFailed as error:
        return TrendReport([], empty_reason=str(error))
    history = {s.key: s for s in data.series}
    version, artifact, reason = _usable_version()
    if version is not None:
        try:
            forecasts = model_type.forecast(artifact, data, horizon)
            return TrendReport(forecasts, history, version)
        except Exception as error:  # a broken model must not take the page down
            reason = f"{version.label} failed: {type(error).__name__}: {error}"
            serving_state().record_failure(version, reason)
            log.exception("trend forecast by %s failed", version.label)
    return TrendReport(
        model_type.fallback_forecast(data, horizon), history, None, reason
    )


def _usable_version() -> tuple[ServedVersion | None, Any, str | None]:
    """Return (version, verified artifact, fallback reason) of the trend type."""
    state = serving_state()
    chosen = route(state.active, TREND_TYPE, "niches")
    version = chosen.version
    if version is None:
        return None, None, chosen.reason
    try:
        artifact = state.artifacts.load(
            current_app.config["MODEL_DIR"], version.artifact_path, version.sha256
        )
    except ArtifactError as error:
        log.error("refusing artifact of %s: %s", version.label, error)
        return None, None, f"{version.label} unavailable: {error}"
    return version, artifact, None


def forecast_json(forecast: Forecast) -> dict[str, Any]:
    """Return one niche's forecast as the API answers it."""
    return {
        "niche": forecast.key,
        "method": forecast.method,
        "backtest_mase": forecast.backtest.get("mase"),
        "beats_naive": bool(forecast.backtest.get("beats_naive")),
        "growth_rate": forecast.summary.get("growth_rate"),
        "trend": forecast.summary.get("trend", "stable"),
        "frequency": forecast.summary.get("frequency"),
        "level": forecast.level,
        "note": forecast.note,
        "forecast": [
            {
                "period_start": p.period_start.isoformat(),
                "value": round(p.value, 4),
                "lower": round(p.lower, 4),
                "upper": round(p.upper, 4),
            }
            for p in forecast.points
        ],
    }


def report_json(report: TrendReport, horizon: int) -> dict[str, Any]:
    """Return the whole report as the API answers it."""
    return {
        "horizon": horizon,
        "model": {
            "type": TREND_TYPE,
            "version": report.version.version if report.version else None,
        },
        "fallback": report.fallback,
        "fallback_reason": report.fallback_reason or report.empty_reason,
        "niches": [forecast_json(f) for f in report.forecasts],
        "emerging": [
            {"rank": k + 1, "niche": f.key, "growth_rate": f.summary["growth_rate"]}
            for k, f in enumerate(emerging(report.forecasts))
        ],
    }

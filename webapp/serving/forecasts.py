"""Series forecasts of any series type: the routed version's, or the fallback's, as of now.

Every series is read fresh (the type's target builder, e.g. ``activity`` for
the niches); the routed version forecasts it (its artifact verified by sha256
first, a refused one recorded on the version), and when no version can serve,
the model type's rule-based forecast answers with a note saying so. Every
served forecast is logged, one row per series. For the trend type, emerging
niches are the rising ones whose forecast beat the naive forecast in the
backtest, fastest growth first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from webapp.learning import training_data
from webapp.registry.contract import (
    Forecast,
    ModelType,
    Series,
    Subject,
    TrainingFailed,
)
from webapp.registry.plugins import installed_types
from webapp.serving import prediction_log
from webapp.serving.predict import model_failed, usable_version
from webapp.serving.routing import ServedVersion

log = logging.getLogger(__name__)
TREND_TYPE = "trend"
DEFAULT_HORIZON = 12
MAX_HORIZON = 52
SERIES_SUBJECT = "niches"


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


class NotASeriesType(LookupError):
    """The name is not an installed series type (the API answers 404)."""


def series_type(name: str) -> ModelType:
    """Return the installed series type ``name``, else NotASeriesType."""
    types = installed_types(current_app)
    if name not in types:
        raise NotASeriesType(f"{name!r} is not an installed model type")
    plugin = types.get(name)
    if plugin.subject != Subject.NICHE_SERIES:
        raise NotASeriesType(f"{name!r} predicts about {plugin.subject}, not a series")
    return plugin


def niche_trends(horizon: int = DEFAULT_HORIZON, source: str = "web") -> TrendReport:
    """Forecast every niche ``horizon`` periods ahead with the trend version that serves."""
    try:
        return series_forecasts(TREND_TYPE, horizon, source)
    except NotASeriesType:
        return TrendReport([], empty_reason="No trend model type is installed.")


def series_forecasts(name: str, horizon: int, source: str = "api") -> TrendReport:
    """Forecast every series of series type ``name`` ``horizon`` periods ahead; log them.

    :raises NotASeriesType: ``name`` is not an installed series type.
    """
    model_type = series_type(name)
    try:
        data = training_data.build(model_type.target, current_app.config)
    except TrainingFailed as error:
        return TrendReport([], empty_reason=str(error))
    history = {s.key: s for s in data.series}
    # Series forecasts are not per member: every series is routed as one subject.
    usable = usable_version(SERIES_SUBJECT, name, None, unit=None)
    version, artifact, reason = usable.version, usable.artifact, usable.reason
    report = None
    if version is not None:
        try:
            report = TrendReport(
                model_type.forecast(artifact, data, horizon), history, version
            )
        except Exception as error:  # a broken model must not take the page down
            reason = model_failed(version, error)
    if report is None:
        report = TrendReport(
            model_type.fallback_forecast(data, horizon), history, None, reason
        )
    _log(name, report, source)
    return report


def _log(name: str, report: TrendReport, source: str) -> None:
    """Write one PredictionLog row per forecast series (its first point as the score)."""
    prediction_log.write(
        [
            prediction_log.entry(
                name,
                report.version,
                forecast.key,
                source,
                score=forecast.points[0].value,
                interval=(
                    forecast.points[0].lower,
                    forecast.points[0].upper,
                    forecast.level,
                ),
                level=forecast.summary.get("trend"),
                forecast=points_json(forecast),
            )
            for forecast in report.forecasts
            if forecast.points
        ]
    )


def points_json(forecast: Forecast) -> list[dict[str, Any]]:
    """Return a forecast's points as the API answers and the log stores them."""
    return [
        {
            "period_start": p.period_start.isoformat(),
            "value": round(p.value, 4),
            "lower": round(p.lower, 4),
            "upper": round(p.upper, 4),
        }
        for p in forecast.points
    ]


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
        "forecast": points_json(forecast),
    }


def report_json(
    report: TrendReport, horizon: int, name: str = TREND_TYPE
) -> dict[str, Any]:
    """Return the whole report as the API answers it (emerging: rising series first)."""
    return {
        "horizon": horizon,
        "model": {
            "type": name,
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

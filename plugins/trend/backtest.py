"""Rolling-origin backtests: every candidate forecasts from earlier origins, scored by MASE.

An origin's forecast is fitted only on the values before it (ARIMA orders and
ETS forms are chosen inside that window too), then compared with the values
that followed. MASE scales each series' absolute errors by the in-sample MAE of
the (seasonal) naive forecast of the training window (Hyndman & Koehler 2006),
so niches of different sizes average fairly; below 1 beats the in-sample naive.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from plugins.trend.methods import COMBINED, METHODS, Path, Setting, combine

# The shortest training window a backtest origin may have.
MIN_TRAIN = 10


@dataclass
class Scores:
    """One candidate's backtest: MASE and interval coverage per origin."""

    mase: list[float] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    failed: str | None = None

    @property
    def mean_mase(self) -> float:
        """Mean MASE over the origins (inf when the method failed)."""
        return float(np.mean(self.mase)) if self.mase and not self.failed else np.inf

    def as_dict(self) -> dict:
        """Return the JSON-ready figures."""
        finite = np.isfinite(self.mean_mase)
        return {
            "mase": round(self.mean_mase, 4) if finite else None,
            "coverage": round(float(np.mean(self.coverage)), 4) if finite else None,
            "origin_mase": [round(v, 4) for v in self.mase],
            "failed": self.failed,
        }


def origins(n: int, horizon: int, wanted: int) -> list[int]:
    """Return up to ``wanted`` origins, the last ``horizon`` before the end, ``horizon`` apart.

    Fewer are returned when the earliest would leave under MIN_TRAIN values to
    fit on; none means the series is too short to backtest.
    """
    found = [n - horizon * k for k in range(wanted, 0, -1)]
    return [o for o in found if o >= MIN_TRAIN]


def mase_scale(y: np.ndarray, setting: Setting) -> float:
    """Return the in-sample MAE of the (seasonal) naive forecast of ``y``."""
    m = setting.seasonal_period
    m = m if setting.seasonal(1) and len(y) > m else 1
    scale = float(np.mean(np.abs(y[m:] - y[:-m])))
    return scale if scale > 0 else 1.0


def backtest(
    y: np.ndarray, setting: Setting, horizon: int, at: list[int], candidates: list[str]
) -> dict[str, Scores]:
    """Score each candidate (and their combination) at the origins ``at``."""
    scores = {name: Scores() for name in [*candidates, "combination"]}
    chosen_order = None
    for origin in at:
        train, actual = y[:origin], y[origin : origin + horizon]
        scale = mase_scale(train, setting)
        paths: dict[str, Path] = {}
        for name in candidates:
            if scores[name].failed:
                continue
            try:
                used = (
                    replace(setting, order=chosen_order) if name == "arima" else setting
                )
                paths[name] = METHODS[name](train, horizon, used)
            except (ValueError, np.linalg.LinAlgError) as error:
                scores[name].failed = str(error)[:200]
        if "arima" in paths:
            # The order is searched at the first origin only and then kept: the
            # search is most of the cost, and it still sees only earlier values.
            chosen_order = paths["arima"].order
        members = [paths[name] for name in COMBINED if name in paths]
        if len(members) == len(COMBINED):
            paths["combination"] = combine(members)
        else:
            scores["combination"].failed = "a member failed"
        for name, path in paths.items():
            scores[name].mase.append(float(np.mean(np.abs(actual - path.mean)) / scale))
            inside = (actual >= path.lower) & (actual <= path.upper)
            scores[name].coverage.append(float(np.mean(inside)))
    return scores


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Return the symmetric MAPE in percent (the M3 competition's measure)."""
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.where(denominator > 0, 2 * np.abs(actual - forecast) / denominator, 0.0)
    return float(100 * np.mean(ratio))

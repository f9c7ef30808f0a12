"""The candidate forecasting methods, each fitted on one series and forecast h ahead.

Every method takes the observed values and a ``Setting`` and returns a
``Path``: point forecasts and a prediction interval per step, plus the exact
specification it used (so a backtest and the final fit say what they fitted).
The models are statsmodels'; only the two naive methods are written out, as
their formulas are one line each (Hyndman & Athanasopoulos, FPP3 §5.5).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel
from statsmodels.tsa.statespace.sarimax import SARIMAX
from statsmodels.tsa.stattools import kpss

# Fourier pairs of the ARIMA's seasonal regression (dynamic harmonic regression).
FOURIER_PAIRS = 2
# Optimiser steps per ARIMA fit (the order search is most of training time).
ARIMA_ITERATIONS = 50


@dataclass(frozen=True)
class Setting:
    """How the candidates are fitted on one series.

    ``cycles`` is how many full seasonal cycles the shortest backtest window
    holds: seasonal naive and ARIMA's Fourier terms need one, ETS and Theta two.
    The final fit uses the same setting, so the backtest scores the
    specification that serves.
    """

    seasonal_period: int
    cycle: float
    level: float = 0.9
    cycles: int = 0
    max_p: int = 2
    max_q: int = 2
    # An ARIMA order to fit as is, skipping the search (later backtest origins).
    order: tuple[int, int, int] | None = None

    def seasonal(self, cycles_needed: int) -> bool:
        """True when a method needing ``cycles_needed`` full cycles fits seasonal terms."""
        return self.seasonal_period > 1 and self.cycles >= cycles_needed


@dataclass
class Path:
    """Forecasts of one method: point, lower and upper bound per step ahead."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    spec: str
    # The ARIMA order fitted (None for other methods).
    order: tuple[int, int, int] | None = None


def _z(level: float) -> float:
    return float(norm.ppf(0.5 + level / 2))


def naive(y: np.ndarray, h: int, setting: Setting) -> Path:
    """Repeat the last value; the interval widens with sqrt(h) (a random walk)."""
    sigma = float(np.std(np.diff(y), ddof=1)) if len(y) > 2 else 0.0
    half = _z(setting.level) * sigma * np.sqrt(np.arange(1, h + 1))
    mean = np.full(h, float(y[-1]))
    return Path(mean, mean - half, mean + half, "naive")


def seasonal_naive(y: np.ndarray, h: int, setting: Setting) -> Path:
    """Repeat the value of one seasonal cycle ago; plain naive without a usable cycle."""
    m = setting.seasonal_period
    if not setting.seasonal(1) or len(y) <= m:
        return naive(y, h, setting)
    steps = np.arange(h)
    mean = y[len(y) - m + steps % m].astype(float)
    residuals = y[m:] - y[:-m]
    sigma = float(np.std(residuals, ddof=1)) if len(residuals) > 1 else 0.0
    half = _z(setting.level) * sigma * np.sqrt(steps // m + 1)
    return Path(mean, mean - half, mean + half, f"seasonal naive (m={m})")


def fourier(t: np.ndarray, cycle: float, pairs: int) -> np.ndarray:
    """Return sin/cos columns of the first ``pairs`` harmonics of a ``cycle``-long season."""
    columns = []
    for k in range(1, pairs + 1):
        angle = 2 * np.pi * k * t / cycle
        columns += [np.sin(angle), np.cos(angle)]
    return np.column_stack(columns)


def differences(y: np.ndarray) -> int:
    """Return 1 when the KPSS test rejects level stationarity at 5 %, else 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-values outside the table are clipped
        _, p_value, *_ = kpss(y, regression="c", nlags="auto")
    return int(p_value < 0.05)


def arima(y: np.ndarray, h: int, setting: Setting) -> Path:
    """ARIMA(p,d,q) with the lowest AICc over p <= max_p, q <= max_q (or ``setting.order``).

    d comes from a KPSS test; with d = 1 the model has a drift, with d = 0 a
    mean. A seasonal series gets Fourier terms of its cycle as regressors
    (dynamic harmonic regression), which suits long cycles like 52 weeks that
    a seasonal ARIMA fits badly and slowly. Fits are statsmodels' SARIMAX,
    bounded at ARIMA_ITERATIONS optimiser steps each.
    """
    t = np.arange(len(y) + h, dtype=float)
    pairs = (
        min(FOURIER_PAIRS, setting.seasonal_period // 2) if setting.seasonal(1) else 0
    )
    exog = fourier(t, setting.cycle, pairs) if pairs else None
    if setting.order is not None:
        orders = [setting.order]
    else:
        d = differences(y)
        orders = [
            (p, d, q)
            for p in range(setting.max_p + 1)
            for q in range(setting.max_q + 1)
        ]
    best, best_order = None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on poor orders
        for order in orders:
            try:
                fitted = SARIMAX(
                    y,
                    exog=None if exog is None else exog[: len(y)],
                    order=order,
                    trend="c",  # with d = 1 a constant is a drift
                    # Fourier coefficients ride in the state (Kalman filter), not
                    # the optimiser: half the time, and AICc compares the orders alike.
                    mle_regression=False,
                ).fit(disp=False, maxiter=ARIMA_ITERATIONS)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(fitted.aicc) and (best is None or fitted.aicc < best.aicc):
                best, best_order = fitted, order
        if best is None:
            raise ValueError("no ARIMA order could be fitted")
        forecast = best.get_forecast(h, exog=None if exog is None else exog[len(y) :])
        bounds = forecast.conf_int(alpha=1 - setting.level)
    spec = f"ARIMA{best_order}" + (" with drift" if best_order[1] else "")
    if pairs:
        spec += f" + {pairs} Fourier pairs (cycle {setting.cycle:.2f})"
    return Path(
        np.asarray(forecast.predicted_mean),
        bounds[:, 0],
        bounds[:, 1],
        spec,
        order=best_order,
    )


def ets(y: np.ndarray, h: int, setting: Setting) -> Path:
    """Additive-error ETS with the lowest AICc: no trend or a damped additive trend,
    additive seasonality when the series is seasonal.
    """
    seasons = [None, "add"] if setting.seasonal(2) else [None]
    best, best_spec = None, ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for trend in (None, "add"):
            for seasonal in seasons:
                try:
                    fitted = ETSModel(
                        # A pandas series: ETS prediction frames need an index.
                        pd.Series(y, dtype=float),
                        error="add",
                        trend=trend,
                        damped_trend=trend is not None,
                        seasonal=seasonal,
                        seasonal_periods=setting.seasonal_period if seasonal else None,
                    ).fit(disp=False)
                except (ValueError, np.linalg.LinAlgError):
                    continue
                if np.isfinite(fitted.aicc) and (
                    best is None or fitted.aicc < best.aicc
                ):
                    best = fitted
                    best_spec = "ETS(A,{},{})".format(
                        "Ad" if trend else "N", "A" if seasonal else "N"
                    )
        if best is None:
            raise ValueError("no ETS model could be fitted")
        frame = best.get_prediction(len(y), len(y) + h - 1).summary_frame(
            alpha=1 - setting.level
        )
    return Path(
        frame["mean"].to_numpy(),
        frame["pi_lower"].to_numpy(),
        frame["pi_upper"].to_numpy(),
        best_spec,
    )


def theta(y: np.ndarray, h: int, setting: Setting) -> Path:
    """The Theta method (Assimakopoulos & Nikolopoulos), deseasonalised when seasonal."""
    m = setting.seasonal_period if setting.seasonal(2) else 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ThetaModel(y, period=max(m, 1), deseasonalize=m > 1).fit()
        mean = np.asarray(fitted.forecast(h))
        bounds = np.asarray(fitted.prediction_intervals(h, alpha=1 - setting.level))
    return Path(
        mean,
        bounds[:, 0],
        bounds[:, 1],
        "Theta" + (f" (deseasonalised, m={m})" if m > 1 else ""),
    )


Method = Callable[[np.ndarray, int, Setting], Path]
METHODS: dict[str, Method] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "arima": arima,
    "ets": ets,
    "theta": theta,
}
# The combination averages these members' forecasts (and their bounds).
COMBINED = ("arima", "ets", "theta")


def combine(paths: list[Path]) -> Path:
    """Return the equal-weight mean of ``paths``; bounds are the mean bounds.

    Averaging bounds is an approximation (the members' errors are correlated,
    so the true interval is somewhat narrower); the backtest reports coverage.
    """
    return Path(
        np.mean([p.mean for p in paths], axis=0),
        np.mean([p.lower for p in paths], axis=0),
        np.mean([p.upper for p in paths], axis=0),
        "mean of " + ", ".join(p.spec for p in paths),
    )

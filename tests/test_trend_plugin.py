"""The trend plugin on small synthetic series, without the app."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from plugins.trend.frequency import infer_frequency
from plugins.trend.plugin import TrendModel, growth, trend_of
from webapp.model_types import Series, SeriesData

FAST = {"horizon": 6, "origins": 2, "max_order": 1}


def monthly(n: int, start: str = "2018-01") -> np.ndarray:
    return (np.datetime64(start, "M") + np.arange(n)).astype("datetime64[D]")


def weekly(n: int, start: str = "2021-01-04") -> np.ndarray:
    return np.datetime64(start, "D") + 7 * np.arange(n)


def seasonal_series(n: int = 48, seed: int = 1) -> np.ndarray:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    return 100 + 25 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1.5, n)


def trending_series(n: int = 48, seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50 + 3.0 * np.arange(n) + rng.normal(0, 2.0, n)


def fit(series: list[Series], params=FAST):
    return TrendModel().fit(SeriesData(series, "activity"), params, lambda f, s: None)


@pytest.fixture(scope="module")
def trained():
    """One fit over a seasonal, a trending and a too-short monthly series."""
    return fit(
        [
            Series("seasonal", monthly(48), seasonal_series()),
            Series("trending", monthly(48), trending_series()),
            Series("short", monthly(9), seasonal_series(9)),
        ]
    )


def niche(result, key):
    return next(r for r in result.metrics["niches"] if r["niche"] == key)


def test_fits_and_forecasts_with_intervals(trained):
    data = SeriesData([Series("trending", monthly(48), trending_series())], "x")
    [forecast] = TrendModel().forecast(trained.artifact, data, 5)
    assert len(forecast.points) == 5
    assert forecast.points[0].period_start.isoformat() == "2022-01-01"
    for point in forecast.points:
        assert point.lower < point.value < point.upper
    widths = [p.upper - p.lower for p in forecast.points]
    assert widths[-1] > widths[0]  # uncertainty grows with the horizon


def test_a_seasonal_series_gets_a_seasonal_method(trained):
    row = niche(trained, "seasonal")
    seasonal_specs = (
        "seasonal naive",
        "Fourier",
        "ETS(A,N,A)",
        "ETS(A,Ad,A)",
        "deseason",
    )
    assert any(mark in row["spec"] for mark in seasonal_specs), row["spec"]
    assert row["beats_naive"] is True
    # Its forecast follows the season: next January-July swing is large.
    points = (
        TrendModel()
        .forecast(
            trained.artifact,
            SeriesData([Series("seasonal", monthly(48), seasonal_series())], "x"),
            12,
        )[0]
        .points
    )
    values = [p.value for p in points]
    assert max(values) - min(values) > 30


def test_a_trending_series_beats_naive_and_is_rising(trained):
    row = niche(trained, "trending")
    assert row["method"] != "naive"
    assert row["beats_naive"] is True
    assert row["backtest_mase"] < 0.5 * row["naive_mase"]
    assert row["trend"] == "rising" and row["growth_rate"] > 0.1


def test_a_too_short_series_falls_back_to_naive_with_a_note(trained):
    row = niche(trained, "short")
    assert row["method"] == "naive"
    assert row["beats_naive"] is False
    assert "too short" in row["note"]


def test_when_nothing_beats_naive_the_forecast_is_naive_and_says_so():
    """Flat after the first origin: naive is exact there, so nothing can beat it."""
    rng = np.random.default_rng(5)
    y = 100 + np.cumsum(rng.normal(0, 5, 40))
    y[28:] = y[27]
    result = fit([Series("flat", monthly(40), y)])
    row = niche(result, "flat")
    assert row["method"] == "naive" and row["beats_naive"] is False
    assert row["note"].startswith("No method beat the naive forecast")
    assert result.metrics["beats_naive_share"] == 0.0


def test_metrics_report_chosen_against_naive(trained):
    metrics = trained.metrics
    assert metrics["mase"] < metrics["mase_naive"]
    assert {c["key"] for c in metrics["charts"]} >= {"mase_by_niche", "mase_by_method"}
    assert set(metrics["method_mase"]) >= {"naive", "seasonal_naive", "arima", "ets"}


@pytest.mark.parametrize(
    ("periods", "name", "season"),
    [
        (weekly(30), "weekly", 52),
        (monthly(30), "monthly", 12),
        (
            (np.datetime64("2010-01", "M") + 3 * np.arange(12)).astype("datetime64[D]"),
            "quarterly",
            4,
        ),
        (np.datetime64("2024-01-01", "D") + np.arange(20), "daily", 7),
    ],
)
def test_frequency_is_read_from_period_starts(periods, name, season):
    frequency = infer_frequency(periods)
    assert (frequency.name, frequency.seasonal_period) == (name, season)


def test_future_periods_follow_the_calendar():
    month_ends = infer_frequency(monthly(6))
    assert [str(d) for d in month_ends.future(np.datetime64("2024-01-31"), 2)] == [
        "2024-02-29",
        "2024-03-31",
    ]
    weeks = infer_frequency(weekly(6))
    assert str(weeks.future(np.datetime64("2024-01-01"), 1)[0]) == "2024-01-08"


def test_growth_compares_whole_cycles():
    y = np.tile([1.0, 3.0], 6)
    assert growth(y, np.array([1.0, 3.0]), 2) == pytest.approx(0.0)
    assert growth(y, np.array([1.1, 3.3]), 2) == pytest.approx(0.1)
    assert trend_of(0.1, 0.05) == "rising"
    assert trend_of(-0.1, 0.05) == "declining"
    assert trend_of(0.01, 0.05) == "stable"


def test_fallback_is_seasonal_naive_with_a_note():
    series = Series("s", monthly(30), seasonal_series(30))
    [forecast] = TrendModel().fallback_forecast(SeriesData([series], "x"), 12)
    assert forecast.method == "seasonal_naive"
    assert "No trend model" in forecast.note
    assert [p.value for p in forecast.points] == pytest.approx(series.values[-12:])


def test_a_series_that_grew_since_training_is_refitted(trained):
    longer = Series("trending", monthly(50), trending_series(50))
    [forecast] = TrendModel().forecast(trained.artifact, SeriesData([longer], "x"), 2)
    assert forecast.points[0].period_start.isoformat() == "2022-03-01"
    assert forecast.summary.get("refitted") is True


def test_a_backtest_origin_never_sees_later_values():
    """Plant a huge change after the first origin's window: its score must not move."""
    from plugins.trend.backtest import backtest
    from plugins.trend.methods import Setting

    y = seasonal_series(48) + np.linspace(0, 30, 48)
    setting = Setting(12, 12.0, 0.9, cycles=2, max_p=1, max_q=1)
    origins, names = [30, 36, 42], ["naive", "arima", "ets", "theta"]
    planted = y.copy()
    planted[36:] *= 5  # everything after the first origin's test window
    with threadpool_limits(limits=1):
        before = backtest(y, setting, 6, origins, names)
        after = backtest(planted, setting, 6, origins, names)
    for name in ("naive", "arima", "ets", "theta", "combination"):
        assert after[name].mase[0] == pytest.approx(before[name].mase[0]), name
        assert after[name].mase[-1] != pytest.approx(before[name].mase[-1]), name

"""Weekly NicheActivity series: level, trend, yearly seasonality and noise."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from scipy.signal import lfilter

from webapp.core.taxonomy import NICHES
from webapp.marketplace.demo.profiles import NICHE_WEIGHTS

ACTIVITY_WEEKS = 104  # two years of history before the current week


def niche_activity_rows(rng: np.random.Generator, today: date) -> list[dict[str, Any]]:
    """Return one row per niche and week (Mondays) up to the current week."""
    monday = today - timedelta(days=today.weekday())
    weeks = np.arange(-ACTIVITY_WEEKS, 1)
    starts = np.datetime64(monday, "D") + 7 * weeks
    years = weeks * 7 / 365.25
    day_of_year = (starts - starts.astype("datetime64[Y]")).astype(np.int64)
    angle = 2 * np.pi * day_of_year / 365.25
    k = len(NICHES)
    level = 1000.0 * NICHE_WEIGHTS / NICHE_WEIGHTS.mean() * rng.lognormal(0, 0.3, k)
    trend = rng.normal(0.0, 0.2, k)  # log growth per year: some grow, some shrink
    amplitude = rng.uniform(0.08, 0.3, k)
    phase = rng.uniform(0.0, 2 * np.pi, k)
    # AR(1) noise, so weeks next to each other look alike.
    noise = lfilter([1.0], [1.0, -0.5], rng.normal(0.0, 0.06, (k, len(weeks))), axis=1)
    log_value = (
        trend[:, None] * years
        + amplitude[:, None] * np.sin(angle + phase[:, None])
        + noise
    )
    values = level[:, None] * np.exp(log_value)
    periods = starts.tolist()
    return [
        {"niche": niche, "period_start": periods[w], "value": round(float(v), 2)}
        for j, niche in enumerate(NICHES)
        for w, v in enumerate(values[j])
    ]

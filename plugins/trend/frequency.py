"""Which calendar a series follows (daily, weekly, monthly ...), read from its period starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (name, typical days between periods, tolerance in days, seasonal period, months per step)
CALENDARS = (
    ("daily", 1, 0, 7, 0),
    ("weekly", 7, 0, 52, 0),
    ("monthly", 30.44, 3.5, 12, 1),
    ("quarterly", 91.31, 3.5, 4, 3),
    ("yearly", 365.25, 2, 1, 12),
)
# Days in a year over days per period: the exact cycle length for Fourier terms.
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Frequency:
    """A series' period length and the seasonal cycle it implies.

    ``seasonal_period`` is the whole number of periods per cycle (52 for weekly
    data, 12 for monthly; 1 means no seasonality is assumed) and ``cycle`` the
    exact one (52.18 weeks), used for smooth Fourier seasonality.
    """

    name: str
    seasonal_period: int
    cycle: float
    # Consecutive periods differ by this many months (calendar steps) or days.
    months: int = 0
    days: int = 0

    def future(self, last: np.datetime64, horizon: int) -> np.ndarray:
        """Return the ``horizon`` period starts after ``last`` (datetime64[D])."""
        last = np.datetime64(last, "D")
        steps = np.arange(1, horizon + 1)
        if not self.months:
            return last + steps * self.days
        month = last.astype("datetime64[M]")
        offset = last - month.astype("datetime64[D]")  # keep the day of the month
        starts = (month + steps * self.months).astype("datetime64[D]")
        ends = (month + steps * self.months + 1).astype("datetime64[D]") - 1
        return np.minimum(starts + offset, ends)


def infer_frequency(periods: np.ndarray) -> Frequency:
    """Return the frequency of ascending period starts from their typical spacing.

    Weekly and daily series must be exactly regular; monthly, quarterly and
    yearly spacing varies with the calendar. Any other spacing is kept as "every
    N days" without seasonality.
    """
    days = np.diff(np.asarray(periods, dtype="datetime64[D]").astype(np.int64))
    if len(days) == 0:
        raise ValueError("a frequency needs at least two periods")
    if np.any(days <= 0):
        raise ValueError("period starts must be strictly ascending")
    step = float(np.median(days))
    for name, typical, tolerance, season, months in CALENDARS:
        if abs(step - typical) <= tolerance:
            if name == "daily":
                cycle = 7.0
            elif name == "yearly":
                cycle = 1.0
            else:
                cycle = DAYS_PER_YEAR / typical
            return Frequency(
                name=name,
                seasonal_period=season,
                cycle=cycle,
                months=months,
                days=0 if months else int(typical),
            )
    return Frequency(f"every {step:g} days", 1, 1.0, days=int(round(step)))

"""Signals between and across influencer profiles, point in time.

Engagement falls with audience size, so a raw engagement rate mostly restates
the audience; what it says beyond that is the residual against the engagement
the audience size predicts. ``ProfileRevisions.engagement_fit`` fits log
engagement on log followers (least squares, ``numpy.polyfit``) over every
influencer's profile as it stood at a grid day (``track_records.grid_day``),
from profile revisions that started before it: the fit a row uses never saw a
later profile, and a training row and serving on the same day use the same fit.

``follower_growth`` is the log ratio of the followers in the profile revision
valid before a moment to those in the revision before it: a bought audience
that arrives at once shows up as a spike here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from webapp.learning.moments import SECONDS_PER_DAY, entity_time_keys

# Fewer profiles than this before a grid day: no fit, the residual is 0.
MIN_PROFILES_FOR_FIT = 20


def log_audience(followers: np.ndarray) -> np.ndarray:
    """Return the audience size feature, log10(followers + 1)."""
    return np.log10(np.asarray(followers, dtype=float) + 1.0)


def log_engagement(engagement: np.ndarray) -> np.ndarray:
    """Return the engagement feature, log10 of the rate clipped to 0.01 %..100 %."""
    return np.log10(np.clip(np.asarray(engagement, dtype=float), 1e-4, 1.0))


@dataclass
class ProfileRevisions:
    """Influencer profile revisions as arrays, sorted by (influencer, valid_from).

    ``second`` is seconds since 2000-01-01; followers or engagement a revision
    does not state are NaN.
    """

    entity: np.ndarray
    second: np.ndarray
    followers: np.ndarray
    engagement: np.ndarray

    @classmethod
    def empty(cls) -> ProfileRevisions:
        """Return no revisions."""
        ints = np.zeros(0, dtype=np.int64)
        return cls(ints, ints, np.zeros(0), np.zeros(0))

    @classmethod
    def sorted(cls, entity, second, followers, engagement) -> ProfileRevisions:
        """Return the revisions given, sorted by (entity, time) (ties kept in order)."""
        entity = np.asarray(entity, dtype=np.int64)
        second = np.asarray(second, dtype=np.int64)
        order = np.lexsort((second, entity))
        return cls(
            entity[order],
            second[order],
            np.asarray(followers, dtype=float)[order],
            np.asarray(engagement, dtype=float)[order],
        )

    def __post_init__(self) -> None:
        self._keys = entity_time_keys(self.entity, self.second)

    def keys(self) -> np.ndarray:
        """Return the sorted lookup keys (computed once: ranking asks per request)."""
        return self._keys

    def latest_before(self, second: int) -> np.ndarray:
        """Return the index of each influencer's newest revision starting before ``second``."""
        known = np.flatnonzero(self.second < second)
        entity = self.entity[known]
        last = np.ones(len(known), dtype=bool)
        last[:-1] = entity[1:] != entity[:-1]
        return known[last]

    def engagement_fit(self, day: int) -> tuple[float, float]:
        """Return (intercept, slope) of log engagement on log audience before ``day``.

        NaN, NaN with fewer than MIN_PROFILES_FOR_FIT profiles known then.
        """
        rows = self.latest_before(int(day) * SECONDS_PER_DAY)
        x = log_audience(self.followers[rows])
        y = log_engagement(self.engagement[rows])
        ok = np.isfinite(x) & np.isfinite(y)
        if np.count_nonzero(ok) < MIN_PROFILES_FOR_FIT or np.ptp(x[ok]) == 0:
            return float("nan"), float("nan")
        slope, intercept = np.polyfit(x[ok], y[ok], 1)
        return float(intercept), float(slope)

    def follower_growth(self, influencer: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Return log(followers now / one revision earlier) per query, as of ``day``.

        Revisions that started on the day or later are not seen; without two
        revisions before the day (or without followers in them) the growth is 0.
        """
        influencer = np.asarray(influencer, dtype=np.int64)
        growth = np.zeros(len(influencer))
        if len(self.entity) < 2 or len(influencer) == 0:
            return growth
        moment = entity_time_keys(
            influencer, np.asarray(day, np.int64) * SECONDS_PER_DAY
        )
        last = np.searchsorted(self.keys(), moment, side="left") - 1
        previous = np.maximum(last - 1, 0)
        ok = (last >= 1) & (self.entity[np.maximum(last, 0)] == influencer)
        ok &= self.entity[previous] == influencer
        now = self.followers[np.maximum(last, 0)]
        before = self.followers[previous]
        ok &= np.isfinite(now) & np.isfinite(before)
        growth[ok] = np.log1p(now[ok]) - np.log1p(before[ok])
        return growth

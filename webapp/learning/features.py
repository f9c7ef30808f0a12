"""Pair features for an influencer and a company at a moment in time.

One code path for training, serving and the fallback scorer: callers turn
profiles into columns (``encode_influencers`` / ``encode_companies``), ask a
``HistoryIndex`` what was known before the moment, and ``pair_matrix`` turns
all of it into one row of ``FEATURE_NAMES`` per pair, fully vectorised.

Point in time: the row for a collaboration proposed on day t uses the profiles
valid before t, collaborations proposed before t and rating revisions recorded
before t; serving describes a pair as of today by the same rule. Track records
are recency weighted and shrunk toward the population (``track_records``); the
engagement residual uses the fit known at t (``profile_signals``). Callers pass
``niche_pairs(inf, co)`` to ``HistoryIndex.stats`` for the niche-pair record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from webapp.core.taxonomy import COUNTRIES, NICHES, PLATFORMS, RELATED_NICHES
from webapp.learning.history import HistoryStats, niche_pair_code
from webapp.learning.profile_signals import log_audience, log_engagement

FEATURE_NAMES: tuple[str, ...] = (
    "niche_primary_match",
    "niche_secondary_match",
    "niche_related_match",
    "brand_fit",
    "audience_country_match",
    "location_match",
    "log_followers",
    "log_engagement",
    "content_quality",
    "log_response_hours",
    "posts_per_week",
    "platform_count",
    "influencer_age_years",
    "company_age_years",
    "log_budget_ratio",
    "budget_shortfall",
    "log_budget",
    "influencer_past_collaborations",
    "influencer_rated_outcomes",
    "influencer_success_rate",
    "company_past_collaborations",
    "company_success_rate",
    "company_partner_rating",
    "pair_past_collaborations",
    "shared_partners",
    "niche_pair_success_rate",
    "influencer_cancellations",
    "company_cancellations",
    "influencer_disputes",
    "company_disputes",
    "follower_growth",
    "engagement_residual",
)

# The features read from the marketplace's history (``history_columns``); training
# always recomputes these point in time, even where a snapshot was stored.
HISTORY_FEATURES: tuple[str, ...] = (
    "influencer_past_collaborations",
    "influencer_rated_outcomes",
    "influencer_success_rate",
    "company_past_collaborations",
    "company_success_rate",
    "company_partner_rating",
    "pair_past_collaborations",
    "shared_partners",
    "niche_pair_success_rate",
    "influencer_cancellations",
    "company_cancellations",
    "influencer_disputes",
    "company_disputes",
    "follower_growth",
)

# Neutral names of the features (charts, tables); ``reasons.reason`` words a value.
FEATURE_LABELS: dict[str, str] = {
    "niche_primary_match": "Main niche match",
    "niche_secondary_match": "Secondary niche match",
    "niche_related_match": "Related niche match",
    "brand_fit": "Overlap of niches with the brand",
    "audience_country_match": "Audience in a target market",
    "location_match": "Country match",
    "log_followers": "Audience size",
    "log_engagement": "Engagement rate",
    "content_quality": "Content quality",
    "log_response_hours": "Response time",
    "posts_per_week": "Posting activity",
    "platform_count": "Number of platforms",
    "influencer_age_years": "Influencer account age",
    "company_age_years": "Brand account age",
    "log_budget_ratio": "Budget versus rate per post",
    "budget_shortfall": "Budget shortfall",
    "log_budget": "Budget size",
    "influencer_past_collaborations": "Influencer's past collaborations",
    "influencer_rated_outcomes": "Influencer's rated collaborations",
    "influencer_success_rate": "Influencer's track record",
    "company_past_collaborations": "Brand's past collaborations",
    "company_success_rate": "Brand's past satisfaction",
    "company_partner_rating": "How influencers rated the brand",
    "pair_past_collaborations": "Past work together",
    "shared_partners": "Shared past partners",
    "niche_pair_success_rate": "Track record of this niche with this industry",
    "influencer_cancellations": "Influencer's past cancellations after acceptance",
    "company_cancellations": "Brand's past cancellations after acceptance",
    "influencer_disputes": "Influencer's past disputes",
    "company_disputes": "Brand's past disputes",
    "follower_growth": "Follower growth since the previous profile",
    "engagement_residual": "Engagement for the audience size",
}

_NICHE_INDEX = {niche: i for i, niche in enumerate(NICHES)}
_COUNTRY_INDEX = {country: i for i, country in enumerate(COUNTRIES)}
_PLATFORM_INDEX = {platform: i for i, platform in enumerate(PLATFORMS)}
_RELATED = np.zeros((len(NICHES), len(NICHES)), dtype=bool)
for _niche, _related in RELATED_NICHES.items():
    _RELATED[_NICHE_INDEX[_niche], [_NICHE_INDEX[r] for r in _related]] = True
EPOCH = date(2000, 1, 1)


def day_number(value: date | datetime) -> int:
    """Return whole days since 2000-01-01 (the feature clock)."""
    if isinstance(value, datetime):
        value = value.date()
    return (value - EPOCH).days


def _multi_hot(lists: Iterable[Iterable[str]], index: Mapping[str, int]) -> np.ndarray:
    """Encode lists of vocabulary words as a boolean matrix (unknown words ignored)."""
    rows = list(lists)
    matrix = np.zeros((len(rows), len(index)), dtype=bool)
    for r, words in enumerate(rows):
        for word in words or ():
            column = index.get(word)
            if column is not None:
                matrix[r, column] = True
    return matrix


def _codes(values: Iterable[str], index: Mapping[str, int]) -> np.ndarray:
    """Encode words as integer codes, -1 for unknown."""
    return np.array([index.get(v, -1) for v in values], dtype=np.int64)


@dataclass
class InfluencerColumns:
    """Influencer profiles as aligned numpy columns (one entry per pair row)."""

    niche: np.ndarray
    secondary: np.ndarray
    platforms: np.ndarray
    country: np.ndarray
    followers: np.ndarray
    engagement: np.ndarray
    rate: np.ndarray
    joined_day: np.ndarray
    posts_per_week: np.ndarray
    response_hours: np.ndarray
    content_quality: np.ndarray

    def take(self, index: np.ndarray) -> InfluencerColumns:
        """Return the rows at ``index`` (to align profiles with pairs)."""
        return InfluencerColumns(**{k: v[index] for k, v in vars(self).items()})


@dataclass
class CompanyColumns:
    """Company profiles as aligned numpy columns."""

    industry: np.ndarray
    targets: np.ndarray
    country: np.ndarray
    target_countries: np.ndarray
    budget: np.ndarray
    joined_day: np.ndarray

    def take(self, index: np.ndarray) -> CompanyColumns:
        """Return the rows at ``index``."""
        return CompanyColumns(**{k: v[index] for k, v in vars(self).items()})


def encode_influencers(profiles: list[Mapping[str, Any]]) -> InfluencerColumns:
    """Encode influencer profile dicts (``Influencer.profile()`` plus joined_on)."""
    return InfluencerColumns(
        niche=_codes((p["niche"] for p in profiles), _NICHE_INDEX),
        secondary=_multi_hot((p["secondary_niches"] for p in profiles), _NICHE_INDEX),
        platforms=_multi_hot((p["platforms"] for p in profiles), _PLATFORM_INDEX),
        country=_codes((p["country"] for p in profiles), _COUNTRY_INDEX),
        followers=np.array([p["followers"] for p in profiles], dtype=float),
        engagement=np.array([p["engagement_rate"] for p in profiles], dtype=float),
        rate=np.array([p["rate_per_post"] for p in profiles], dtype=float),
        joined_day=np.array(
            [day_number(p["joined_on"]) for p in profiles], dtype=float
        ),
        posts_per_week=np.array([p["posts_per_week"] for p in profiles], dtype=float),
        response_hours=np.array(
            [p["avg_response_hours"] for p in profiles], dtype=float
        ),
        content_quality=np.array([p["content_quality"] for p in profiles], dtype=float),
    )


def encode_companies(profiles: list[Mapping[str, Any]]) -> CompanyColumns:
    """Encode company profile dicts (``Company.profile()`` plus joined_on)."""
    return CompanyColumns(
        industry=_codes((p["industry"] for p in profiles), _NICHE_INDEX),
        targets=_multi_hot((p["target_niches"] for p in profiles), _NICHE_INDEX),
        country=_codes((p["country"] for p in profiles), _COUNTRY_INDEX),
        target_countries=_multi_hot(
            (p["target_countries"] for p in profiles), _COUNTRY_INDEX
        ),
        budget=np.array([p["budget_per_campaign"] for p in profiles], dtype=float),
        joined_day=np.array(
            [day_number(p["joined_on"]) for p in profiles], dtype=float
        ),
    )


# Without a stated budget, assume the brand pays the creator's rate for this many
# posts, up to its usual budget per campaign.
DEFAULT_POSTS = 3


def default_budget(rate_per_post, company_budget):
    """Return the budget assumed when none is given: the brand's usual budget, at most three posts.

    Works on scalars (the offer shown on a match) and on aligned arrays (features).
    """
    return np.minimum(company_budget, DEFAULT_POSTS * np.asarray(rate_per_post, float))


def niche_pairs(inf: InfluencerColumns, co: CompanyColumns) -> np.ndarray:
    """Return each aligned pair's (influencer niche, brand industry) code."""
    return niche_pair_code(inf.niche, co.industry)


def engagement_residual(inf: InfluencerColumns, history: HistoryStats) -> np.ndarray:
    """Return log engagement minus what the audience size predicts (0 without a fit).

    The fit is the one known at the row's moment (``HistoryStats``).
    """
    predicted = history.engagement_intercept + history.engagement_slope * (
        log_audience(inf.followers)
    )
    return np.nan_to_num(log_engagement(inf.engagement) - predicted, nan=0.0)


def _pick(matrix: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Return ``matrix[row, codes[row]]`` per row, False where the code is unknown."""
    rows = np.arange(len(codes))
    safe = np.where(codes >= 0, codes, 0)
    return matrix[rows, safe] & (codes >= 0)


def pair_matrix(
    inf: InfluencerColumns,
    co: CompanyColumns,
    history: HistoryStats,
    day: np.ndarray,
    budget: np.ndarray,
) -> np.ndarray:
    """Return the (n, len(FEATURE_NAMES)) feature matrix for aligned pairs.

    :param day: the moment each row describes, as ``day_number``.
    :param budget: the collaboration's budget (or the brand's usual budget).
    """
    n = len(day)
    industry_hot = np.zeros((n, len(NICHES)), dtype=bool)
    known = co.industry >= 0
    industry_hot[np.arange(n)[known], co.industry[known]] = True
    brand_niches = co.targets | industry_hot
    inf_hot = np.zeros((n, len(NICHES)), dtype=bool)
    known = inf.niche >= 0
    inf_hot[np.arange(n)[known], inf.niche[known]] = True
    inf_niches = inf_hot | inf.secondary
    related = (
        _RELATED[np.where(inf.niche >= 0, inf.niche, 0)] & (inf.niche >= 0)[:, None]
    )
    union = (inf_niches | brand_niches).sum(axis=1)
    budget_ratio = np.log(np.maximum(budget, 1.0) / np.maximum(inf.rate, 1.0))
    columns = {
        "niche_primary_match": _pick(brand_niches, inf.niche),
        "niche_secondary_match": (inf.secondary & brand_niches).any(axis=1),
        "niche_related_match": (related & brand_niches).any(axis=1),
        "brand_fit": (inf_niches & brand_niches).sum(axis=1) / np.maximum(union, 1),
        "audience_country_match": _pick(co.target_countries, inf.country),
        "location_match": (inf.country == co.country) & (inf.country >= 0),
        "log_followers": log_audience(inf.followers),
        "log_engagement": log_engagement(inf.engagement),
        "engagement_residual": engagement_residual(inf, history),
        "content_quality": inf.content_quality,
        # Below a quarter of an hour, faster replies make no difference.
        "log_response_hours": np.log(np.maximum(inf.response_hours, 0.25)),
        "posts_per_week": inf.posts_per_week,
        "platform_count": inf.platforms.sum(axis=1),
        "influencer_age_years": np.maximum(day - inf.joined_day, 0.0) / 365.25,
        "company_age_years": np.maximum(day - co.joined_day, 0.0) / 365.25,
        "log_budget_ratio": budget_ratio,
        "budget_shortfall": np.minimum(budget_ratio, 0.0),
        "log_budget": np.log10(np.maximum(budget, 0.0) + 1.0),
        **history_columns(history),
    }
    return np.column_stack(
        [np.asarray(columns[name], dtype=float) for name in FEATURE_NAMES]
    )


def history_columns(history: HistoryStats) -> dict[str, np.ndarray]:
    """Return the history features (``HISTORY_FEATURES``) by name."""
    columns = {
        "influencer_past_collaborations": np.log1p(history.influencer_collaborations),
        "influencer_rated_outcomes": np.log1p(history.influencer_rated),
        "influencer_success_rate": history.influencer_success_rate,
        "company_past_collaborations": np.log1p(history.company_collaborations),
        "company_success_rate": history.company_success_rate,
        "company_partner_rating": history.company_partner_rating,
        "pair_past_collaborations": history.pair_collaborations,
        "shared_partners": np.log1p(history.shared_partners),
        "niche_pair_success_rate": history.niche_pair_success_rate,
        "influencer_cancellations": np.log1p(history.influencer_cancellations),
        "company_cancellations": np.log1p(history.company_cancellations),
        "influencer_disputes": np.log1p(history.influencer_disputes),
        "company_disputes": np.log1p(history.company_disputes),
        "follower_growth": history.follower_growth,
    }
    return {name: columns[name] for name in HISTORY_FEATURES}


def as_snapshot(row: np.ndarray) -> dict[str, float]:
    """Return one feature row as a JSON-safe ``{name: value}`` dict."""
    return {name: float(value) for name, value in zip(FEATURE_NAMES, row, strict=True)}


def from_snapshot(features: Mapping[str, Any]) -> np.ndarray | None:
    """Return the feature row stored in a snapshot, or None if it lacks a feature."""
    if not all(name in features for name in FEATURE_NAMES):
        return None
    return np.array([float(features[name]) for name in FEATURE_NAMES])

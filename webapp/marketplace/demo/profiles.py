"""Synthetic influencer and company profiles with realistic distributions.

Every attribute is drawn in one vectorised step per column. Niches, countries and
target lists are also kept as bit masks over ``taxonomy.NICHES`` and
``taxonomy.COUNTRIES`` so pair matching stays vectorised.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

import numpy as np

from webapp.core.taxonomy import COUNTRIES, NICHES, PLATFORMS, RELATED_NICHES
from webapp.marketplace.demo.names import make_brand_names, make_handles
from webapp.marketplace.demo.parameters import DEFAULT_PARAMETERS, WorldParameters

HISTORY_DAYS = 3 * 365  # profiles joined over the three years before today
N_NICHES, N_COUNTRIES = len(NICHES), len(COUNTRIES)

# Popularity follows taxonomy order loosely (fashion, beauty, fitness ... common).
NICHE_WEIGHTS = 1.0 / np.arange(2, N_NICHES + 2) ** 0.8
NICHE_WEIGHTS /= NICHE_WEIGHTS.sum()
# Markets are listed roughly by size, the US first.
COUNTRY_WEIGHTS = 1.0 / np.arange(1, N_COUNTRIES + 1) ** 1.1
COUNTRY_WEIGHTS /= COUNTRY_WEIGHTS.sum()

NICHE_BIT = 1 << np.arange(N_NICHES, dtype=np.int64)
COUNTRY_BIT = 1 << np.arange(N_COUNTRIES, dtype=np.int64)
RELATED_MASK = np.array(
    [sum(1 << NICHES.index(r) for r in RELATED_NICHES[n]) for n in NICHES],
    dtype=np.int64,
)

PLATFORM_WEIGHTS = np.array([10, 8, 6, 1.5, 2, 1, 2, 1.5])
PLATFORM_BOOST = {  # niche -> platforms its creators favour
    "gaming": ("twitch", "youtube"),
    "technology": ("youtube", "x"),
    "finance": ("linkedin", "podcast", "x"),
    "education": ("youtube", "podcast", "linkedin"),
    "home": ("pinterest",),
    "food": ("pinterest", "tiktok"),
    "music": ("tiktok", "youtube"),
}

# Engagement falls with audience size: about 8 % at 5k followers, 1.5 % at 1M.
ENGAGEMENT_AT_5K, ENGAGEMENT_SLOPE, ENGAGEMENT_SD = 0.08, 0.316, 0.35
# A bought audience: followers inflated by 1.2-2.5x, engagement by 1.3-3.5x on top.
BOUGHT_FOLLOWERS, BOUGHT_ENGAGEMENT = (1.2, 2.5), (1.3, 3.5)


def expected_log_engagement(followers: np.ndarray) -> np.ndarray:
    """Return the typical log engagement rate for an audience of ``followers``."""
    return np.log(ENGAGEMENT_AT_5K) - ENGAGEMENT_SLOPE * np.log(followers / 5000.0)


@dataclass
class Influencers:
    """Influencer columns (index order = insert order, sorted by joined_on).

    ``followers`` and ``engagement`` are what the profile shows; for a creator
    with a bought audience the genuine values are those divided by
    ``audience_boost`` and ``engagement_boost`` (both 1 for everyone else).
    """

    niche: np.ndarray
    secondary_mask: np.ndarray
    secondary: list[list[str]]
    platforms: list[list[str]]
    followers: np.ndarray
    engagement: np.ndarray
    country: np.ndarray
    rate: np.ndarray
    joined: np.ndarray
    posts_per_week: np.ndarray
    response_hours: np.ndarray
    quality: np.ndarray
    handles: list[str]
    reliability: np.ndarray  # hidden: seen only through past outcomes
    activity: np.ndarray  # hidden: how often brands pick this creator
    fake: np.ndarray  # hidden: bought part of the audience
    audience_boost: np.ndarray  # hidden: shown / genuine followers
    engagement_boost: np.ndarray  # hidden: shown / genuine engagement rate
    growth: np.ndarray  # hidden: yearly log growth of the audience


@dataclass
class Companies:
    """Company columns (index order = insert order, sorted by joined_on)."""

    industry: np.ndarray
    target_mask: np.ndarray
    target_niches: list[list[str]]
    country: np.ndarray
    target_country_mask: np.ndarray
    target_countries: list[list[str]]
    budget: np.ndarray
    joined: np.ndarray
    names: list[str]
    activity: np.ndarray  # hidden: how often this brand proposes
    reliability: np.ndarray  # hidden: seen only through past outcomes


Columns = TypeVar("Columns")


def take(columns: Columns, index: np.ndarray) -> Columns:
    """Return the rows ``index`` of a dataclass of equally long arrays and lists."""
    picked = {}
    for item in dataclasses.fields(columns):
        values = getattr(columns, item.name)
        if isinstance(values, np.ndarray):
            picked[item.name] = values[index]
        else:
            picked[item.name] = [values[k] for k in index.tolist()]
    return type(columns)(**picked)


def join_dates(rng: np.random.Generator, n: int, today: date) -> np.ndarray:
    """Return sorted join dates over the last three years, growing towards today."""
    # Density rises linearly to twice its starting value (a growing marketplace).
    x = np.sort(np.sqrt(1.0 + 3.0 * rng.random(n)) - 1.0)
    if n:
        x[0] = 0.0  # someone has been here from the start
    start = np.datetime64(today - timedelta(days=HISTORY_DAYS), "D")
    return start + (x * (HISTORY_DAYS - 1)).astype("timedelta64[D]")


def popcount(masks: np.ndarray, width: int) -> np.ndarray:
    """Return the number of set bits in each mask."""
    return ((masks[:, None] >> np.arange(width)) & 1).sum(axis=1)


def masks_to_lists(masks: np.ndarray, names: tuple[str, ...]) -> list[list[str]]:
    """Turn bit masks into lists of names (taxonomy order)."""
    table: dict[int, list[str]] = {}
    result = []
    for mask in masks.tolist():
        if mask not in table:
            table[mask] = [name for i, name in enumerate(names) if mask >> i & 1]
        result.append(list(table[mask]))
    return result


def extra_niches(rng: np.random.Generator, base: np.ndarray, count: np.ndarray):
    """Return a mask of up to ``count`` extra niches per row, mostly related ones."""
    n = len(base)
    mask = np.zeros(n, dtype=np.int64)
    related = [
        np.flatnonzero(RELATED_MASK[b] >> np.arange(N_NICHES) & 1)
        for b in range(N_NICHES)
    ]
    sizes = np.array([len(r) for r in related])
    padded = np.array([np.resize(r, sizes.max()) for r in related])
    for slot in range(int(count.max(initial=0))):
        pick_related = padded[base, rng.integers(0, sizes[base])]
        pick_any = rng.choice(N_NICHES, size=n, p=NICHE_WEIGHTS)
        pick = np.where(rng.random(n) < 0.75, pick_related, pick_any)
        active = (slot < count) & (pick != base)
        mask |= np.where(active, NICHE_BIT[pick], 0)
    return mask


def pick_platforms(rng: np.random.Generator, niche: np.ndarray) -> list[list[str]]:
    """Return 1-3 platforms per creator, weighted by platform size and niche."""
    n = len(niche)
    logits = np.tile(np.log(PLATFORM_WEIGHTS), (n, 1))
    for name, favoured in PLATFORM_BOOST.items():
        rows = niche == NICHES.index(name)
        for platform in favoured:
            logits[rows, PLATFORMS.index(platform)] += 1.5
    order = np.argsort(-(logits + rng.gumbel(size=logits.shape)), axis=1)
    count = rng.choice([1, 2, 3], size=n, p=[0.45, 0.35, 0.2])
    return [[PLATFORMS[j] for j in order[i, : count[i]]] for i in range(n)]


def bought_audiences(rng: np.random.Generator, n: int, share: float):
    """Return (fake, follower boost, engagement boost): who bought part of an audience."""
    fake = rng.random(n) < share
    followers = np.where(fake, rng.uniform(*BOUGHT_FOLLOWERS, n), 1.0)
    engagement = np.where(fake, rng.uniform(*BOUGHT_ENGAGEMENT, n), 1.0)
    return fake, followers, engagement


def make_influencers(
    rng: np.random.Generator,
    n: int,
    today: date,
    params: WorldParameters = DEFAULT_PARAMETERS,
) -> Influencers:
    """Draw ``n`` influencer profiles as they stood when each joined."""
    niche = rng.choice(N_NICHES, size=n, p=NICHE_WEIGHTS)
    secondary_mask = extra_niches(rng, niche, rng.choice(3, size=n, p=[0.4, 0.4, 0.2]))
    genuine = np.minimum(1000 + rng.lognormal(np.log(14_000), 1.5, n), 1e7)
    genuine_engagement = np.clip(
        np.exp(expected_log_engagement(genuine) + rng.normal(0.0, ENGAGEMENT_SD, n)),
        0.002,
        0.3,
    )
    fake, audience_boost, engagement_boost = bought_audiences(
        rng, n, params.fake_audience_share
    )
    followers = np.minimum(genuine * audience_boost, 1e7).astype(np.int64)
    audience_boost = np.where(fake, followers / genuine, 1.0)
    typical = expected_log_engagement(followers)
    engagement = np.clip(genuine_engagement * engagement_boost, 0.002, 0.3).round(4)
    engagement_boost = np.where(fake, engagement / genuine_engagement, 1.0)
    quality = np.clip(rng.normal(6.0, 1.5, n), 0.0, 10.0).round(1)
    platforms = pick_platforms(rng, niche)
    video = np.array([("youtube" in p) or ("twitch" in p) for p in platforms])
    rate = (
        10.0
        * (followers / 1000.0) ** 0.9
        * np.sqrt(engagement / np.exp(typical))
        * (1.0 + 0.06 * (quality - 6.0))
        * np.where(video, 1.3, 1.0)
        * rng.lognormal(0.0, 0.35, n)
    )
    return Influencers(
        niche=niche,
        secondary_mask=secondary_mask,
        secondary=masks_to_lists(secondary_mask, NICHES),
        platforms=platforms,
        followers=followers,
        engagement=engagement,
        country=rng.choice(N_COUNTRIES, size=n, p=COUNTRY_WEIGHTS),
        rate=np.maximum(rate, 20.0).round(2),
        joined=join_dates(rng, n, today),
        posts_per_week=np.clip(rng.lognormal(np.log(3.5), 0.5, n), 0.5, 21).round(1),
        response_hours=np.clip(rng.lognormal(np.log(8.0), 1.0, n), 0.5, 96).round(1),
        quality=quality,
        handles=make_handles(rng, [NICHES[i] for i in niche]),
        reliability=rng.normal(0.0, params.reliability_sd, n),
        activity=rng.lognormal(0.0, 1.2, n) * (followers / 1e4) ** 0.1,
        fake=fake,
        audience_boost=audience_boost,
        engagement_boost=engagement_boost,
        growth=rng.normal(0.25, 0.35, n),
    )


def make_companies(
    rng: np.random.Generator,
    n: int,
    today: date,
    params: WorldParameters = DEFAULT_PARAMETERS,
) -> Companies:
    """Draw ``n`` company profiles as they stood when each joined."""
    industry = rng.choice(N_NICHES, size=n, p=NICHE_WEIGHTS)
    target_mask = NICHE_BIT[industry] | extra_niches(
        rng, industry, rng.choice(3, size=n, p=[0.3, 0.45, 0.25])
    )
    country = rng.choice(N_COUNTRIES, size=n, p=COUNTRY_WEIGHTS)
    own = np.where(rng.random(n) < 0.8, COUNTRY_BIT[country], 0)
    country_mask = own.copy()
    wanted = rng.choice([1, 2, 3, 4], size=n, p=[0.35, 0.3, 0.2, 0.15])
    for _ in range(4):
        pick = rng.choice(N_COUNTRIES, size=n, p=COUNTRY_WEIGHTS)
        short = popcount(country_mask, N_COUNTRIES) < wanted
        country_mask |= np.where(short, COUNTRY_BIT[pick], 0)
    return Companies(
        industry=industry,
        target_mask=target_mask,
        target_niches=masks_to_lists(target_mask, NICHES),
        country=country,
        target_country_mask=country_mask,
        target_countries=masks_to_lists(country_mask, COUNTRIES),
        budget=np.clip(rng.lognormal(np.log(6000.0), 1.0, n), 300, 500_000).round(2),
        joined=join_dates(rng, n, today),
        names=make_brand_names(rng, [NICHES[i] for i in industry]),
        activity=rng.lognormal(0.0, 0.9, n),
        reliability=rng.normal(0.0, params.brand_reliability_sd, n),
    )


def niche_fit(
    inf: Influencers, comp: Companies, i: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """Return 1 when the primary niche is targeted, 0.5 for a near miss, else 0.

    A near miss is a targeted secondary niche, or a primary niche related to a
    targeted one (the company's industry is always among its targets).
    """
    targets = comp.target_mask[c]
    primary = (NICHE_BIT[inf.niche[i]] & targets) != 0
    near = ((inf.secondary_mask[i] | RELATED_MASK[inf.niche[i]]) & targets) != 0
    return np.where(primary, 1.0, np.where(near, 0.5, 0.0))


def country_match(
    inf: Influencers, comp: Companies, i: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """Return 1.0 where the influencer's country is one the company targets."""
    return ((COUNTRY_BIT[inf.country[i]] & comp.target_country_mask[c]) != 0) * 1.0

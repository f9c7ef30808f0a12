"""Profiles that change over time: every state of every profile, dated.

A creator's audience grows (or shrinks) at their own hidden yearly rate, their
engagement follows the audience size, their rate is re-priced to the new reach,
and now and then their main niche drifts to a related or secondary one. A
brand's campaign budget moves and its target niches change now and then. Each
change is a new state valid from a random moment between joining and now
(``influencer_revisions_per_year`` / ``company_revisions_per_year`` per profile
on average); the first state is the profile at joining, valid from midnight of
the join day. Each state is stored as a ProfileRevision, the newest one is the
current profile.

The world at a proposal uses the state the feature code would read then
(``webapp.learning.loaders.profiles_as_of``): the newest one valid strictly
before midnight of the proposal day, else the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from webapp.core.taxonomy import NICHES
from webapp.marketplace.demo.parameters import DEFAULT_PARAMETERS, WorldParameters
from webapp.marketplace.demo.profiles import (
    ENGAGEMENT_SLOPE,
    N_NICHES,
    NICHE_BIT,
    NICHE_WEIGHTS,
    RELATED_MASK,
    Companies,
    Influencers,
    masks_to_lists,
    take,
)

SECONDS_PER_YEAR = 365.25 * 86_400
KEY_SHIFT = np.int64(1 << 34)  # entity * KEY_SHIFT + seconds since the epoch
TARGET_CHANGE_SHARE = 0.3  # of a brand's profile changes, the share that move targets


@dataclass
class Timeline:
    """Every state of a kind of profile, sorted by (entity, valid_from).

    ``states`` holds one row per state with every column of the profile
    (hidden ones copied from its entity); ``entity`` says whose state it is.
    """

    states: Influencers | Companies
    entity: np.ndarray
    valid_from: np.ndarray  # datetime64[s]

    def keys(self) -> np.ndarray:
        """Return the sorted lookup keys of the states."""
        return self.entity.astype(np.int64) * KEY_SHIFT + self.valid_from.astype(
            np.int64
        )

    def at(self, entity: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Return the state row of each ``entity`` as known at midnight of ``days``."""
        keys = self.keys()
        base = entity.astype(np.int64) * KEY_SHIFT
        first = np.searchsorted(keys, base, side="left")
        midnight = days.astype("datetime64[D]").astype("datetime64[s]").astype(np.int64)
        before = np.searchsorted(keys, base + midnight, side="left") - 1
        return np.where(before >= first, before, first)

    def current(self) -> np.ndarray:
        """Return the newest state row of every entity, in entity order."""
        last = np.ones(len(self.entity), dtype=bool)
        last[:-1] = self.entity[1:] != self.entity[:-1]
        return np.flatnonzero(last)


def change_times(
    rng: np.random.Generator, joined: np.ndarray, now: datetime, per_year: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return (entity, moment) of every profile change, sorted by entity then time."""
    start = joined.astype("datetime64[D]").astype("datetime64[s]")
    span = (np.datetime64(now, "s") - start).astype(np.int64)
    counts = rng.poisson(per_year * np.maximum(span, 0) / SECONDS_PER_YEAR)
    entity = np.repeat(np.arange(len(joined)), counts)
    offset = 1 + (rng.random(len(entity)) * (span[entity] - 1)).astype(np.int64)
    moment = start[entity] + offset.astype("timedelta64[s]")
    order = np.lexsort((moment, entity))
    return entity[order], moment[order]


def build_timeline(rng, base, joined, entity, moment, change) -> Timeline:
    """Apply ``change`` once per profile change, in order; return every state.

    ``change(rng, state, years)`` returns the next state of each row of
    ``state`` (the changing profiles' current states), ``years`` after it began.
    """
    n = len(joined)
    states = [base]
    owners = [np.arange(n)]
    times = [joined.astype("datetime64[D]").astype("datetime64[s]")]
    current = base
    last_time = times[0].copy()
    rank = np.zeros(len(entity), dtype=np.int64)
    if len(entity):
        starts = np.r_[0, np.flatnonzero(entity[1:] != entity[:-1]) + 1]
        rank = np.arange(len(entity)) - np.repeat(
            starts, np.diff(np.r_[starts, len(entity)])
        )
    for r in range(int(rank.max(initial=-1)) + 1):
        step = rank == r
        who, when = entity[step], moment[step]
        years = (when - last_time[who]).astype(np.int64) / SECONDS_PER_YEAR
        nxt = change(rng, take(current, who), years)
        current = merge(current, who, nxt)
        last_time[who] = when
        states.append(nxt)
        owners.append(who)
        times.append(when)
    owner, valid_from = np.concatenate(owners), np.concatenate(times)
    order = np.lexsort((valid_from, owner))
    return Timeline(
        states=take(concat(states), order),
        entity=owner[order],
        valid_from=valid_from[order],
    )


def concat(tables: list):
    """Stack dataclass tables of arrays and lists row-wise."""
    first = tables[0]
    out = {}
    for name in first.__dataclass_fields__:
        values = [getattr(t, name) for t in tables]
        if isinstance(values[0], np.ndarray):
            out[name] = np.concatenate(values)
        else:
            out[name] = [v for part in values for v in part]
    return type(first)(**out)


def merge(table, rows: np.ndarray, new):
    """Return ``table`` with its ``rows`` replaced by the rows of ``new``."""
    out = {}
    for name in table.__dataclass_fields__:
        values = getattr(table, name)
        if isinstance(values, np.ndarray):
            values = values.copy()
            values[rows] = getattr(new, name)
        else:
            values = list(values)
            for k, v in zip(rows.tolist(), getattr(new, name), strict=True):
                values[k] = v
        out[name] = values
    return type(table)(**out)


def drift_niche(rng, niche: np.ndarray, secondary: np.ndarray, moving: np.ndarray):
    """Move the main niche of ``moving`` rows to a secondary or related one."""
    options = secondary | RELATED_MASK[niche]
    weights = ((options[:, None] >> np.arange(N_NICHES)) & 1) * NICHE_WEIGHTS
    weights = weights + rng.random(weights.shape) * 1e-9 * (weights > 0)
    u = rng.random(len(niche))[:, None] * weights.sum(axis=1, keepdims=True)
    pick = np.minimum((np.cumsum(weights, axis=1) < u).sum(axis=1), N_NICHES - 1)
    moving = moving & (weights.sum(axis=1) > 0)
    new_niche = np.where(moving, pick, niche)
    new_secondary = np.where(
        moving, (secondary | NICHE_BIT[niche]) & ~NICHE_BIT[new_niche], secondary
    )
    return new_niche, new_secondary


def influencer_change(params: WorldParameters):
    """Return the change function of a creator's profile (see the module docstring)."""

    def change(rng, state: Influencers, years: np.ndarray) -> Influencers:
        k = len(years)
        ratio = np.exp(state.growth * years + rng.normal(0.0, 0.05, k))
        followers = np.clip(state.followers * ratio, 1000, 1e7).astype(np.int64)
        ratio = followers / np.maximum(state.followers, 1)
        engagement = state.engagement * ratio**-ENGAGEMENT_SLOPE
        engagement = np.clip(engagement * rng.lognormal(0.0, 0.08, k), 0.002, 0.3)
        rate = state.rate * ratio**0.9 * rng.lognormal(0.02, 0.1, k)
        niche, secondary = drift_niche(
            rng,
            state.niche,
            state.secondary_mask,
            rng.random(k) < params.niche_drift_share,
        )
        return replace(
            state,
            niche=niche,
            secondary_mask=secondary,
            secondary=masks_to_lists(secondary, NICHES),
            followers=followers,
            engagement=engagement.round(4),
            rate=np.maximum(rate, 20.0).round(2),
            quality=np.clip(state.quality + rng.normal(0.0, 0.25, k), 0, 10).round(1),
            response_hours=np.clip(
                state.response_hours * rng.lognormal(0.0, 0.15, k), 0.5, 96
            ).round(1),
            posts_per_week=np.clip(
                state.posts_per_week * rng.lognormal(0.0, 0.1, k), 0.5, 21
            ).round(1),
        )

    return change


def company_change(rng, state: Companies, years: np.ndarray) -> Companies:
    """Move a brand's budget; sometimes add or drop a target niche (never its own)."""
    k = len(years)
    budget = np.clip(state.budget * rng.lognormal(0.0, 0.25, k), 300, 500_000)
    flip = rng.choice(N_NICHES, size=k, p=NICHE_WEIGHTS)
    moving = (rng.random(k) < TARGET_CHANGE_SHARE) & (flip != state.industry)
    targets = np.where(moving, state.target_mask ^ NICHE_BIT[flip], state.target_mask)
    return replace(
        state,
        budget=budget.round(2),
        target_mask=targets,
        target_niches=masks_to_lists(targets, NICHES),
    )


def influencer_timeline(
    rng: np.random.Generator,
    inf: Influencers,
    now: datetime,
    params: WorldParameters = DEFAULT_PARAMETERS,
) -> Timeline:
    """Draw every creator's profile changes up to ``now``."""
    entity, moment = change_times(
        rng, inf.joined, now, params.influencer_revisions_per_year
    )
    return build_timeline(
        rng, inf, inf.joined, entity, moment, influencer_change(params)
    )


def company_timeline(
    rng: np.random.Generator,
    comp: Companies,
    now: datetime,
    params: WorldParameters = DEFAULT_PARAMETERS,
) -> Timeline:
    """Draw every brand's profile changes up to ``now``."""
    entity, moment = change_times(
        rng, comp.joined, now, params.company_revisions_per_year
    )
    return build_timeline(rng, comp, comp.joined, entity, moment, company_change)

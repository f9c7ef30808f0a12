"""What the marketplace knew before a moment: track records, counts, shared partners.

``HistoryEvents`` holds the raw events (collaborations and rating revisions) as
numpy arrays; ``HistoryIndex`` answers "what happened before day t" for many
(influencer, company, t) queries at once with sorted keys and binary search, so
training (one query per past collaboration, t = its proposal day) and serving
(one query per candidate, t = today) share one implementation and one rule:
only events strictly before the start of day t count.

A rating can be edited: each revision is an event at its own time. The first
revision of an outcome adds it to the counts; a later one only replaces its
value from its own time on (stored as the change of value), so an edit never
rewrites what an earlier moment saw.

Track records (influencer, brand, niche pair) are recency weighted and shrunk
toward the population's rate by empirical Bayes (``track_records``); past
cancellations and disputes count from the moment they happened; profile
revisions give follower growth and the engagement fit (``profile_signals``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from webapp.learning import track_records
from webapp.learning.moments import SECONDS_PER_DAY, entity_time_keys
from webapp.learning.partner_graph import PartnerGraph, pair_codes
from webapp.learning.profile_signals import ProfileRevisions

# Before any outcome is known, the population's success rate is taken as even.
SUCCESS_PRIOR = 0.5
# Smoothing of the brand's rating by creators: average until evidence comes in.
RATING_PRIOR, RATING_PRIOR_WEIGHT = 3.5, 2.0
# Niche pairs are coded niche * NICHE_PAIR_BASE + industry, or UNKNOWN_NICHE_PAIR.
NICHE_PAIR_BASE = 64
UNKNOWN_NICHE_PAIR = -1
# Shared-partner graphs kept per index (one per day asked about; serving asks today).
MAX_CACHED_GRAPHS = 4
# The track records a query's rates are shrunk from (the population is their prior).
SHRUNK_RECORDS = ("influencer", "company", "niche_pair")


def _no_ints() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def niche_pair_code(niche: np.ndarray, industry: np.ndarray) -> np.ndarray:
    """Return the code of each (influencer niche, brand industry) pair, or UNKNOWN_NICHE_PAIR."""
    niche, industry = np.asarray(niche, np.int64), np.asarray(industry, np.int64)
    known = (niche >= 0) & (industry >= 0)
    return np.where(known, niche * NICHE_PAIR_BASE + industry, UNKNOWN_NICHE_PAIR)


@dataclass
class HistoryEvents:
    """Events as arrays. Collaboration times are days; outcome times are seconds.

    ``brand_*``: company-side rating revisions (did the brand call it a success?).
    ``partner_*``: influencer-side rating revisions (how influencers rated the brand).
    ``*_outcome`` names the outcome each revision belongs to; None means every
    event is an outcome of its own (one revision each). ``brand_niche_pair``
    is the (influencer niche, brand industry) code of each brand revision's
    collaboration as the profiles stood at its proposal (``niche_pair_code``).
    ``cancel_*``: cancellations of accepted collaborations at ``cancelled_at``;
    ``cancel_by`` is the side that cancelled ("influencer", "company"; "" or
    None: not recorded), and a cancellation counts against that side only,
    against both when not recorded. ``dispute_*``: the first time a
    collaboration's rating said "disputed" (seconds).
    """

    collab_influencer: np.ndarray
    collab_company: np.ndarray
    collab_day: np.ndarray
    brand_influencer: np.ndarray
    brand_company: np.ndarray
    brand_second: np.ndarray
    brand_success: np.ndarray
    partner_company: np.ndarray
    partner_second: np.ndarray
    partner_rating: np.ndarray
    brand_outcome: np.ndarray | None = None
    partner_outcome: np.ndarray | None = None
    brand_niche_pair: np.ndarray | None = None
    cancel_influencer: np.ndarray = field(default_factory=_no_ints)
    cancel_company: np.ndarray = field(default_factory=_no_ints)
    cancel_second: np.ndarray = field(default_factory=_no_ints)
    cancel_by: np.ndarray | None = None
    dispute_influencer: np.ndarray = field(default_factory=_no_ints)
    dispute_company: np.ndarray = field(default_factory=_no_ints)
    dispute_second: np.ndarray = field(default_factory=_no_ints)
    profiles: ProfileRevisions = field(default_factory=ProfileRevisions.empty)

    @classmethod
    def empty(cls) -> HistoryEvents:
        """Return a history with no events."""
        ints = np.zeros(0, dtype=np.int64)
        return cls(
            ints, ints, ints, ints, ints, ints, np.zeros(0, bool), ints, ints, ints
        )


@dataclass
class HistoryStats:
    """Per-query history figures, aligned with the queries."""

    influencer_collaborations: np.ndarray
    influencer_rated: np.ndarray
    influencer_success_rate: np.ndarray
    company_collaborations: np.ndarray
    company_success_rate: np.ndarray
    company_partner_rating: np.ndarray
    pair_collaborations: np.ndarray
    shared_partners: np.ndarray
    niche_pair_success_rate: np.ndarray
    influencer_cancellations: np.ndarray
    company_cancellations: np.ndarray
    influencer_disputes: np.ndarray
    company_disputes: np.ndarray
    follower_growth: np.ndarray
    # The engagement fit of the query's grid day (``profile_signals``), NaN if none.
    engagement_intercept: np.ndarray
    engagement_slope: np.ndarray

    def take(self, index: np.ndarray) -> HistoryStats:
        """Return the figures of the queries at ``index``."""
        return HistoryStats(**{k: v[index] for k, v in vars(self).items()})


@dataclass
class _Sorted:
    """Events of one kind sorted by (entity, time), with running sums of values.

    ``counts`` (running sums of per-event counts) is None when every event counts
    once; revisions that only change a value count zero.
    """

    keys: np.ndarray
    sums: np.ndarray = field(default_factory=lambda: np.zeros(1))
    counts: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        entity: np.ndarray,
        time: np.ndarray,
        values: np.ndarray | None = None,
        counts: np.ndarray | None = None,
    ):
        keys = entity_time_keys(entity, time)
        order = np.argsort(keys, kind="stable")
        sums = np.zeros(len(keys) + 1)
        if values is not None:
            sums[1:] = np.cumsum(np.asarray(values, dtype=float)[order])
        running = None
        if counts is not None:
            running = np.zeros(len(keys) + 1)
            running[1:] = np.cumsum(np.asarray(counts, dtype=float)[order])
        return cls(keys=keys[order], sums=sums, counts=running)

    @classmethod
    def build_revisions(
        cls,
        entity: np.ndarray,
        time: np.ndarray,
        values: np.ndarray,
        outcome: np.ndarray | None,
    ):
        """Index rating revisions: each outcome counts once, its value as last revised."""
        if outcome is None:
            return cls.build(entity, time, values)
        first, change = revision_changes(outcome, time, values)
        return cls.build(entity, time, change, counts=first)

    def before(
        self, entity: np.ndarray, time: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (count, sum of values) of events of ``entity`` strictly before ``time``."""
        lo = np.searchsorted(self.keys, entity_time_keys(entity, 0), side="left")
        hi = np.searchsorted(self.keys, entity_time_keys(entity, time), side="left")
        if self.counts is None:
            count = (hi - lo).astype(float)
        else:
            count = self.counts[hi] - self.counts[lo]
        return count, self.sums[hi] - self.sums[lo]


def revision_changes(
    outcome: np.ndarray, time: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per revision, (1 if it is its outcome's first else 0, change of value).

    Revisions of one outcome are taken in time order (ties in the order given);
    the first one's change is its whole value. Summing both over the revisions
    known before t gives the outcomes known at t and their values as known at t.
    """
    values = np.asarray(values, dtype=float)
    order = np.lexsort((time, outcome))
    sorted_outcome, sorted_values = outcome[order], values[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_outcome[1:] != sorted_outcome[:-1]
    change = sorted_values.copy()
    change[1:] = np.where(first[1:], change[1:], change[1:] - sorted_values[:-1])
    first_out = np.empty_like(first)
    change_out = np.empty_like(change)
    first_out[order], change_out[order] = first, change
    return first_out.astype(float), change_out


class HistoryIndex:
    """Answers point-in-time history queries over a fixed set of events."""

    def __init__(self, events: HistoryEvents) -> None:
        self.events = events
        ev = events
        self._inf_collabs = _Sorted.build(ev.collab_influencer, ev.collab_day)
        self._co_collabs = _Sorted.build(ev.collab_company, ev.collab_day)
        self._pairs = np.unique(pair_codes(ev.collab_influencer, ev.collab_company))
        self._pair_collabs = _Sorted.build(
            self._pair_id(ev.collab_influencer, ev.collab_company), ev.collab_day
        )
        self._inf_outcomes = _Sorted.build_revisions(
            ev.brand_influencer, ev.brand_second, ev.brand_success, ev.brand_outcome
        )
        self._co_ratings = _Sorted.build_revisions(
            ev.partner_company, ev.partner_second, ev.partner_rating, ev.partner_outcome
        )
        brand = (ev.brand_second, ev.brand_success, ev.brand_outcome)
        niche_pair = ev.brand_niche_pair
        if niche_pair is None:
            niche_pair = np.full(len(ev.brand_second), UNKNOWN_NICHE_PAIR, np.int64)
        self._records = {
            "influencer": _TrackRecord(ev.brand_influencer, *brand),
            "company": _TrackRecord(ev.brand_company, *brand),
            "niche_pair": _TrackRecord(niche_pair, *brand),
            "population": _TrackRecord(np.zeros_like(ev.brand_influencer), *brand),
        }
        by = ev.cancel_by
        if by is None:
            by = np.full(len(ev.cancel_second), "", dtype="<U10")
        against = {"influencer": by != "company", "company": by != "influencer"}
        self._cancels = {
            side: _Sorted.build(entity[against[side]], ev.cancel_second[against[side]])
            for side, entity in (
                ("influencer", ev.cancel_influencer),
                ("company", ev.cancel_company),
            )
        }
        self._disputes = {
            "influencer": _Sorted.build(ev.dispute_influencer, ev.dispute_second),
            "company": _Sorted.build(ev.dispute_company, ev.dispute_second),
        }
        self._fits: dict[int, tuple[float, float]] = {}
        self._graphs: dict[int | None, PartnerGraph] = {}

    def _pair_id(self, influencer: np.ndarray, company: np.ndarray) -> np.ndarray:
        """Map pairs to dense ids; pairs never seen get an id past the known ones."""
        codes = pair_codes(influencer, company)
        if len(self._pairs) == 0:
            return np.zeros(len(codes), dtype=np.int64)
        position = np.searchsorted(self._pairs, codes)
        found = (position < len(self._pairs)) & (
            self._pairs[np.minimum(position, len(self._pairs) - 1)] == codes
        )
        return np.where(found, position, len(self._pairs))

    def stats(
        self,
        influencer: np.ndarray,
        company: np.ndarray,
        day: np.ndarray,
        niche_pair: np.ndarray,
    ) -> HistoryStats:
        """Return what was known strictly before ``day`` for each (influencer, company).

        ``day`` is the moment the features describe (``features.day_number``):
        a proposal day in training, today in serving. Events of that day itself
        never count, so a row computed on its day equals the row recomputed later.
        ``niche_pair`` is each query's ``niche_pair_code`` (required: a query
        whose pair is UNKNOWN_NICHE_PAIR gets the population's rate, which a
        caller should say rather than get by forgetting the argument).
        """
        day = np.asarray(day, dtype=np.int64)
        second = day * SECONDS_PER_DAY
        niche_pair = np.asarray(niche_pair, dtype=np.int64)
        if niche_pair.shape != day.shape:
            raise ValueError(
                f"niche_pair has shape {niche_pair.shape}, the queries {day.shape}"
            )
        inf_n, _ = self._inf_collabs.before(influencer, day)
        co_n, _ = self._co_collabs.before(company, day)
        pair_n, _ = self._pair_collabs.before(self._pair_id(influencer, company), day)
        inf_rated, _ = self._inf_outcomes.before(influencer, second)
        co_rating_n, co_rating_sum = self._co_ratings.before(company, second)
        # One population rate per distinct moment (serving asks for one day).
        moments, at = np.unique(second, return_inverse=True)
        prior = self._records["population"].rate_before(
            np.zeros_like(moments), moments
        )[at]
        fits = self.engagement_fits(day)

        def record(kind: str, entity: np.ndarray) -> np.ndarray:  # SHRUNK_RECORDS
            return self._records[kind].shrunk(entity, day, prior)

        return HistoryStats(
            influencer_collaborations=inf_n,
            influencer_rated=inf_rated,
            influencer_success_rate=record("influencer", influencer),
            company_collaborations=co_n,
            company_success_rate=record("company", company),
            company_partner_rating=_smoothed(
                co_rating_sum, co_rating_n, RATING_PRIOR, RATING_PRIOR_WEIGHT
            ),
            pair_collaborations=pair_n,
            shared_partners=self.shared_partners(influencer, company, day),
            niche_pair_success_rate=record("niche_pair", niche_pair),
            influencer_cancellations=self._cancels["influencer"].before(
                influencer, second
            )[0],
            company_cancellations=self._cancels["company"].before(company, second)[0],
            influencer_disputes=self._disputes["influencer"].before(influencer, second)[
                0
            ],
            company_disputes=self._disputes["company"].before(company, second)[0],
            follower_growth=self.events.profiles.follower_growth(influencer, day),
            engagement_intercept=fits[:, 0],
            engagement_slope=fits[:, 1],
        )

    def prepare(self, day: int) -> None:
        """Compute now, for ``day``, what its first query would otherwise pay for.

        The shared-partner graph (cached per day), the engagement fit and the
        prior strength of each shrunk track record (cached per grid day): the
        serving pool calls it for today when it is built, off the request path.
        """
        days = np.array([int(day)], dtype=np.int64)
        self.partner_graph(int(day))
        self.engagement_fits(days)
        for kind in SHRUNK_RECORDS:
            self._records[kind].strength(days)

    def engagement_fits(self, day: np.ndarray) -> np.ndarray:
        """Return (intercept, slope) per query: the fit of its grid day, cached."""
        grid = track_records.grid_day(day)
        unique, position = np.unique(grid, return_inverse=True)
        for g in unique.tolist():
            if g not in self._fits:
                self._fits[g] = self.events.profiles.engagement_fit(g)
        table = np.array([self._fits[g] for g in unique.tolist()], dtype=float)
        return table.reshape(-1, 2)[position]

    def influencer_successes(self, influencer: np.ndarray, day: int) -> np.ndarray:
        """Count, per influencer, the successes brands had rated before ``day``.

        Each outcome counts with its label as last revised before the day (the
        rule ``influencer_success_rate`` is built on), so a rating given or
        edited on or after the day changes nothing.
        """
        second = np.full(len(influencer), int(day) * SECONDS_PER_DAY, dtype=np.int64)
        _, wins = self._inf_outcomes.before(np.asarray(influencer), second)
        return np.rint(wins)

    def shared_partners(
        self, influencer: np.ndarray, company: np.ndarray, day: np.ndarray
    ) -> np.ndarray:
        """Count, per query, the influencer's past brands that share a past influencer with the company.

        A past brand b of influencer i counts when b has worked with at least one
        influencer that company c has worked with, all before ``day``.
        """
        result = np.zeros(len(day))
        if len(day) == 0:
            return result
        ev = self.events
        if len(ev.collab_day) == 0 or day.min() > ev.collab_day.max():
            return self.partner_graph(None).count(influencer, company)
        if day.min() == day.max():
            return self.partner_graph(int(day[0])).count(influencer, company)
        # Many days (training): replay the events once, in day order.
        brands_of: dict[int, set[int]] = defaultdict(set)
        influencers_of: dict[int, set[int]] = defaultdict(set)
        order = np.argsort(ev.collab_day, kind="stable")
        e, n_events = 0, len(order)
        for q in np.argsort(day, kind="stable"):
            while e < n_events and ev.collab_day[order[e]] < day[q]:
                k = order[e]
                brands_of[int(ev.collab_influencer[k])].add(int(ev.collab_company[k]))
                influencers_of[int(ev.collab_company[k])].add(
                    int(ev.collab_influencer[k])
                )
                e += 1
            result[q] = _count_shared(
                int(influencer[q]), int(company[q]), brands_of, influencers_of
            )
        return result

    def partner_graph(self, day: int | None) -> PartnerGraph:
        """Return who worked with whom strictly before ``day`` (None: ever), cached.

        Serving asks for today over and over; a few days are kept.
        """
        graph = self._graphs.get(day)
        if graph is None:
            ev = self.events
            known = slice(None) if day is None else ev.collab_day < day
            graph = PartnerGraph.build(
                ev.collab_influencer[known], ev.collab_company[known]
            )
            if len(self._graphs) >= MAX_CACHED_GRAPHS:
                self._graphs.clear()
            self._graphs[day] = graph
        return graph


class _TrackRecord:
    """Recency-weighted success counts of one kind of entity, and its EB prior strength.

    Each outcome weighs ``track_records.decay_weight`` of the time its first
    revision was recorded; an edit changes its value from the edit's time on.
    """

    def __init__(self, entity, second, success, outcome) -> None:
        entity = np.asarray(entity, dtype=np.int64)
        second = np.asarray(second, dtype=np.int64)
        if outcome is None:
            outcome = np.arange(len(entity))
        first, change = revision_changes(outcome, second, success)
        weight = track_records.decay_weight(outcome_first_seconds(outcome, second))
        known = entity >= 0
        self._entity, self._second = entity[known], second[known]
        self._first, self._change = first[known], change[known]
        self._sorted = _Sorted.build(
            self._entity,
            self._second,
            (change * weight)[known],
            counts=(first * weight)[known],
        )
        self._strength: dict[int, float] = {}

    def weighted_before(self, entity, second) -> tuple[np.ndarray, np.ndarray]:
        """Return (weighted outcomes, weighted successes) strictly before ``second``."""
        count, wins = self._sorted.before(np.asarray(entity, np.int64), second)
        decay = track_records.decay_at(second)
        return count * decay, wins * decay

    def rate_before(self, entity, second) -> np.ndarray:
        """Return the weighted success rate before ``second`` (SUCCESS_PRIOR if none)."""
        count, wins = self.weighted_before(entity, second)
        return np.where(count > 0, wins / np.maximum(count, 1e-300), SUCCESS_PRIOR)

    def strength(self, day: np.ndarray) -> np.ndarray:
        """Return the prior strength per query: the estimate of its grid day, cached."""
        grid = track_records.grid_day(day)
        unique, position = np.unique(grid, return_inverse=True)
        for g in unique.tolist():
            if g not in self._strength:
                known = self._second < g * SECONDS_PER_DAY
                self._strength[g] = track_records.prior_strength(
                    *track_records.entity_totals(
                        self._entity, self._first, self._change, known
                    )
                )
        return np.array([self._strength[g] for g in unique.tolist()])[position]

    def shrunk(self, entity, day: np.ndarray, prior: np.ndarray) -> np.ndarray:
        """Return each entity's rate before ``day`` shrunk toward ``prior``."""
        second = np.asarray(day, np.int64) * SECONDS_PER_DAY
        count, wins = self.weighted_before(entity, second)
        return track_records.shrunk_rate(wins, count, prior, self.strength(day))


def outcome_first_seconds(outcome: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Return, per revision, the time of its outcome's first revision."""
    order = np.lexsort((time, outcome))
    sorted_outcome = np.asarray(outcome)[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_outcome[1:] != sorted_outcome[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    result = np.empty(len(order), dtype=np.int64)
    result[order] = np.asarray(time, dtype=np.int64)[order][start]
    return result


def _count_shared(i: int, c: int, brands_of: dict, influencers_of: dict) -> int:
    """Count brands of ``i`` (other than ``c``) sharing another influencer with ``c``."""
    brands = brands_of.get(i)
    partners = influencers_of.get(c)
    if not brands or not partners:
        return 0
    return sum(
        1 for b in brands if b != c and not influencers_of[b].isdisjoint(partners)
    )


def _smoothed(
    total: np.ndarray, count: np.ndarray, prior: float, weight: float
) -> np.ndarray:
    """Return the mean shrunk toward ``prior`` as if ``weight`` prior observations existed."""
    return (total + prior * weight) / (count + weight)

"""Shared past partners for many pairs at once, as of one day, in numpy.

``HistoryIndex.shared_partners`` counts, for a pair (i, c), the past brands b
of influencer i (b != c) that have worked with at least one influencer that c
has worked with. Serving asks this for thousands of pairs as of the same day
(today); replaying the events into Python sets on every request cost tens of
milliseconds, so this module builds, once per day, the sorted codes of who
worked with whom and of which brands are two hops from which, and answers a
batch of pairs with binary searches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Codes pack two ids below 2**31 into one int64: (high << 31) | low.
CODE_SHIFT = 31


def pair_codes(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Return one int64 code per (high, low) id pair."""
    return (np.asarray(high, np.int64) << CODE_SHIFT) | np.asarray(low, np.int64)


def _group_members(keys: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return (which wanted entry, position in ``keys``) for every key equal to one wanted.

    ``keys`` is sorted; each wanted value matches a contiguous run of keys.
    """
    lo = np.searchsorted(keys, wanted, side="left")
    hi = np.searchsorted(keys, wanted, side="right")
    sizes = hi - lo
    owner = np.repeat(np.arange(len(wanted)), sizes)
    starts = np.repeat(lo - (np.cumsum(sizes) - sizes), sizes)
    return owner, starts + np.arange(int(sizes.sum()))


@dataclass(frozen=True)
class PartnerGraph:
    """Who had worked with whom before one day, and which brands were two hops apart.

    ``links_influencer``/``links_company``: the distinct (influencer, company)
    pairs, sorted by influencer. ``two_hop``: sorted codes (brand b, company c)
    with b != c such that some influencer worked with both.
    """

    links_influencer: np.ndarray
    links_company: np.ndarray
    two_hop: np.ndarray

    @classmethod
    def build(cls, influencer: np.ndarray, company: np.ndarray) -> PartnerGraph:
        """Build the graph of the collaborations (influencer[k], company[k])."""
        links = np.unique(pair_codes(influencer, company))
        inf = links >> CODE_SHIFT
        co = links & ((1 << CODE_SHIFT) - 1)
        # Every two brands of one influencer are two hops apart (both orders).
        left, right = _group_members(inf, inf)
        brand, other = co[left], co[right]
        apart = brand != other
        two_hop = np.unique(pair_codes(brand[apart], other[apart]))
        return cls(inf, co, two_hop)

    def count(self, influencer: np.ndarray, company: np.ndarray) -> np.ndarray:
        """Return, per (influencer, company) query, the shared past partners."""
        result = np.zeros(len(influencer))
        if len(influencer) == 0 or len(self.two_hop) == 0:
            return result
        query, link = _group_members(
            self.links_influencer, np.asarray(influencer, np.int64)
        )
        brand = self.links_company[link]
        target = np.asarray(company, np.int64)[query]
        codes = pair_codes(brand, target)
        position = np.minimum(
            np.searchsorted(self.two_hop, codes), len(self.two_hop) - 1
        )
        shared = (self.two_hop[position] == codes) & (brand != target)
        return np.bincount(query[shared], minlength=len(influencer)).astype(float)

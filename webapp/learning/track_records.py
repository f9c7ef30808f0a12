"""Track records shrunk toward the population by how much evidence there is.

A success rate from few outcomes says little: ``shrunk_rate`` pulls it toward
the population's rate as known at the moment (empirical Bayes, a beta prior).
The prior's strength is not a constant: ``prior_strength`` estimates it by the
method of moments of the beta-binomial from how much the entities' rates vary
beyond what chance alone would make them vary, using only outcomes known
before a grid day (``grid_day``: every PRIOR_GRID_DAYS days from 2000-01-01),
so training rows and serving on the same day use the same estimate and a later
outcome never moves it.

Recent outcomes weigh more: an outcome counts ``2 ** -(age / HALF_LIFE_DAYS)``
(``decay_weight``), so the evidence of a rate is the sum of its weights. The
weights are factored as ``2 ** (t_event / h) * 2 ** (-t / h)``: running sums of
the first factor over sorted events answer any moment with one lookup.
"""

from __future__ import annotations

import numpy as np

from webapp.learning.moments import SECONDS_PER_DAY

# An outcome a year old counts half as much as one from today.
HALF_LIFE_DAYS = 365.0
# The prior strength is re-estimated every four weeks (from what was known then).
PRIOR_GRID_DAYS = 28
# With too few entities of two or more outcomes to estimate it, the prior counts
# as this many outcomes (the smoothing used before the estimate existed).
FALLBACK_PRIOR_STRENGTH = 2.0
MIN_ENTITIES_FOR_ESTIMATE = 5
# Keeps the estimate finite: between one and a thousand outcomes' worth.
PRIOR_STRENGTH_RANGE = (1.0, 1000.0)


def decay_weight(second: np.ndarray) -> np.ndarray:
    """Return the event-time factor ``2 ** (days since 2000 / HALF_LIFE_DAYS)``."""
    return np.exp2(np.asarray(second, dtype=float) / SECONDS_PER_DAY / HALF_LIFE_DAYS)


def decay_at(second: np.ndarray) -> np.ndarray:
    """Return the query-time factor ``2 ** -(days since 2000 / HALF_LIFE_DAYS)``."""
    return np.exp2(-np.asarray(second, dtype=float) / SECONDS_PER_DAY / HALF_LIFE_DAYS)


def grid_day(day: np.ndarray) -> np.ndarray:
    """Return the grid day on or before each day (whose prior estimate applies)."""
    day = np.asarray(day, dtype=np.int64)
    return day - np.mod(day, PRIOR_GRID_DAYS)


def prior_strength(count: np.ndarray, wins: np.ndarray) -> float:
    """Return the beta prior's strength (alpha + beta) by the method of moments.

    For entity i with n_i outcomes and rate p_i around the pooled rate m, the
    beta-binomial gives E[sum n_i (p_i - m)^2] = m(1-m) (K + rho (N - K)) with K
    entities, N outcomes and rho = 1 / (alpha + beta + 1); solved for rho.
    Entities without outcomes are ignored; too little spread (every difference
    explained by chance) gives the strongest prior in PRIOR_STRENGTH_RANGE.
    """
    seen = count > 0
    n, k = count[seen], wins[seen]
    if np.count_nonzero(n >= 2) < MIN_ENTITIES_FOR_ESTIMATE:
        return FALLBACK_PRIOR_STRENGTH
    m = k.sum() / n.sum()
    if m <= 0.0 or m >= 1.0:
        return FALLBACK_PRIOR_STRENGTH
    spread = np.sum(n * (k / n - m) ** 2) / (m * (1.0 - m))
    rho = (spread - len(n)) / (n.sum() - len(n))
    low, high = PRIOR_STRENGTH_RANGE
    if rho <= 0.0:
        return high
    return float(np.clip((1.0 - rho) / rho, low, high))


def shrunk_rate(
    weighted_wins: np.ndarray,
    weighted_count: np.ndarray,
    population_rate: np.ndarray,
    strength: np.ndarray,
) -> np.ndarray:
    """Return the posterior mean rate: (wins + strength x prior) / (count + strength)."""
    return (weighted_wins + strength * population_rate) / (weighted_count + strength)


def entity_totals(
    entity: np.ndarray, first: np.ndarray, change: np.ndarray, known: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return per-entity (outcomes, successes) from the revisions flagged ``known``.

    ``first`` and ``change`` are ``history.revision_changes``' per-revision
    outcome count and change of value; summed over the known revisions they
    give each outcome once, with its value as last revised by then.
    """
    codes = np.unique(entity[known], return_inverse=True)[1]
    count = np.bincount(codes, weights=first[known])
    wins = np.bincount(codes, weights=change[known])
    return count, wins

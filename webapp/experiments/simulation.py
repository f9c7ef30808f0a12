"""Simulated experiments: A/A and A/B runs, A/B versus interleaving of two rankers.

Everything here is pure (numpy arrays and a ``numpy.random.Generator`` in,
numbers out) so the bench and the tests can call it on any world.

The ranking world is a matrix ``success_prob[u, i]``: the true chance that unit
(brand) ``u`` has a successful collaboration with item (creator) ``i`` when it
considers it. Rankers are given as full orderings ``ranking[u]`` (item indices,
best first, e.g. from ``order_by_scores``). A simulated unit is a row drawn
uniformly with replacement; it sees a list of ``k`` items, considers position j
with probability ``examination[j]`` (default 1 / (j + 1), a DCG-like position
bias), and each considered item succeeds independently with its true chance.

* A/B: half of the units see ranker a's top k, half ranker b's; the metric is the
  success rate (units with at least one success). The better design pick is the
  ranker with the higher observed rate.
* Interleaving: every unit sees the team-draft list of both rankers; successes are
  credited to the team that contributed the item, and the pick is the ranker
  more units prefer.

The truly better ranker is the one with the higher exact expected success rate
(``expected_success_rate``), i.e. the one an infinitely large A/B test would pick.
Ties in a simulated run count as a wrong pick, for both designs alike.
"""

from __future__ import annotations

import math

import numpy as np

from webapp.experiments.cuped import CovariateVariant, cuped_analysis
from webapp.experiments.interleaving import preference_results, team_draft
from webapp.experiments.results import RateVariant
from webapp.experiments.stats import two_proportion_p_value

DEFAULT_LIST_LENGTH = 10
MAX_CHUNK_CELLS = 4_000_000  # bounds memory: simulated units x list length per chunk


def order_by_scores(scores: np.ndarray) -> np.ndarray:
    """Return each row's item indices from highest to lowest score (stable)."""
    return np.argsort(-np.asarray(scores, dtype=float), axis=1, kind="stable")


def default_examination(length: int) -> np.ndarray:
    """Return the chance each position is considered: 1 / (position + 1)."""
    return 1.0 / np.arange(1, length + 1)


def expected_success_rate(
    success_prob: np.ndarray, ranking: np.ndarray, examination: np.ndarray
) -> float:
    """Return the exact success rate a ranker's top list yields, over all units."""
    k = len(examination)
    shown = np.take_along_axis(success_prob, ranking[:, :k], axis=1)
    return float(np.mean(1 - np.prod(1 - examination * shown, axis=1)))


def _chunks(reps: int, n_units: int, length: int) -> list[int]:
    """Split ``reps`` into chunk sizes whose arrays stay under the memory bound."""
    size = max(1, MAX_CHUNK_CELLS // max(1, n_units * length))
    return [min(size, reps - start) for start in range(0, reps, size)]


def _successes(success_prob, rows, items, examination, rng) -> np.ndarray:
    """Draw which shown items succeed (boolean, same shape as ``items``)."""
    chance = examination * success_prob[rows[..., None], np.maximum(items, 0)]
    chance = np.where(items >= 0, chance, 0.0)
    return rng.random(items.shape) < chance


def ab_runs(success_prob, ranking_a, ranking_b, n_units, reps, rng, examination):
    """Return per-run success rates ``(rate_a, rate_b)`` of simulated A/B tests.

    The first ``n_units // 2`` simulated units see ranker a, the rest ranker b
    (units are drawn at random, so this is a random split).
    """
    half = n_units // 2
    if half < 1:
        raise ValueError("an A/B test needs at least two units")
    rates = []
    for chunk in _chunks(reps, n_units, len(examination)):
        rows = rng.integers(success_prob.shape[0], size=(chunk, n_units))
        k = len(examination)
        items = np.concatenate(
            [ranking_a[rows[:, :half], :k], ranking_b[rows[:, half:], :k]], axis=1
        )
        converted = _successes(success_prob, rows, items, examination, rng).any(-1)
        rates.append(
            np.stack([converted[:, :half].mean(1), converted[:, half:].mean(1)], 1)
        )
    both = np.concatenate(rates)
    return both[:, 0], both[:, 1]


def interleaving_table(ranking_a, ranking_b, length: int):
    """Precompute every unit's team-draft list for every possible coin sequence.

    With ``length`` picks at most ceil(length / 2) coins are flipped, so each row
    has 2 ** that many possible lists; returns items (-1 = empty slot) and a
    mask of the items ranker a contributed, both (rows, patterns, length).
    """
    coins = math.ceil(length / 2)
    rows = ranking_a.shape[0]
    items = np.full((rows, 2**coins, length), -1, dtype=np.int64)
    from_a = np.zeros((rows, 2**coins, length), dtype=bool)
    depth = min(ranking_a.shape[1], 2 * length)
    for row in range(rows):
        for pattern in range(2**coins):
            flips = iter([(pattern >> bit) & 1 == 1 for bit in range(coins)])
            shown = team_draft(
                list(ranking_a[row, :depth]),
                list(ranking_b[row, :depth]),
                flips,
                length,
            )
            items[row, pattern, : len(shown.items)] = shown.items
            from_a[row, pattern, : len(shown.teams)] = [t == "a" for t in shown.teams]
    return items, from_a


def interleaving_runs(success_prob, table, n_units, reps, rng, examination):
    """Return per-run counts of units preferring a and b in interleaving tests."""
    items_table, from_a_table = table
    wins = []
    for chunk in _chunks(reps, n_units, len(examination)):
        rows = rng.integers(success_prob.shape[0], size=(chunk, n_units))
        patterns = rng.integers(items_table.shape[1], size=(chunk, n_units))
        items, from_a = items_table[rows, patterns], from_a_table[rows, patterns]
        hits = _successes(success_prob, rows, items, examination, rng)
        credit_a = (hits & from_a).sum(-1)
        credit_b = (hits & ~from_a).sum(-1)
        wins.append(
            np.stack([(credit_a > credit_b).sum(1), (credit_b > credit_a).sum(1)], 1)
        )
    both = np.concatenate(wins)
    return both[:, 0], both[:, 1]


def simulate_ab_test(
    success_prob: np.ndarray,
    ranking_a: np.ndarray,
    ranking_b: np.ndarray,
    n_units: int,
    rng: np.random.Generator,
    examination: np.ndarray | None = None,
) -> list[RateVariant]:
    """Run one simulated A/B test; return both variants' success-rate counts."""
    examination = _examination(examination)
    rate_a, rate_b = ab_runs(
        success_prob, ranking_a, ranking_b, n_units, 1, rng, examination
    )
    half = n_units // 2
    sizes = {"a": half, "b": n_units - half}
    rates = {"a": rate_a[0], "b": rate_b[0]}
    return [
        RateVariant(key, sizes[key], sizes[key], round(rates[key] * sizes[key]))
        for key in ("a", "b")
    ]


def simulate_interleaving_test(
    success_prob: np.ndarray,
    ranking_a: np.ndarray,
    ranking_b: np.ndarray,
    n_units: int,
    rng: np.random.Generator,
    examination: np.ndarray | None = None,
) -> dict:
    """Run one simulated interleaving test; return its preference results."""
    examination = _examination(examination)
    table = interleaving_table(ranking_a, ranking_b, len(examination))
    wins_a, wins_b = interleaving_runs(
        success_prob, table, n_units, 1, rng, examination
    )
    a, b = int(wins_a[0]), int(wins_b[0])
    return preference_results(["a"] * a + ["b"] * b + [None] * (n_units - a - b))


def _examination(examination: np.ndarray | None) -> np.ndarray:
    """Return the given examination curve or the default one."""
    if examination is None:
        return default_examination(DEFAULT_LIST_LENGTH)
    return np.asarray(examination, dtype=float)


def correct_pick_rate(
    design: str,
    success_prob: np.ndarray,
    ranking_a: np.ndarray,
    ranking_b: np.ndarray,
    n_units: int,
    reps: int,
    rng: np.random.Generator,
    examination: np.ndarray | None = None,
    table=None,
) -> float:
    """Return how often a design picks the truly better ranker.

    ``design`` is ``"ab"`` or ``"interleaving"``.
    """
    examination = _examination(examination)
    truth_a = expected_success_rate(success_prob, ranking_a, examination)
    truth_b = expected_success_rate(success_prob, ranking_b, examination)
    if truth_a == truth_b:
        raise ValueError("the two rankers are equally good; nothing to pick")
    if design == "ab":
        score_a, score_b = ab_runs(
            success_prob, ranking_a, ranking_b, n_units, reps, rng, examination
        )
    elif design == "interleaving":
        if table is None:
            table = interleaving_table(ranking_a, ranking_b, len(examination))
        score_a, score_b = interleaving_runs(
            success_prob, table, n_units, reps, rng, examination
        )
    else:
        raise ValueError(f"unknown design {design!r}")
    picked_a = score_a > score_b
    picked_b = score_b > score_a
    return float(np.mean(picked_a if truth_a > truth_b else picked_b))


def units_needed(
    design: str,
    success_prob: np.ndarray,
    ranking_a: np.ndarray,
    ranking_b: np.ndarray,
    target: float = 0.95,
    reps: int = 400,
    seed: int = 0,
    start: int = 16,
    max_units: int = 1_000_000,
    examination: np.ndarray | None = None,
) -> int | None:
    """Return the fewest units with which a design picks the better ranker.

    "Picks" means in at least ``target`` of simulated runs. Doubles the size until the target is met, then bisects to within 5 %; each
    size is simulated ``reps`` times with the same seed (common random numbers),
    so the answer is reproducible. ``None`` when ``max_units`` is not enough.
    """
    examination = _examination(examination)
    table = None
    if design == "interleaving":
        table = interleaving_table(ranking_a, ranking_b, len(examination))

    def meets(n_units: int) -> bool:
        rate = correct_pick_rate(
            design,
            success_prob,
            ranking_a,
            ranking_b,
            n_units,
            reps,
            np.random.default_rng(seed),
            examination,
            table,
        )
        return rate >= target

    low, high = 0, start
    while not meets(high):
        if high >= max_units:
            return None
        low, high = high, min(2 * high, max_units)
    while high - low > max(2, 0.05 * high):
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle, high)
    return high


def significant_share(
    rate_a, rate_b, units_per_arm: int, alpha: float = 0.05
) -> tuple[float, float]:
    """Return (share of runs with p < alpha, share of those where b looked better).

    ``rate_a`` and ``rate_b`` are per-run success rates of two arms of
    ``units_per_arm`` units each (as ``ab_runs`` returns them); each run gets the
    results' pooled two-proportion z-test.
    """
    hits = better = 0
    for a, b in zip(rate_a, rate_b, strict=True):
        p_value = two_proportion_p_value(
            round(b * units_per_arm),
            units_per_arm,
            round(a * units_per_arm),
            units_per_arm,
        )
        if p_value is not None and p_value < alpha:
            hits += 1
            better += int(b > a)
    return hits / len(rate_a), (better / hits if hits else 0.0)


def aa_false_positive_rate(
    rate: float,
    units_per_variant: int,
    runs: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
) -> float:
    """Return the share of simulated A/A tests (same true rate) called significant."""
    return ab_power(rate, rate, units_per_variant, runs, rng, alpha)[0]


def ab_power(
    control_rate: float,
    treatment_rate: float,
    units_per_variant: int,
    runs: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Return (share of runs significant, share of those with the true sign).

    Each run draws both variants' conversions and applies the results' pooled
    two-proportion z-test.
    """
    control = rng.binomial(units_per_variant, control_rate, size=runs)
    treatment = rng.binomial(units_per_variant, treatment_rate, size=runs)
    significant = 0
    right_sign = 0
    truth = np.sign(treatment_rate - control_rate)
    for c, t in zip(control.tolist(), treatment.tolist(), strict=True):
        p_value = two_proportion_p_value(t, units_per_variant, c, units_per_variant)
        if p_value is not None and p_value < alpha:
            significant += 1
            right_sign += int(np.sign(t - c) == truth)
    return significant / runs, (right_sign / significant if significant else 0.0)


def simulate_cuped(
    success_prob: np.ndarray,
    ranking_a: np.ndarray,
    ranking_b: np.ndarray,
    n_units: int,
    rng: np.random.Generator,
    examination: np.ndarray | None = None,
) -> dict:
    """Run one simulated A/B test with a pre-period; return its CUPED analysis.

    Each simulated unit first sees ranker a's list before the experiment (its
    pre-period conversion is the covariate), then its arm's list during it; both
    periods draw from the unit's own row of true chances, so units that succeed
    easily succeed in both.
    """
    examination = _examination(examination)
    k = len(examination)
    half = n_units // 2
    rows = rng.integers(success_prob.shape[0], size=n_units)
    before = _successes(success_prob, rows, ranking_a[rows, :k], examination, rng)
    during_items = np.concatenate(
        [ranking_a[rows[:half], :k], ranking_b[rows[half:], :k]]
    )
    during = _successes(success_prob, rows, during_items, examination, rng)
    x, y = before.any(-1).astype(float), during.any(-1).astype(float)
    variants = [
        CovariateVariant.from_values("a", y[:half], x[:half]),
        CovariateVariant.from_values("b", y[half:], x[half:]),
    ]
    return cuped_analysis(variants)

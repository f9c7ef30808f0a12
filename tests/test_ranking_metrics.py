"""Ranking metrics (issue 11, point 5): hand-computed examples, sklearn, and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from webapp.learning.ranking_metrics import (
    coverage,
    expected_hits,
    ndcg_at,
    precision_at,
    recall_at,
    shown_top,
)


def orders_within_ties(scores: np.ndarray):
    """Yield every ranking (positions, best first) that breaks the ties of ``scores``."""
    levels = sorted(set(scores.tolist()), reverse=True)
    groups = [np.flatnonzero(scores == level).tolist() for level in levels]
    for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
        yield [i for group in choice for i in group]


def hand_ndcg(relevant, order, k: int) -> float:
    """NDCG@k with binary gains, written out: sum of 1/log2(rank + 1) over relevant ranks."""
    dcg = sum(
        1 / math.log2(rank + 2) for rank, i in enumerate(order[:k]) if relevant[i]
    )
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, sum(relevant))))
    return dcg / ideal


def test_precision_and_recall_by_hand_without_ties():
    relevant = np.array([1, 0, 1, 0, 0, 1], bool)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])
    assert expected_hits(relevant, scores, 2) == 1
    assert precision_at(relevant, scores, 2) == 0.5
    assert precision_at(relevant, scores, 3) == pytest.approx(2 / 3)
    assert recall_at(relevant, scores, 3) == pytest.approx(2 / 3)
    assert recall_at(relevant, scores, 6) == 1.0
    # Fewer candidates than k: precision still divides by k.
    assert precision_at(relevant, scores, 10) == pytest.approx(0.3)


def test_a_tie_across_the_cut_counts_its_relevant_share():
    # Best: position 0 (not relevant); then a three-way tie holding one relevant
    # candidate, of which the top 2 takes one place: 1/3 of a hit expected.
    relevant = np.array([0, 1, 0, 0, 1], bool)
    scores = np.array([3.0, 2.0, 2.0, 2.0, 1.0])
    assert expected_hits(relevant, scores, 2) == pytest.approx(1 / 3)
    assert expected_hits(relevant, scores, 4) == pytest.approx(1.0)
    assert expected_hits(relevant, scores, 5) == pytest.approx(2.0)
    # Everyone level: the top 2 of 5 holds 2 x 2/5 relevant on average.
    level = np.zeros(5)
    assert expected_hits(relevant, level, 2) == pytest.approx(0.8)


def test_expected_hits_equal_the_mean_over_every_tie_order():
    rng = np.random.default_rng(4)
    for _ in range(20):
        scores = rng.integers(0, 3, size=7).astype(float)
        relevant = rng.random(7) < 0.4
        relevant[0] = True
        orders = list(orders_within_ties(scores))
        for k in (1, 3, 5):
            brute = np.mean([relevant[o[:k]].sum() for o in orders])
            assert expected_hits(relevant, scores, k) == pytest.approx(brute)


def test_ndcg_by_hand_and_as_sklearn_computes_it():
    relevant = np.array([0, 1, 1], bool)
    scores = np.array([0.9, 0.8, 0.1])
    by_hand = (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at(relevant, scores, 10) == pytest.approx(by_hand)
    assert ndcg_at(relevant, scores, 1) == 0.0
    assert ndcg_at(relevant, scores, 10) == pytest.approx(
        ndcg_score([relevant.astype(float)], [scores], k=10)
    )


def test_ndcg_agrees_with_a_written_out_formula_on_random_lists_with_ties():
    rng = np.random.default_rng(9)
    for _ in range(20):
        scores = rng.integers(0, 4, size=7).astype(float)
        relevant = (rng.random(7) < 0.4).tolist()
        relevant[3] = True
        for k in (2, 5):
            brute = np.mean(
                [hand_ndcg(relevant, o, k) for o in orders_within_ties(scores)]
            )
            assert ndcg_at(np.array(relevant), scores, k) == pytest.approx(brute)


def test_one_candidate_and_no_relevant_candidate():
    assert ndcg_at(np.array([True]), np.array([0.3]), 10) == 1.0
    with pytest.raises(ValueError):
        ndcg_at(np.array([False, False]), np.array([0.3, 0.1]), 10)
    with pytest.raises(ValueError):
        recall_at(np.array([False, False]), np.array([0.3, 0.1]), 10)
    with pytest.raises(ValueError):
        expected_hits(np.array([True]), np.array([0.3, 0.1]), 1)


def test_the_shown_list_breaks_ties_in_candidate_order_and_coverage_counts_it():
    assert shown_top(np.array([0.2, 0.5, 0.5, 0.1]), 2).tolist() == [1, 2]
    assert shown_top(np.zeros(4), 3).tolist() == [0, 1, 2]
    assert coverage([np.array([1, 2]), np.array([2, 3])], 10) == pytest.approx(0.3)
    assert coverage([], 10) == 0.0
    with pytest.raises(ValueError):
        coverage([np.array([1])], 0)

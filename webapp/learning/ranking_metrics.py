"""Ranking metrics for one brand's ranked candidates: precision@k, recall@k, NDCG@k.

Pure functions of a relevance vector (True: the brand later succeeded with that
candidate) and a score vector (higher ranks first). Tied scores are averaged
over every order of the tie, as scikit-learn's ``ndcg_score`` does by default
(McSherry and Najork, 2008): a ranking that puts most candidates level (the
popularity baseline, where most creators have no past success) is credited
with what a random order within each tie would give on average, not with
whatever order the ids happen to be in. Coverage, in contrast, reads the list
a brand is shown (``shown_top``: ties in candidate order, as Find influencers
breaks them).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import ndcg_score


def expected_hits(relevant: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Return the expected number of relevant candidates in the top ``k``, ties averaged.

    Tie groups that fit wholly above the cut count fully; the group the cut
    splits counts its relevant share times the places it gets.
    """
    relevant = np.asarray(relevant, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    if len(scores) != len(relevant):
        raise ValueError("relevant and scores must have the same length")
    _, group, size = np.unique(-scores, return_inverse=True, return_counts=True)
    hits = np.bincount(group, weights=relevant, minlength=len(size))
    before = np.concatenate([[0], np.cumsum(size)[:-1]])
    places = np.clip(k - before, 0, size)
    return float(np.sum(hits * places / size))


def precision_at(relevant: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Return the expected share of the top ``k`` places taken by relevant candidates."""
    return expected_hits(relevant, scores, k) / k


def recall_at(relevant: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Return the expected share of the relevant candidates that make the top ``k``."""
    total = int(np.count_nonzero(relevant))
    if total == 0:
        raise ValueError("recall needs at least one relevant candidate")
    return expected_hits(relevant, scores, k) / total


def ndcg_at(relevant: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Return NDCG@k with binary gains (scikit-learn's ``ndcg_score``, ties averaged)."""
    relevant = np.asarray(relevant, dtype=float)
    if not relevant.any():
        raise ValueError("NDCG needs at least one relevant candidate")
    if len(relevant) == 1:
        # ndcg_score refuses a single document; alone, it is ranked first.
        return 1.0
    return float(ndcg_score(relevant[None, :], np.asarray(scores)[None, :], k=k))


def shown_top(scores: np.ndarray, k: int) -> np.ndarray:
    """Return the positions of the ``k`` best scores, ties in candidate order.

    The order Find influencers shows (``serving.interleaved.top``).
    """
    return np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:k]


def coverage(shown: list[np.ndarray], catalogue: int) -> float:
    """Return the share of the ``catalogue`` that appears in at least one shown list.

    :param shown: the candidate ids each brand was shown.
    """
    if catalogue <= 0:
        raise ValueError("the catalogue is empty")
    if not shown:
        return 0.0
    return len(np.unique(np.concatenate(shown))) / catalogue

"""Choosing the algorithm to serve: held-out ROC AUC first, then measured serving cost.

A candidate whose held-out ROC AUC is within ``AUC_TOLERANCE`` of the best is
as good as the best (the selection windows cannot tell them apart); of those,
the one that serves cheapest wins. The cost is measured during training: the
time each candidate's model (fitted on the last selection window's training
rows) takes to score a fixed batch of rows in the calling thread, as serving
scores them. Explanations cost the same for every candidate (one linear pass:
``explanations``), so scoring is the cost that differs.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from plugins.match_success.artifact import _positive

# The expected order when no cost was measured (a stored run, a test): one row
# through logistic regression takes microseconds, gradient boosting's 300 small
# trees more, the random forest's 120 deep trees more again, and the ensemble
# runs all three.
SERVING_COST_ORDER = (
    "logistic_regression",
    "gradient_boosting",
    "random_forest",
    "soft_voting",
)
# A cheaper candidate whose held-out ROC AUC is within this of the best is served.
AUC_TOLERANCE = 0.002
COST_ROWS = 1000
COST_REPEATS = 3


def serving_ms(model: Any, rows: np.ndarray, repeats: int = COST_REPEATS) -> float:
    """Return the best of ``repeats`` times (ms) to score ``rows`` in one thread.

    An ensemble (``members``) is timed as serving runs it: each member in turn.
    """
    members = getattr(model, "members", None) or [model]
    saved = [_single_thread(m) for m in members]
    try:
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            np.mean([_positive(m, rows) for m in members], axis=0)
            best = min(best, time.perf_counter() - started)
    finally:
        for member, n_jobs in zip(members, saved, strict=True):
            if n_jobs is not None:
                member.set_params(n_jobs=n_jobs)
    return round(best * 1000, 3)


def _single_thread(model: Any) -> int | None:
    """Make ``model`` predict in the calling thread; return its n_jobs to restore."""
    params = model.get_params() if hasattr(model, "get_params") else {}
    if "n_jobs" not in params:
        return None
    model.set_params(n_jobs=1)
    return params["n_jobs"]


def choose_algorithm(
    scores: dict[str, dict[str, Any]], tolerance: float = AUC_TOLERANCE
) -> tuple[str, dict[str, Any]]:
    """Return the candidate to serve and why: the cheapest within ``tolerance`` of the best.

    The best is the highest held-out ROC AUC on the selection windows (the lower
    Brier score breaks exact ties). Any candidate whose AUC is at most
    ``tolerance`` below it counts as as good; of those the cheapest to serve
    wins: by the measured ``serving_ms`` of each score when every one of them
    has it, else by ``SERVING_COST_ORDER``.
    """
    best = min(scores, key=lambda n: (-scores[n]["roc_auc"], scores[n]["brier"]))
    best_auc = scores[best]["roc_auc"]
    as_good = [n for n in scores if scores[n]["roc_auc"] >= best_auc - tolerance]
    measured = all(scores[n].get("serving_ms") is not None for n in scores)
    order = {name: k for k, name in enumerate(SERVING_COST_ORDER)}

    def cost(name: str) -> tuple:
        if measured:
            return (scores[name]["serving_ms"], order.get(name, len(order)), name)
        return (order.get(name, len(order)), name)

    chosen = min(as_good, key=cost)
    basis = (
        f"measured: ms to score {COST_ROWS:,} rows in one thread"
        if measured
        else "expected order (no cost measured)"
    )
    reason = _reason(scores, chosen, best, as_good, tolerance, measured)
    return chosen, {
        "best": best,
        "best_roc_auc": round(best_auc, 6),
        "chosen": chosen,
        "tolerance": tolerance,
        "within_tolerance": sorted(as_good, key=cost),
        "cost_basis": basis,
        "serving_ms": {n: scores[n].get("serving_ms") for n in scores}
        if measured
        else None,
        "reason": reason,
    }


def _reason(scores, chosen, best, as_good, tolerance, measured) -> str:
    """Say in one sentence why ``chosen`` serves."""

    def cost(name: str) -> str:
        return (
            f", {scores[name]['serving_ms']:g} ms per {COST_ROWS:,} rows"
            if measured
            else ""
        )

    best_auc = scores[best]["roc_auc"]
    if chosen == best:
        reason = f"{best} had the best held-out ROC AUC ({best_auc:.4f}{cost(best)})"
        if len(as_good) > 1:
            reason += " and is also the cheapest to serve of those within the tolerance"
        return reason
    return (
        f"{chosen} (ROC AUC {scores[chosen]['roc_auc']:.4f}{cost(chosen)}) is within "
        f"{tolerance:g} of the best, {best} ({best_auc:.4f}{cost(best)}), and "
        "cheaper to serve"
    )

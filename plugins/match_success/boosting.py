"""Gradient boosting tuned on time: monotonic constraints by name, a small search, early stopping.

Every judgement here is made on the *tail* of the rows a model is trained on:
the latest ``TAIL_FRACTION`` of them by proposal time, never a random split and
never a window the model is later scored on (the caller passes training rows
only). Each configuration of ``SEARCH`` is fitted on the rows before the tail
whose labels were known when the tail starts, stops early when its log loss on
the tail has not improved for ``PATIENCE`` iterations, and is judged by its best
log loss there. The winner is fitted on all the rows (``estimator``) for the
number of iterations early stopping kept.

Monotonic constraints come from ``MONOTONIC`` by feature name, so a feature
added, removed or reordered elsewhere never shifts them; a name not listed is
unconstrained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score
from threadpoolctl import threadpool_limits

from webapp.model_types import TrainingData

# The direction success moves in when the feature grows, where it is known from
# what the feature means (not from any one marketplace's data); every other
# feature is unconstrained. ``budget_shortfall`` is min(ln(budget / rate), 0):
# closer to zero is a smaller shortfall, hence +1. Slower replies never help.
MONOTONIC: dict[str, int] = {
    "influencer_success_rate": 1,
    "company_success_rate": 1,
    "company_partner_rating": 1,
    "budget_shortfall": 1,
    "niche_primary_match": 1,
    "audience_country_match": 1,
    "log_response_hours": -1,
}

# The small search: shallow-and-fast to larger-and-more-regularised trees.
SEARCH: tuple[dict[str, Any], ...] = (
    {
        "learning_rate": 0.1,
        "max_leaf_nodes": 7,
        "min_samples_leaf": 40,
        "l2_regularization": 1.0,
    },
    {
        "learning_rate": 0.1,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 40,
        "l2_regularization": 1.0,
    },
    {
        "learning_rate": 0.1,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 100,
        "l2_regularization": 5.0,
    },
    {
        "learning_rate": 0.05,
        "max_depth": 3,
        "max_leaf_nodes": 8,
        "min_samples_leaf": 40,
        "l2_regularization": 0.0,
    },
    {
        "learning_rate": 0.05,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 100,
        "l2_regularization": 10.0,
    },
    {
        "learning_rate": 0.2,
        "max_leaf_nodes": 7,
        "min_samples_leaf": 200,
        "l2_regularization": 3.0,
    },
)
# Used untuned when the tail cannot judge (too few rows or one class only).
DEFAULT = SEARCH[1]
MAX_ITER = 500
PATIENCE = 15
TAIL_FRACTION = 0.2
MIN_TAIL_ROWS = 200
MIN_TAIL_MINORITY = 20
SEED = 7
# Boosting fits many small models, each iteration a few OpenMP regions: on the
# shared 2-core machine two threads thrash (one search on 2,220 rows: 6 s in
# one thread, 153 s wall and 38 s CPU in two, at load 14), so it runs in one.
THREADS = 1


@dataclass
class Tuned:
    """The configuration to fit and how it was chosen (JSON-safe ``record``)."""

    params: dict[str, Any]
    record: dict[str, Any]


def monotonic_constraints(feature_names: list[str] | tuple[str, ...]) -> list[int]:
    """Return one constraint per feature, in order: ``MONOTONIC``'s by name, else 0."""
    return [int(MONOTONIC.get(name, 0)) for name in feature_names]


def estimator(tuned: Tuned, feature_names) -> Any:
    """Return the unfitted classifier ``tuned`` chose: its configuration, its iterations."""
    params = dict(tuned.params)
    return HistGradientBoostingClassifier(
        **params,
        monotonic_cst=monotonic_constraints(feature_names),
        early_stopping=False,
        random_state=SEED,
    )


def validation_tail(
    data: TrainingData, rows: np.ndarray, fraction: float = TAIL_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Split training ``rows`` (ascending) into (fit rows, validation tail) by time.

    The tail is the latest ``fraction`` of the rows by proposal time; the fit
    rows are the earlier ones proposed, and labelled, before the tail's first
    proposal, as a model trained on that day would have had them.
    """
    rows = np.asarray(rows)
    cut = int(round(len(rows) * (1 - fraction)))
    tail = rows[cut:]
    if len(tail) == 0:
        return rows, tail
    start = data.times[tail[0]]
    before = rows[:cut]
    known = (data.times[before] < start) & (data.label_times[before] < start)
    return before[known], tail


def tune(data: TrainingData, rows: np.ndarray) -> Tuned:
    """Choose a configuration and its iteration count on the tail of ``rows``."""
    names = list(data.feature_names)
    fit_rows, tail = validation_tail(data, rows)
    unusable = _unusable(data.y, fit_rows, tail)
    base = {
        "fit_rows": int(len(fit_rows)),
        "tail_rows": int(len(tail)),
        "tail_from": str(data.times[tail[0]])[:10] if len(tail) else None,
        "tail_to": str(data.times[tail[-1]])[:10] if len(tail) else None,
        "monotonic": {n: MONOTONIC[n] for n in names if MONOTONIC.get(n)},
    }
    if unusable:
        return Tuned(
            {**DEFAULT, "max_iter": 200},
            {
                **base,
                "tuned": False,
                "note": unusable,
                "chosen": {**DEFAULT, "max_iter": 200},
            },
        )
    with threadpool_limits(limits=THREADS):
        return _search(data, fit_rows, tail, base)


def fit(model: Any, data: TrainingData, rows: np.ndarray) -> Any:
    """Fit an estimator holding a boosted model on ``rows`` in ``THREADS`` threads."""
    with threadpool_limits(limits=THREADS):
        return model.fit(data.X[rows], data.y[rows])


def _search(data, fit_rows, tail, base) -> Tuned:
    """Fit every configuration of ``SEARCH`` on ``fit_rows``, early-stopped on ``tail``."""
    names = list(data.feature_names)
    X, y = data.X[fit_rows], data.y[fit_rows]
    X_val, y_val = data.X[tail], data.y[tail]
    tried = []
    for config in SEARCH:
        model = HistGradientBoostingClassifier(
            **config,
            max_iter=MAX_ITER,
            monotonic_cst=monotonic_constraints(names),
            early_stopping=True,
            scoring="loss",
            n_iter_no_change=PATIENCE,
            random_state=SEED,
        ).fit(X, y, X_val=X_val, y_val=y_val)
        # validation_score_[k] is minus the tail's log loss after k iterations.
        best = max(1, int(np.argmax(model.validation_score_)))
        p = _staged_at(model, X_val, best)
        tried.append(
            {
                **config,
                "max_iter": best,
                "validation_log_loss": round(
                    float(log_loss(y_val, p, labels=[0, 1])), 5
                ),
                "validation_roc_auc": round(float(roc_auc_score(y_val, p)), 5),
            }
        )
    winner = min(
        tried, key=lambda t: (t["validation_log_loss"], -t["validation_roc_auc"])
    )
    chosen = {k: v for k, v in winner.items() if not k.startswith("validation_")}
    return Tuned(
        chosen,
        {
            **base,
            "tuned": True,
            "judged_by": "log loss on the tail",
            "tried": tried,
            "chosen": winner,
        },
    )


def _staged_at(model: Any, X: np.ndarray, iterations: int) -> np.ndarray:
    """Return the success probability after ``iterations`` boosting iterations."""
    for k, proba in enumerate(model.staged_predict_proba(X), start=1):
        if k == iterations:
            return proba[:, 1]
    return model.predict_proba(X)[:, 1]


def _unusable(y: np.ndarray, fit_rows: np.ndarray, tail: np.ndarray) -> str | None:
    """Say why the tail cannot judge a search, or None when it can."""
    if len(tail) < MIN_TAIL_ROWS or len(fit_rows) < MIN_TAIL_ROWS:
        return f"too few rows to hold out a validation tail ({len(fit_rows)} + {len(tail)})"
    for part, rows in (("fit rows", fit_rows), ("tail", tail)):
        positives = int(y[rows].sum())
        if min(positives, len(rows) - positives) < MIN_TAIL_MINORITY:
            return f"the {part} hold too few of one class to judge on"
    return None

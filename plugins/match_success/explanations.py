"""Per-feature contributions of a match score, in one pass over the rows.

A contribution is p(row) - p(row with that feature at its training median), in
points of raw (uncalibrated) probability. Substituting each feature and scoring
again costs a model call on rows x features (26 rows for each asked), which
for the tree ensembles was most of a batch's time. So:

- a logistic regression is explained exactly and in closed form: its logit is
  linear, so substituting feature j subtracts w_j (x_j - median_j) from it;
- any other algorithm is explained by a *linear surrogate*: a linear model of
  the served model's logit fitted at training time on the training rows, whose
  fidelity (R² against the model's own logits on the final window) is stored
  in the metrics and shown on the model page. Its contributions are computed
  as for the logistic regression. They describe the model's average linear
  trend, not the interactions a forest may use: the page says so.

Artifacts trained before surrogates existed are explained by substitution, in
one model call on the stacked variants, as before.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LinearRegression

from plugins.match_success.artifact import EPS, linear_parts

# Rows the surrogate is fitted on (a sample of the training rows keeps it cheap).
SURROGATE_ROWS = 20_000


class LinearExplainer(NamedTuple):
    """p = expit((x - offset) @ weights + intercept), exact or a fitted surrogate."""

    offset: np.ndarray
    weights: np.ndarray
    intercept: float
    # "exact" for a logistic regression, "surrogate" for a fitted imitation.
    kind: str
    # R² of the surrogate against the model's logit (1.0 when exact).
    fidelity: float = 1.0

    def contributions(self, rows: np.ndarray, medians: np.ndarray) -> np.ndarray:
        """Return p(row) - p(row with feature j at its median), for every row and j."""
        z = (np.asarray(rows, float) - self.offset) @ self.weights + self.intercept
        shift = (np.asarray(rows, float) - medians) * self.weights
        return expit(z)[:, None] - expit(z[:, None] - shift)


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, EPS, 1 - EPS)
    return np.log(clipped / (1 - clipped))


def exact(estimator: Any) -> LinearExplainer | None:
    """Return the closed-form explainer of a scaled logistic regression, else None."""
    parts = linear_parts(estimator)
    if parts is None:
        return None
    offset, weights, intercept = parts
    return LinearExplainer(offset, weights, intercept, "exact")


def fit_surrogate(
    raw_probability, X: np.ndarray, judged_on: np.ndarray, seed: int = 7
) -> LinearExplainer:
    """Fit a linear model of ``raw_probability(rows)``'s logit on ``X``.

    :param raw_probability: the served model's raw probability for rows.
    :param judged_on: rows on which the fidelity (R²) is measured.
    """
    rng = np.random.default_rng(seed)
    sample = X
    if len(X) > SURROGATE_ROWS:
        sample = X[rng.choice(len(X), SURROGATE_ROWS, replace=False)]
    model = LinearRegression().fit(sample, _logit(raw_probability(sample)))
    target = _logit(raw_probability(judged_on))
    fitted = judged_on @ model.coef_ + model.intercept_
    spread = float(np.sum((target - target.mean()) ** 2))
    fidelity = 1 - float(np.sum((target - fitted) ** 2)) / spread if spread else 0.0
    return LinearExplainer(
        np.zeros(X.shape[1]),
        np.asarray(model.coef_, float),
        float(model.intercept_),
        "surrogate",
        round(fidelity, 4),
    )


def describe(explainer: LinearExplainer | None) -> dict[str, Any]:
    """Return what the model page says about how reasons are computed."""
    if explainer is None:
        return {
            "method": "substitution",
            "note": "each feature set to its training median and the rows "
            "scored again (one model call on the stacked variants)",
        }
    if explainer.kind == "exact":
        return {
            "method": "exact",
            "note": "closed form of the logistic regression, one pass",
        }
    return {
        "method": "linear surrogate",
        "fidelity_r2": explainer.fidelity,
        "note": "a linear model fitted to this model's logits explains it, one "
        "pass; it shows the average linear trend, not feature interactions",
    }

"""What a trained risk model stores, and how it scores a row against its training data.

Everything a score depends on is fitted on training rows and kept here: the
engagement-for-audience line, the medians and spreads of the factor columns,
the isolation forest with its sorted training scores, and optionally the
failure classifier with its sorted training probabilities. Scoring a row reads
only the row and these, so a row gets the same answer alone or in any batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# (name, input column or "derived", direction): direction +1 means higher values
# raise the risk, -1 that lower values do. Factors only ever push risk up.
FACTORS: tuple[tuple[str, str, int], ...] = (
    ("engagement_for_audience", "derived", 1),
    ("log_follower_growth", "log_follower_growth", 1),
    ("log_response_hours", "log_response_hours", 1),
    ("budget_shortfall", "budget_shortfall", -1),
    ("influencer_success_rate", "influencer_success_rate", -1),
    ("company_success_rate", "company_success_rate", -1),
    ("company_partner_rating", "company_partner_rating", -1),
    ("content_quality", "content_quality", -1),
    ("posts_per_week", "posts_per_week", -1),
    ("brand_fit", "brand_fit", -1),
)
FACTOR_NAMES = [name for name, _, _ in FACTORS]
FACTOR_LABELS = {
    "engagement_for_audience": "Engagement implausibly high for the audience size",
    "log_follower_growth": "Follower spike since the previous profile",
    "log_response_hours": "Very slow responses",
    "budget_shortfall": "Budget below the creator's usual rate",
    "influencer_success_rate": "Weak track record of the creator",
    "company_success_rate": "Brand's past collaborations went badly",
    "company_partner_rating": "Creators rated the brand poorly",
    "content_quality": "Low content quality",
    "posts_per_week": "Posts rarely",
    "brand_fit": "Little overlap with the brand's niches",
}
# MAD to standard deviation for normal data; spreads never fall below this floor.
MAD_SCALE = 1.4826
MIN_SPREAD = 1e-3


def factor_values(
    rows: np.ndarray, feature_names: list[str], slope: float, intercept: float
) -> np.ndarray:
    """Return the (n, len(FACTORS)) raw factor values of feature ``rows``."""
    index = {name: j for j, name in enumerate(feature_names)}
    rows = np.asarray(rows, dtype=float)
    columns = []
    for _, source, _ in FACTORS:
        if source == "derived":
            expected = intercept + slope * rows[:, index["log_followers"]]
            columns.append(rows[:, index["log_engagement"]] - expected)
        else:
            columns.append(rows[:, index[source]])
    return np.column_stack(columns)


def engagement_line(rows: np.ndarray, feature_names: list[str]) -> tuple[float, float]:
    """Fit log engagement on log followers robustly (Theil-Sen); return (slope, intercept)."""
    from scipy.stats import theilslopes

    index = {name: j for j, name in enumerate(feature_names)}
    x = rows[:, index["log_followers"]]
    y = rows[:, index["log_engagement"]]
    if len(x) < 3 or np.ptp(x) == 0:
        return 0.0, float(np.median(y)) if len(y) else 0.0
    # Theil-Sen is quadratic in rows; a fixed, evenly spaced subsample is plenty.
    step = max(1, len(x) // 2000)
    slope, intercept, _, _ = theilslopes(y[::step], x[::step])
    return float(slope), float(intercept)


def percentile_of(sorted_reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Return 0-100: the share of the reference below each value (ties count half)."""
    n = len(sorted_reference)
    below = np.searchsorted(sorted_reference, values, side="left")
    at_or_below = np.searchsorted(sorted_reference, values, side="right")
    return 100.0 * (below + at_or_below) / (2.0 * n)


@dataclass
class RiskArtifact:
    """A fitted risk scorer: anomaly model, optional failure classifier, factor scales."""

    feature_names: list[str]
    slope: float
    intercept: float
    medians: np.ndarray
    spreads: np.ndarray
    forest: Any
    forest_reference: np.ndarray
    classifier: Any | None
    classifier_reference: np.ndarray | None
    blend_weight: float
    medium_from: float
    high_from: float

    def factors(self, rows: np.ndarray) -> np.ndarray:
        """Return the robust z-score of every factor against the training rows."""
        values = factor_values(rows, self.feature_names, self.slope, self.intercept)
        return (values - self.medians) / self.spreads

    def anomaly_percentile(self, rows: np.ndarray) -> np.ndarray:
        """Return how unusual each row is next to past successes (0-100)."""
        z = np.nan_to_num(self.factors(rows), nan=0.0, posinf=50.0, neginf=-50.0)
        outlying = -self.forest.score_samples(np.clip(z, -50, 50))
        return percentile_of(self.forest_reference, outlying)

    def failure_percentile(self, rows: np.ndarray) -> np.ndarray | None:
        """Return the failure classifier's probability as a training percentile (0-100)."""
        if self.classifier is None:
            return None
        p = self.classifier.predict_proba(np.asarray(rows, dtype=float))[:, 1]
        return percentile_of(self.classifier_reference, p)

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Return the risk score 0-100 per row (blended when a classifier exists)."""
        anomaly = self.anomaly_percentile(rows)
        failure = self.failure_percentile(rows)
        if failure is None:
            return anomaly
        return (1 - self.blend_weight) * anomaly + self.blend_weight * failure

    def levels(self, score: np.ndarray) -> np.ndarray:
        """Return ``low``, ``medium`` or ``high`` per score."""
        return np.where(
            score >= self.high_from,
            "high",
            np.where(score >= self.medium_from, "medium", "low"),
        )


def contributions(z: np.ndarray) -> np.ndarray:
    """Return how much each factor pushes risk up: its z-score in the risky direction, if positive."""
    directions = np.array([d for _, _, d in FACTORS], dtype=float)
    pushed = np.nan_to_num(z, nan=0.0, posinf=50.0, neginf=-50.0) * directions
    return np.clip(pushed, 0.0, 50.0)

"""The rule-based risk score, served when no risk model can.

Documented points per warning sign, on the same columns a model reads (the
feature set ``pair_checks``); the score is their sum, capped at 100:

- base 10;
- follower spike: followers grew more than half since the previous profile
  (log growth > log 1.5): +30;
- very slow responses: usually more than two days (48 h) to answer: +20;
- engagement above 15 % (rarely real for an audience of any size): +20;
- budget below the creator's rate per post: +15;
- the creator's rated track record below 35 % success: +15;
- the brand's past collaborations mostly unsatisfied (below 35 % success): +10.

Levels use the model's default thresholds: medium from 60, high from 85.
"""

from __future__ import annotations

import numpy as np

from plugins.risk.artifact import FACTOR_NAMES
from webapp.learning.feature_sets import names
from webapp.model_types import Predictions

BASE = 10.0
MEDIUM_FROM, HIGH_FROM = 60.0, 85.0
# (factor name, points, test on the feature columns by name)
RULES = (
    ("log_follower_growth", 30.0, lambda c: c["log_follower_growth"] > np.log(1.5)),
    ("log_response_hours", 20.0, lambda c: c["log_response_hours"] > np.log(48.0)),
    ("engagement_for_audience", 20.0, lambda c: c["log_engagement"] > np.log10(0.15)),
    ("budget_shortfall", 15.0, lambda c: c["budget_shortfall"] < 0),
    ("influencer_success_rate", 15.0, lambda c: c["influencer_success_rate"] < 0.35),
    ("company_success_rate", 10.0, lambda c: c["company_success_rate"] < 0.35),
)


def rule_based(rows: np.ndarray) -> Predictions:
    """Return the rule-based score, level and the points each rule added."""
    columns = {name: rows[:, j] for j, name in enumerate(names("pair_checks"))}
    points = np.zeros((len(rows), len(FACTOR_NAMES)))
    for factor, value, test in RULES:
        hit = np.nan_to_num(test(columns).astype(float))
        points[:, FACTOR_NAMES.index(factor)] = value * hit
    score = np.minimum(BASE + points.sum(axis=1), 100.0)
    level = np.where(
        score >= HIGH_FROM, "high", np.where(score >= MEDIUM_FROM, "medium", "low")
    )
    return Predictions(
        score=score,
        level=level,
        factors=points,
        factor_names=list(FACTOR_NAMES),
        factor_values=points,
    )

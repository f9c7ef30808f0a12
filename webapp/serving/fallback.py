"""The rule-based scorer that answers when no model can serve.

A documented weighted sum of the same features the models see, squashed to a
probability with the logistic function. Each weight says how much one unit of a
feature (measured from a typical value) moves the log-odds of success:

| feature | centre | weight | why |
| --- | --- | --- | --- |
| niche_primary_match | 0 | +1.0 | the creator's main niche is one the brand targets |
| niche_secondary_match | 0 | +0.5 | a secondary niche matches |
| niche_related_match | 0 | +0.3 | the niche is adjacent to the brand's |
| audience_country_match | 0 | +0.6 | the audience lives in a target market |
| location_match | 0 | +0.2 | same country as the brand |
| log_budget_ratio | 0.7 | +0.5 | budget covers about two posts or more (clipped -2..1.5) |
| log_engagement | -1.5 | +0.8 | engagement above ~3 % |
| content_quality | 6 | +0.12 | per point of quality above 6/10 |
| log_response_hours | 2.5 | -0.35 | slow replies (above ~12 h, in log hours) hurt |
| influencer_success_rate | 0.5 | +1.5 | the creator's track record |
| company_partner_rating | 3.5 | +0.2 | how creators rated the brand |

Its confidence is fixed and low (0.2): these weights are judgement, not evidence.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from webapp.learning.features import FEATURE_NAMES

INTERCEPT = -0.3
CONFIDENCE = 0.2
RULES: dict[str, tuple[float, float]] = {
    "niche_primary_match": (0.0, 1.0),
    "niche_secondary_match": (0.0, 0.5),
    "niche_related_match": (0.0, 0.3),
    "audience_country_match": (0.0, 0.6),
    "location_match": (0.0, 0.2),
    "log_budget_ratio": (0.7, 0.5),
    "log_engagement": (-1.5, 0.8),
    "content_quality": (6.0, 0.12),
    "log_response_hours": (2.5, -0.35),
    "influencer_success_rate": (0.5, 1.5),
    "company_partner_rating": (3.5, 0.2),
}
_CLIP = {"log_budget_ratio": (-2.0, 1.5)}
_CENTRE = np.zeros(len(FEATURE_NAMES))
_WEIGHT = np.zeros(len(FEATURE_NAMES))
for _name, (_centre, _weight) in RULES.items():
    _CENTRE[FEATURE_NAMES.index(_name)] = _centre
    _WEIGHT[FEATURE_NAMES.index(_name)] = _weight


def _terms(rows: np.ndarray) -> np.ndarray:
    """Return each rule's log-odds term per row."""
    values = rows.copy()
    for name, (low, high) in _CLIP.items():
        j = FEATURE_NAMES.index(name)
        values[:, j] = np.clip(values[:, j], low, high)
    return (values - _CENTRE) * _WEIGHT


def score(rows: np.ndarray) -> np.ndarray:
    """Return the rule-based success probability per row."""
    return expit(INTERCEPT + _terms(rows).sum(axis=1))


def explain(rows: np.ndarray) -> np.ndarray:
    """Return each feature's contribution to the probability (log-odds term x slope)."""
    p = score(rows)
    return _terms(rows) * (p * (1 - p))[:, None]

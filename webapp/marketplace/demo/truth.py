"""The hidden ground truth of the demo world: success probability and expected ROI.

Every input below is a stored attribute (influencer, company or collaboration row)
except ``rel``, the influencer's hidden reliability, which a model can only infer
from past outcomes (track record), and the small noise ``eps``.

Inputs, per collaboration of influencer i with company c::

    fit     = 1    if i.niche is in c.target_niches (which include c.industry)
              0.5  elif a secondary niche of i, or a niche related to i.niche
                   (taxonomy.RELATED_NICHES), is in c.target_niches
              0    otherwise
    geo     = 1 if i.country is in c.target_countries else 0
    b       = ln(budget / i.rate_per_post)              (posts paid for, in logs)
    short   = min(b, 0)                                  (paying less than one post)
    rich    = min(max(b, 0), ln 6)
    z_eng   = (ln i.engagement_rate - ln(0.08) + 0.316 ln(i.followers / 5000)) / 0.35
              (engagement relative to what is normal for the audience size)
    z_q     = (i.content_quality - 6) / 1.5
    z_resp  = ln(i.avg_response_hours / 8)
    rel     ~ N(0, 0.3^2) per influencer (hidden reliability, profiles.RELIABILITY_SD)
    eps     ~ N(0, 0.15^2) per collaboration

Success probability::

    logit p = -1.9 + 2.0 fit + 0.8 geo + 1.8 short + 0.4 rich
              + 0.7 z_eng + 0.6 z_q - 0.6 z_resp
              + 0.45 fit * z_eng          (engagement counts more in a fitting niche)
              + 0.4 short * z_q           (good creators under-deliver when underpaid)
              + rel + eps

With the demo's pair choice this gives a success rate near 54 % and a best
achievable ROC AUC (true p against the sampled labels) near 0.83. ``rel`` is kept
at sd 0.3: at 0.4 the part no model can see (``rel`` is only weakly recoverable
from a handful of past outcomes) alone cost about 0.013 AUC, too much for a model
to get within 0.02 of the best.

ROI (return as a fraction of spend) depends on the same attributes::

    roi_success = 0.3 + 0.35 fit + 0.15 geo + 0.15 z_eng + 0.1 z_q
                  - 0.05 ln(i.followers / 50000)
    roi_failure = -0.45 + 0.1 fit + 0.05 z_eng
    expected_roi = max(p roi_success + (1 - p) roi_failure, -1)

A finished collaboration succeeds with probability p; the brand's reported ROI is
the level for the sampled result plus N(0, 0.25^2) noise, floored at -1, so its
mean is ``expected_roi`` (up to the floor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from webapp.marketplace.demo.collaborations import Pairs
from webapp.marketplace.demo.profiles import (
    ENGAGEMENT_SD,
    Companies,
    Influencers,
    country_match,
    expected_log_engagement,
    niche_fit,
)

INTERCEPT = -1.9
NOISE_SD, ROI_NOISE_SD = 0.15, 0.25


@dataclass
class Truth:
    """Hidden probability and ROI per collaboration, plus the drivers behind them."""

    probability: np.ndarray
    expected_roi: np.ndarray
    roi_success: np.ndarray
    roi_failure: np.ndarray
    fit: np.ndarray
    geo: np.ndarray
    log_ratio: np.ndarray
    z_engagement: np.ndarray
    z_quality: np.ndarray
    z_response: np.ndarray


def observable_logit(fit, geo, log_ratio, z_eng, z_q, z_resp, engagement=True):
    """Return the part of logit p that stored attributes determine (no rel, no eps).

    ``engagement=False`` leaves engagement's terms out: how a model blind to
    engagement would rank (simulated experiments compare such versions).
    """
    short, rich = np.minimum(log_ratio, 0.0), np.clip(log_ratio, 0.0, np.log(6.0))
    z_eng = z_eng if engagement else np.zeros_like(z_eng)
    return (
        INTERCEPT
        + 2.0 * fit
        + 0.8 * geo
        + 1.8 * short
        + 0.4 * rich
        + 0.7 * z_eng
        + 0.6 * z_q
        - 0.6 * z_resp
        + 0.45 * fit * z_eng
        + 0.4 * short * z_q
    )


def profile_logit(truth: Truth, engagement: bool = True) -> np.ndarray:
    """Return ``observable_logit`` of every collaboration of ``truth``."""
    return observable_logit(
        truth.fit,
        truth.geo,
        truth.log_ratio,
        truth.z_engagement,
        truth.z_quality,
        truth.z_response,
        engagement,
    )


def compute_truth(
    rng: np.random.Generator, inf: Influencers, comp: Companies, pairs: Pairs
) -> Truth:
    """Return the ground truth for every collaboration (see the module docstring)."""
    i, c = pairs.influencer, pairs.company
    fit = niche_fit(inf, comp, i, c)
    geo = country_match(inf, comp, i, c)
    b = np.log(pairs.budget / inf.rate[i])
    followers = inf.followers[i]
    z_eng = (np.log(inf.engagement[i]) - expected_log_engagement(followers)) / (
        ENGAGEMENT_SD
    )
    z_q = (inf.quality[i] - 6.0) / 1.5
    z_resp = np.log(inf.response_hours[i] / 8.0)
    logit = (
        observable_logit(fit, geo, b, z_eng, z_q, z_resp)
        + inf.reliability[i]
        + rng.normal(0.0, NOISE_SD, len(i))
    )
    p = expit(logit)
    roi_success = (
        0.3
        + 0.35 * fit
        + 0.15 * geo
        + 0.15 * z_eng
        + 0.1 * z_q
        - 0.05 * np.log(followers / 50_000)
    )
    roi_failure = -0.45 + 0.1 * fit + 0.05 * z_eng
    return Truth(
        probability=p,
        expected_roi=np.maximum(p * roi_success + (1 - p) * roi_failure, -1.0),
        roi_success=roi_success,
        roi_failure=roi_failure,
        fit=fit,
        geo=geo,
        log_ratio=b,
        z_engagement=z_eng,
        z_quality=z_q,
        z_response=z_resp,
    )

"""Serving expected ROI: the routed roi version's conformal interval, or a history estimate.

When no roi version can serve, the fallback is an honest simple estimate from
rated history: the median ROI brands reported for this brand's past
collaborations (at least FALLBACK_MIN_ROWS of them), else for the creator's
niche, else for everyone, with the empirical quantiles of those ROIs as a wide
interval at ROI_FALLBACK_COVERAGE. With no reported ROI at all it says 0 with the
interval [-1, 1] (a total loss to doubling the spend). Every answer is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.learning.consent import excluded_collaborations
from webapp.models import Collaboration, Company, Influencer, Outcome
from webapp.registry.plugins import installed_types
from webapp.serving import pools, prediction_log
from webapp.serving.predict import Usable, model_failed, routed_groups, usable_version
from webapp.serving.routing import FallsBack, ServedVersion
from webapp.serving.state import current_pool

ROI_TYPE = "roi"
FALLBACK_MIN_ROWS = 5
NO_HISTORY = (0.0, -1.0, 1.0)


@dataclass
class RoiScored(FallsBack):
    """Expected ROI and interval for n rows, and who produced them."""

    expected: np.ndarray
    low: np.ndarray
    high: np.ndarray
    coverage: float
    version: ServedVersion | None
    variant: str | None
    fallback_reason: str | None
    # The staged rollout that routed the rows (``variant`` is then its arm).
    rollout: int | None = None

    def answer(self, i: int) -> dict[str, Any]:
        """Return the public description of row ``i``."""
        return {
            "expected_roi": round(float(self.expected[i]), 4),
            "interval": [round(float(self.low[i]), 4), round(float(self.high[i]), 4)],
            "coverage": round(self.coverage, 4),
            "model": {
                "type": ROI_TYPE,
                "version": self.version.version if self.version else None,
            },
            "fallback": self.fallback,
            "fallback_reason": self.fallback_reason,
        }


def reported_roi(where) -> np.ndarray:
    """Return the ROIs brands reported on collaborations matching ``where``."""
    values = db.session.scalars(
        select(Outcome.roi_achieved)
        .join(Outcome.collaboration)
        .join(Collaboration.influencer)
        .where(
            Outcome.rater_side == "company",
            Outcome.roi_achieved.is_not(None),
            Collaboration.id.not_in(excluded_collaborations()),
            where,
        )
    ).all()
    return np.array(values, dtype=float)


def history_estimate(
    company: Company,
    influencer: Influencer,
    coverage: float,
    seen: dict[tuple[str, Any], np.ndarray] | None = None,
) -> tuple[float, float, float, str]:
    """Return (median, low, high, basis) from the brand's, niche's or everyone's ROIs.

    :param seen: ROIs already read in this request, by (basis, key), reused.
    """
    seen = {} if seen is None else seen
    for basis, key, where in (
        ("brand", company.id, Collaboration.company_id == company.id),
        ("niche", influencer.niche, Influencer.niche == influencer.niche),
        ("all", None, Collaboration.id.is_not(None)),
    ):
        if (basis, key) not in seen:
            seen[(basis, key)] = reported_roi(where)
        values = seen[(basis, key)]
        if len(values) >= FALLBACK_MIN_ROWS:
            alpha = 1 - coverage
            low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
            return float(np.median(values)), float(low), float(high), basis
    return (*NO_HISTORY, "none")


def _fallback(
    pairs, reason: str | None, variant: str | None = None, rollout: int | None = None
) -> RoiScored:
    """Answer every pair with the history estimate (``variant``: an experiment's arm)."""
    coverage = float(current_app.config["ROI_FALLBACK_COVERAGE"])
    seen: dict[tuple[str, Any], np.ndarray] = {}
    estimates = [history_estimate(co, inf, coverage, seen) for inf, co in pairs]
    bases = sorted({e[3] for e in estimates})
    why = f"{reason or 'no roi model'}; median reported ROI of the {'/'.join(bases)}"
    return RoiScored(
        np.array([e[0] for e in estimates]),
        np.array([e[1] for e in estimates]),
        np.array([e[2] for e in estimates]),
        coverage,
        None,
        variant,
        why[:300],
        rollout,
    )


def _check(predictions, n: int) -> None:
    """Raise ValueError unless predictions hold n finite estimates inside their intervals."""
    score = np.asarray(predictions.score, dtype=float)
    interval = predictions.interval
    if score.shape != (n,) or not np.all(np.isfinite(score)) or interval is None:
        raise ValueError(f"the model returned estimates of shape {score.shape} for {n}")
    low, high = np.asarray(interval.low, float), np.asarray(interval.high, float)
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("the model returned infinite interval bounds")
    if np.any(low > score) or np.any(score > high):
        raise ValueError("the model returned estimates outside their intervals")


def score_pairs(pairs, rows: np.ndarray, subject: str) -> RoiScored:
    """Estimate ROI for feature ``rows`` of ``pairs`` with the version routed for ``subject``."""
    return score_routed(pairs, rows, usable_version(subject, ROI_TYPE))


def score_routed(pairs, rows: np.ndarray, routed: Usable) -> RoiScored:
    """Estimate ROI for ``rows`` of ``pairs`` with what ``usable_version`` returned."""
    version, artifact, variant, reason, rollout = routed
    if version is None:
        return _fallback(pairs, reason, variant, rollout)
    plugin = installed_types(current_app).get(ROI_TYPE)
    try:
        predictions = plugin.predict(artifact, rows)
        _check(predictions, len(rows))
    except Exception as error:  # any model failure: the history estimate serves
        return _fallback(pairs, model_failed(version, error), variant, rollout)
    interval = predictions.interval
    return RoiScored(
        np.asarray(predictions.score, float),
        np.asarray(interval.low, float),
        np.asarray(interval.high, float),
        float(interval.level),
        version,
        variant,
        None,
        rollout,
    )


def estimate_pairs(
    pairs: list[tuple[Influencer, Company]],
    budgets: list[float | None] | None = None,
    source: str = "api",
) -> list[dict[str, Any]]:
    """Estimate the ROI of each (influencer, company) pair, in order, routed by company."""
    if not pairs:
        return []
    budgets = budgets or [None] * len(pairs)
    pool = current_pool()
    rows = pools.pair_rows(pool, [i for i, _ in pairs], [c for _, c in pairs], budgets)
    answers: list[dict[str, Any]] = [{}] * len(pairs)
    subjects = [company.external_id for _, company in pairs]
    for routed, members in routed_groups(subjects, ROI_TYPE):
        scored = score_routed([pairs[k] for k in members], rows[members], routed)
        for local, k in enumerate(members):
            influencer, company = pairs[k]
            answers[k] = {
                "influencer_id": influencer.external_id,
                "company_id": company.external_id,
                **scored.answer(local),
            }
        _log(scored, [pairs[k] for k in members], source)
    return answers


def _log(scored: RoiScored, pairs, source: str) -> None:
    """Write one PredictionLog row per estimated pair (subject: its company), with its interval."""
    prediction_log.write(
        [
            prediction_log.entry(
                ROI_TYPE,
                scored.version,
                company.external_id,
                source,
                score=float(scored.expected[i]),
                variant=scored.variant,
                rollout_id=scored.rollout,
                influencer_id=influencer.id,
                company_id=company.id,
                interval=(
                    float(scored.low[i]),
                    float(scored.high[i]),
                    scored.coverage,
                ),
            )
            for i, (influencer, company) in enumerate(pairs)
        ]
    )

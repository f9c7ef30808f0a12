"""Guardrails of a rollout: is the candidate worse than the baseline? (pure)

Three figures per arm: the success rate and the mean brand rating of the
collaborations each arm served, and the error rate (requests the arm's version
failed to answer, so the fallback did). The rollout's unit (the brand or the
creator, ``Rollout.unit``) is what was bucketed, so each figure is a ratio
metric over units (``webapp.experiments.stats.compare_ratios``: per unit the
successes and the rated outcomes, the sum of ratings and the rated outcomes,
the failed requests and the requests), with the delta method's variance over
units: a few brands with many collaborations cannot pass for many independent
ones. A guardrail is breached when the candidate is worse by more than the
tolerance and the difference is significant at ``alpha`` (two-sided p-value):
for success rate and mean rating the tolerance is relative (0.05 = 5 % below
the baseline), for the error rate it is absolute (0.05 = 5 points more failed
requests), since the baseline's error rate is usually zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from webapp.experiments.results import lift_fields
from webapp.experiments.stats import Lift, RatioMoments, compare_ratios

NO_UNITS = RatioMoments.from_units([], [])


@dataclass(frozen=True)
class ArmNumbers:
    """What one arm (candidate or baseline) has shown so far, per unit.

    ``success``: successes / rated outcomes; ``rating``: sum of the brand
    ratings / rated outcomes; ``errors``: failed requests / requests.
    """

    success: RatioMoments = NO_UNITS
    rating: RatioMoments = NO_UNITS
    errors: RatioMoments = NO_UNITS

    @property
    def outcomes(self) -> int:
        """Return how many of the arm's collaborations were rated."""
        return int(self.success.sum_y)

    def summary(self) -> dict:
        """Return the arm's figures for the timeline."""
        return {
            "rated_units": self.success.units,
            "outcomes": self.outcomes,
            "successes": int(self.success.sum_x),
            "success_rate": self.success.ratio,
            "mean_rating": self.rating.ratio,
            "request_units": self.errors.units,
            "requests": int(self.errors.sum_y),
            "failed_requests": int(self.errors.sum_x),
            "error_rate": self.errors.ratio,
        }


@dataclass(frozen=True)
class Guardrail:
    """One guardrail's comparison and verdict."""

    metric: str
    lift: Lift
    worse_by: float | None
    breached: bool

    def summary(self) -> dict:
        """Return the guardrail's numbers for the timeline."""
        return {
            "metric": self.metric,
            **lift_fields(self.lift),
            "worse_by": self.worse_by,
            "breached": self.breached,
        }


def verdict(
    metric: str, lift: Lift, worse_by: float | None, tolerance: float, alpha: float
) -> Guardrail:
    """Return the guardrail: breached when worse beyond tolerance and significant."""
    significant = lift.p_value is not None and lift.p_value < alpha
    breached = worse_by is not None and worse_by > tolerance and significant
    return Guardrail(metric, lift, worse_by, breached)


def relative_drop(lift: Lift) -> float | None:
    """Return how far below the baseline the candidate is, relatively (or absolutely)."""
    if lift.lift_rel is not None:
        return -lift.lift_rel
    return None if lift.lift_abs is None else -lift.lift_abs


def check(
    candidate: ArmNumbers,
    baseline: ArmNumbers,
    tolerance: float,
    alpha: float,
    sequential_tuning: float | None = None,
) -> list[Guardrail]:
    """Return the three guardrails of ``candidate`` against ``baseline``.

    :param sequential_tuning: read always-valid p-values (``stats``' sequential
        mode) instead of fixed-horizon ones, for evidence looked at every tick.
    """
    success = compare_ratios(
        candidate.success, baseline.success, alpha, sequential_tuning
    )
    rating = compare_ratios(candidate.rating, baseline.rating, alpha, sequential_tuning)
    errors = compare_ratios(candidate.errors, baseline.errors, alpha, sequential_tuning)
    return [
        verdict("success_rate", success, relative_drop(success), tolerance, alpha),
        verdict("mean_rating", rating, relative_drop(rating), tolerance, alpha),
        verdict("error_rate", errors, errors.lift_abs, tolerance, alpha),
    ]


def breaches(guardrails: list[Guardrail]) -> list[str]:
    """Return the metrics whose guardrail is breached."""
    return [guardrail.metric for guardrail in guardrails if guardrail.breached]

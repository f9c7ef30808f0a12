"""CUPED variance reduction with each unit's pre-experiment value as covariate.

CUPED (Deng, Xu, Kohavi and Walker, "Improving the sensitivity of online
controlled experiments by utilizing pre-experiment data", WSDM 2013) replaces
each unit's metric y by y - theta (x - mean x), where x is the same metric before
the experiment. Randomisation makes x independent of the variant, so the
adjustment keeps every variant's expected mean and removes the part of the
variance that x explains: Var(y_adj) = Var(y) (1 - rho^2) at the best theta.

theta is estimated once for all variants from the pooled within-variant
covariance, theta = sum_g S_xy,g / sum_g S_xx,g (sums of centred cross-products),
as GrowthBook and Statsig pool over variants. Each variant's adjusted mean is
mean(y) - theta (mean(x) - overall mean(x)) and its adjusted variance is
Var(y) - 2 theta Cov(x, y) + theta^2 Var(x); the adjusted comparison is the same
Welch comparison as the unadjusted one, run on the adjusted moments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from webapp.experiments.results import lift_fields
from webapp.experiments.stats import DEFAULT_ALPHA, compare_means


@dataclass(frozen=True)
class CovariateVariant:
    """A variant's sufficient statistics of metric y and pre-period covariate x."""

    key: str
    count: int
    sum_y: float
    sum_y2: float
    sum_x: float
    sum_x2: float
    sum_xy: float

    @classmethod
    def from_values(cls, key: str, y, x) -> CovariateVariant:
        """Summarise paired per-unit values (metric, pre-experiment value)."""
        y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
        if y.shape != x.shape:
            raise ValueError("metric and covariate need one value each per unit")
        return cls(
            key,
            len(y),
            y.sum(),
            (y**2).sum(),
            x.sum(),
            (x**2).sum(),
            (x * y).sum(),
        )

    def centred_sums(self) -> tuple[float, float, float]:
        """Return the centred sums of squares and products (S_yy, S_xx, S_xy)."""
        n = self.count
        return (
            self.sum_y2 - self.sum_y**2 / n,
            self.sum_x2 - self.sum_x**2 / n,
            self.sum_xy - self.sum_x * self.sum_y / n,
        )


def cuped_theta(variants: Sequence[CovariateVariant]) -> float:
    """Return theta from the covariance pooled within variants (0 if x is constant)."""
    s_xx = sum(variant.centred_sums()[1] for variant in variants)
    s_xy = sum(variant.centred_sums()[2] for variant in variants)
    return s_xy / s_xx if s_xx > 0 else 0.0


def adjusted_moments(
    variant: CovariateVariant, theta: float, overall_x: float
) -> tuple[tuple[float, float, int], tuple[float, float, int]]:
    """Return a variant's ``(mean, variance, count)`` before and after CUPED."""
    n = variant.count
    s_yy, s_xx, s_xy = variant.centred_sums()
    mean_y, mean_x = variant.sum_y / n, variant.sum_x / n
    var_y = s_yy / (n - 1)
    var_adj = (s_yy - 2 * theta * s_xy + theta**2 * s_xx) / (n - 1)
    adjusted = mean_y - theta * (mean_x - overall_x)
    return (mean_y, var_y, n), (adjusted, max(var_adj, 0.0), n)


def cuped_analysis(
    variants: Sequence[CovariateVariant], alpha: float = DEFAULT_ALPHA
) -> dict:
    """Return unadjusted and CUPED-adjusted comparisons, and the variance reduction.

    The top-level ``variance_reduction`` is 1 - (pooled adjusted variance) /
    (pooled variance) of a unit's value; each treatment also reports the reduction
    in the variance of its lift estimate.
    """
    if len(variants) < 2 or min(variant.count for variant in variants) < 2:
        raise ValueError("CUPED needs a control and a treatment with 2+ units each")
    theta = cuped_theta(variants)
    overall_x = sum(v.sum_x for v in variants) / sum(v.count for v in variants)
    moments = [adjusted_moments(variant, theta, overall_x) for variant in variants]
    pooled_raw = sum((raw[2] - 1) * raw[1] for raw, _ in moments)
    pooled_adj = sum((adj[2] - 1) * adj[1] for _, adj in moments)
    (control_raw, control_adj) = moments[0]
    rows = []
    for index, (variant, (raw, adj)) in enumerate(zip(variants, moments, strict=True)):
        row = {
            "key": variant.key,
            "mean": raw[0],
            "mean_adjusted": adj[0],
            "variance": raw[1],
            "variance_adjusted": adj[1],
        }
        if index:
            row["unadjusted"] = lift_fields(compare_means(raw, control_raw, alpha))
            row["adjusted"] = lift_fields(compare_means(adj, control_adj, alpha))
            var_raw = raw[1] / raw[2] + control_raw[1] / control_raw[2]
            var_adj = adj[1] / adj[2] + control_adj[1] / control_adj[2]
            row["variance_reduction"] = 1 - var_adj / var_raw if var_raw else None
        rows.append(row)
    return {
        "theta": theta,
        "variance_reduction": 1 - pooled_adj / pooled_raw if pooled_raw else None,
        "variants": rows,
    }

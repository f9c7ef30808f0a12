"""Frequentist statistics of an experiment's variants, from statsmodels and scipy.

Rates (acceptance_rate, success_rate): a variant's interval is Wilson's; the
p-value is the pooled two-proportion z-test (statsmodels ``proportions_ztest``);
the absolute lift's interval is the unpooled normal (Wald) interval of the
difference (statsmodels ``confint_proportions_2indep``, method ``wald``).

Means (mean_rating, mean_roi): a variant's interval is the t interval; the p-value
is Welch's t-test (scipy ``ttest_ind_from_stats``, ``equal_var=False``); the lift's
interval uses Welch-Satterthwaite degrees of freedom.

Ratios (a rollout's success rate of collaborations, with the brand as the unit):
when the unit that was randomised holds many observations, the observations of
one unit are not independent, and treating them as if they were understates
the variance. A ratio metric sums a numerator x and a denominator y per unit
(successes and outcomes of a brand) and compares R = sum x / sum y; its
variance is the delta method's over units, as GrowthBook computes ratio
metrics: Var(R) ~ (s_xx - 2 R s_xy + R^2 s_yy) / (n mean(y)^2), with the
sample (co)variances s of the n units whose denominator is positive. This is
the cluster-robust (sandwich) variance of the mean with the unit as cluster,
times n / (n - 1). The difference of two arms' ratios is read as a z statistic.
When neither arm varies at all (every unit of the candidate failed every
request, none of the baseline's did) the difference is exact: the p-value is 0
when the ratios differ, 1 when they agree (sequential mode has already asked
for ``MIN_UNITS_PER_VARIANT`` units per arm by then).

For all three, the relative lift t/c - 1 gets a delta-method interval, with
Var(t/c) ~ Var(t)/c^2 + t^2 Var(c)/c^4. In sequential mode the p-value and lift
intervals are always-valid instead (see ``sequential``), and stay ``None`` until
every variant has ``sequential.MIN_UNITS_PER_VARIANT`` units. Quantities that are
not defined (no units, a zero control, no variance) come back as ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from webapp.experiments import sequential

DEFAULT_ALPHA = 0.05
Interval = tuple[float, float]


def finite_or_none(value: float | None) -> float | None:
    """Return ``value`` as a float, or ``None`` when it is missing or not finite."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def interval_or_none(low: float | None, high: float | None) -> Interval | None:
    """Return ``(low, high)`` when both ends are finite, else ``None``."""
    low, high = finite_or_none(low), finite_or_none(high)
    return None if low is None or high is None else (low, high)


@dataclass(frozen=True)
class Lift:
    """A treatment-versus-control comparison: lifts, their intervals, p-value."""

    lift_abs: float | None
    lift_abs_ci: Interval | None
    lift_rel: float | None
    lift_rel_ci: Interval | None
    p_value: float | None


def point_estimates_only(treatment: float, control: float) -> Lift:
    """Return the lifts without intervals or p-value (too early to read them)."""
    lift_rel = treatment / control - 1 if control else None
    return Lift(treatment - control, None, lift_rel, None, None)


def normal_quantile(alpha: float) -> float:
    """Return the two-sided standard normal critical value for ``alpha``."""
    return float(scipy_stats.norm.ppf(1 - alpha / 2))


def relative_lift(
    treatment: float,
    treatment_var: float,
    control: float,
    control_var: float,
    multiplier: float,
) -> tuple[float | None, Interval | None]:
    """Return t/c - 1 and its delta-method interval (variances of the two means)."""
    if control == 0:
        return None, None
    ratio = treatment / control
    variance = treatment_var / control**2 + treatment**2 * control_var / control**4
    half = multiplier * math.sqrt(variance)
    return ratio - 1, interval_or_none(ratio - 1 - half, ratio - 1 + half)


def wilson_interval(conversions: int, units: int, alpha: float = DEFAULT_ALPHA):
    """Return the Wilson score interval of a rate (``None`` without units)."""
    if units <= 0:
        return None
    low, high = proportion_confint(conversions, units, alpha=alpha, method="wilson")
    return interval_or_none(low, high)


def two_proportion_p_value(
    treatment_conversions: int,
    treatment_units: int,
    control_conversions: int,
    control_units: int,
) -> float | None:
    """Return the pooled two-proportion z-test p-value (two-sided)."""
    if min(treatment_units, control_units) <= 0:
        return None
    pooled = (treatment_conversions + control_conversions) / (
        treatment_units + control_units
    )
    if pooled in (0.0, 1.0):
        return None
    _z, p_value = proportions_ztest(
        [treatment_conversions, control_conversions], [treatment_units, control_units]
    )
    return finite_or_none(p_value)


def compare_rates(
    treatment_conversions: int,
    treatment_units: int,
    control_conversions: int,
    control_units: int,
    alpha: float = DEFAULT_ALPHA,
    sequential_tuning: float | None = None,
) -> Lift:
    """Compare a treatment rate with the control rate."""
    if min(treatment_units, control_units) <= 0:
        return Lift(None, None, None, None, None)
    p_t = treatment_conversions / treatment_units
    p_c = control_conversions / control_units
    if sequential_tuning is not None and not sequential.ready(
        treatment_units, control_units
    ):
        return point_estimates_only(p_t, p_c)
    var_t = p_t * (1 - p_t) / treatment_units
    var_c = p_c * (1 - p_c) / control_units
    difference = p_t - p_c
    total = treatment_units + control_units
    if sequential_tuning is None:
        low, high = confint_proportions_2indep(
            treatment_conversions,
            treatment_units,
            control_conversions,
            control_units,
            method="wald",
            compare="diff",
            alpha=alpha,
        )
        abs_ci = interval_or_none(low, high)
        multiplier = normal_quantile(alpha)
        p_value = two_proportion_p_value(
            treatment_conversions, treatment_units, control_conversions, control_units
        )
    else:
        std_error = math.sqrt(var_t + var_c)
        multiplier = float(sequential.multiplier(total, alpha, sequential_tuning))
        abs_ci = interval_or_none(
            difference - multiplier * std_error, difference + multiplier * std_error
        )
        p_value = sequential.p_value_or_none(
            difference, std_error, total, alpha, sequential_tuning
        )
    lift_rel, rel_ci = relative_lift(p_t, var_t, p_c, var_c, multiplier)
    return Lift(difference, abs_ci, lift_rel, rel_ci, p_value)


def t_interval(mean: float, variance: float, count: int, alpha: float = DEFAULT_ALPHA):
    """Return the t interval of a mean (``None`` with fewer than two values)."""
    if count < 2:
        return None
    low, high = scipy_stats.t.interval(
        1 - alpha, df=count - 1, loc=mean, scale=math.sqrt(variance / count)
    )
    return interval_or_none(low, high)


def welch_degrees_of_freedom(
    treatment_var: float, treatment_count: int, control_var: float, control_count: int
) -> float:
    """Return the Welch-Satterthwaite degrees of freedom of a difference in means."""
    a, b = treatment_var / treatment_count, control_var / control_count
    return (a + b) ** 2 / (a**2 / (treatment_count - 1) + b**2 / (control_count - 1))


def compare_means(
    treatment: tuple[float, float, int],
    control: tuple[float, float, int],
    alpha: float = DEFAULT_ALPHA,
    sequential_tuning: float | None = None,
) -> Lift:
    """Compare ``(mean, variance, count)`` of a treatment with the control's."""
    (m_t, v_t, n_t), (m_c, v_c, n_c) = treatment, control
    if min(n_t, n_c) < 2:
        return Lift(None, None, None, None, None)
    if sequential_tuning is not None and not sequential.ready(n_t, n_c):
        return point_estimates_only(m_t, m_c)
    difference = m_t - m_c
    var_t, var_c = v_t / n_t, v_c / n_c
    std_error = math.sqrt(var_t + var_c)
    if std_error == 0:
        return Lift(difference, None, None, None, None)
    if sequential_tuning is None:
        df = welch_degrees_of_freedom(v_t, n_t, v_c, n_c)
        t_critical = float(scipy_stats.t.ppf(1 - alpha / 2, df))
        abs_ci = interval_or_none(
            difference - t_critical * std_error, difference + t_critical * std_error
        )
        multiplier = normal_quantile(alpha)
        result = scipy_stats.ttest_ind_from_stats(
            m_t, math.sqrt(v_t), n_t, m_c, math.sqrt(v_c), n_c, equal_var=False
        )
        p_value = finite_or_none(result.pvalue)
    else:
        multiplier = float(sequential.multiplier(n_t + n_c, alpha, sequential_tuning))
        abs_ci = interval_or_none(
            difference - multiplier * std_error, difference + multiplier * std_error
        )
        p_value = sequential.p_value_or_none(
            difference, std_error, n_t + n_c, alpha, sequential_tuning
        )
    lift_rel, rel_ci = relative_lift(m_t, var_t, m_c, var_c, multiplier)
    return Lift(difference, abs_ci, lift_rel, rel_ci, p_value)


@dataclass(frozen=True)
class RatioMoments:
    """A ratio metric's per-unit sums (numerator x, denominator y), as sufficient statistics.

    Only units with a positive denominator take part: a brand none of whose
    collaborations were rated yet says nothing about its success rate.
    """

    units: int
    sum_x: float
    sum_y: float
    sum_xx: float
    sum_yy: float
    sum_xy: float

    @classmethod
    def from_units(cls, numerators, denominators) -> RatioMoments:
        """Summarise one numerator and one denominator per unit (aligned sequences)."""
        x = np.asarray(numerators, dtype=float).ravel()
        y = np.asarray(denominators, dtype=float).ravel()
        if x.shape != y.shape:
            raise ValueError("a ratio needs one numerator and one denominator per unit")
        if np.any(y < 0):
            raise ValueError("a ratio's denominators cannot be negative")
        keep = y > 0
        x, y = x[keep], y[keep]
        return cls(
            int(keep.sum()),
            float(x.sum()),
            float(y.sum()),
            float(x @ x),
            float(y @ y),
            float(x @ y),
        )

    @classmethod
    def from_rows(cls, units, numerators, denominators=None) -> RatioMoments:
        """Sum rows (collaborations, requests) into their units, then summarise.

        :param units: the unit of each row (any hashable keys, such as brand ids).
        :param denominators: each row's denominator; one per row when omitted.
        """
        keys = np.asarray(units).ravel()
        x = np.asarray(numerators, dtype=float).ravel()
        y = (
            np.ones(len(x))
            if denominators is None
            else np.asarray(denominators, dtype=float).ravel()
        )
        if not len(keys) == len(x) == len(y):
            raise ValueError("every row needs a unit, a numerator and a denominator")
        if len(keys) == 0:
            return cls.from_units([], [])
        _, index = np.unique(keys, return_inverse=True)
        return cls.from_units(np.bincount(index, x), np.bincount(index, y))

    @property
    def ratio(self) -> float | None:
        """Return sum x / sum y (``None`` without units)."""
        return self.sum_x / self.sum_y if self.sum_y > 0 else None

    def ratio_variance(self) -> float | None:
        """Return the delta-method variance of the ratio (``None`` below two units)."""
        n = self.units
        if n < 2:
            return None
        ratio = self.sum_x / self.sum_y
        s_xx = (self.sum_xx - self.sum_x**2 / n) / (n - 1)
        s_yy = (self.sum_yy - self.sum_y**2 / n) / (n - 1)
        s_xy = (self.sum_xy - self.sum_x * self.sum_y / n) / (n - 1)
        mean_y = self.sum_y / n
        spread = s_xx - 2 * ratio * s_xy + ratio**2 * s_yy
        # Equal to sum (x - R y)^2 / (n - 1) >= 0; rounding may dip below zero.
        return max(spread, 0.0) / (n * mean_y**2)


def compare_ratios(
    treatment: RatioMoments,
    control: RatioMoments,
    alpha: float = DEFAULT_ALPHA,
    sequential_tuning: float | None = None,
) -> Lift:
    """Compare a treatment's ratio metric with the control's, the unit as cluster.

    :param sequential_tuning: always-valid p-value and intervals, with the
        units of both arms as the sample size.
    """
    n_t, n_c = treatment.units, control.units
    if min(n_t, n_c) < 2:
        return Lift(None, None, None, None, None)
    r_t, r_c = treatment.ratio, control.ratio
    if sequential_tuning is not None and not sequential.ready(n_t, n_c):
        return point_estimates_only(r_t, r_c)
    var_t, var_c = treatment.ratio_variance(), control.ratio_variance()
    difference = r_t - r_c
    std_error = math.sqrt(var_t + var_c)
    if sequential_tuning is None:
        multiplier = normal_quantile(alpha)
    else:
        multiplier = float(sequential.multiplier(n_t + n_c, alpha, sequential_tuning))
    if std_error == 0:
        exact = (difference, difference)
        lift_rel = r_t / r_c - 1 if r_c else None
        rel_ci = (lift_rel, lift_rel) if lift_rel is not None else None
        return Lift(difference, exact, lift_rel, rel_ci, 0.0 if difference else 1.0)
    abs_ci = interval_or_none(
        difference - multiplier * std_error, difference + multiplier * std_error
    )
    if sequential_tuning is None:
        p_value = finite_or_none(2 * scipy_stats.norm.sf(abs(difference) / std_error))
    else:
        p_value = sequential.p_value_or_none(
            difference, std_error, n_t + n_c, alpha, sequential_tuning
        )
    lift_rel, rel_ci = relative_lift(r_t, var_t, r_c, var_c, multiplier)
    return Lift(difference, abs_ci, lift_rel, rel_ci, p_value)


SRM_THRESHOLD = 0.001


def sample_ratio_mismatch(
    exposures: Sequence[int], weights: Sequence[float]
) -> tuple[float | None, bool]:
    """Return the chi-square SRM p-value of exposures against weights, and the flag.

    Expected counts are the total exposures split by the normalised weights; the
    flag is raised at p < 0.001. With no exposures there is nothing to test.
    """
    total = sum(exposures)
    weight_total = sum(weights)
    if total <= 0 or len(exposures) < 2 or weight_total <= 0:
        return None, False
    expected = [total * weight / weight_total for weight in weights]
    if any(value <= 0 for value in expected):
        return None, False
    p_value = finite_or_none(scipy_stats.chisquare(exposures, expected).pvalue)
    return p_value, p_value is not None and p_value < SRM_THRESHOLD

"""Sample size and minimum detectable effect, from statsmodels' power classes.

Effects are relative lifts on the control's baseline (0.10 means +10 %), as
experiment set-up asks for them. Rates use Cohen's h (``proportion_effectsize``)
with ``NormalIndPower``; means use Cohen's d = effect / standard deviation with
``TTestIndPower``. Both are two-sided tests with equal allocation, and sizes are
per variant, rounded up.
"""

from __future__ import annotations

import math

from statsmodels.stats.power import NormalIndPower, TTestIndPower
from statsmodels.stats.proportion import proportion_effectsize

DEFAULT_ALPHA = 0.05
DEFAULT_POWER = 0.8


def _check_level(alpha: float, power: float) -> None:
    """Reject a significance level or power outside (0, 1)."""
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must lie strictly between 0 and 1")


def rate_sample_size(
    baseline_rate: float,
    relative_mde: float,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> int:
    """Return the units per variant needed to detect a relative lift in a rate."""
    _check_level(alpha, power)
    target = baseline_rate * (1 + relative_mde)
    if not 0 < baseline_rate < 1 or not 0 <= target <= 1 or relative_mde == 0:
        raise ValueError("baseline and lifted rates must be distinct rates in (0, 1)")
    effect = abs(proportion_effectsize(target, baseline_rate))
    size = NormalIndPower().solve_power(
        effect_size=effect, alpha=alpha, power=power, ratio=1.0
    )
    return math.ceil(size)


def rate_mde(
    baseline_rate: float,
    units_per_variant: int,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> float | None:
    """Return the smallest relative lift of a rate detectable with these units.

    ``None`` when even a rate of 1 would not be detectable.
    """
    _check_level(alpha, power)
    if not 0 < baseline_rate < 1 or units_per_variant < 2:
        raise ValueError("need a baseline rate in (0, 1) and at least 2 units")
    effect = NormalIndPower().solve_power(
        nobs1=units_per_variant, alpha=alpha, power=power, ratio=1.0
    )
    # Invert Cohen's h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p0)) for p1 above p0.
    angle = math.asin(math.sqrt(baseline_rate)) + effect / 2
    if angle > math.pi / 2:
        return None
    return math.sin(angle) ** 2 / baseline_rate - 1


def mean_sample_size(
    baseline_mean: float,
    std_dev: float,
    relative_mde: float,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> int:
    """Return the units per variant needed to detect a relative lift in a mean."""
    _check_level(alpha, power)
    effect = abs(baseline_mean * relative_mde) / std_dev if std_dev > 0 else 0
    if effect == 0:
        raise ValueError("need a non-zero effect and a positive standard deviation")
    size = TTestIndPower().solve_power(
        effect_size=effect, alpha=alpha, power=power, ratio=1.0
    )
    return math.ceil(size)


def mean_mde(
    baseline_mean: float,
    std_dev: float,
    units_per_variant: int,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> float:
    """Return the smallest relative lift of a mean detectable with these units."""
    _check_level(alpha, power)
    if baseline_mean == 0 or std_dev <= 0 or units_per_variant < 2:
        raise ValueError("need a non-zero baseline, a positive sd and 2+ units")
    effect = TTestIndPower().solve_power(
        nobs1=units_per_variant, alpha=alpha, power=power, ratio=1.0
    )
    return effect * std_dev / abs(baseline_mean)

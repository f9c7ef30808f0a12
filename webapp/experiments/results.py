"""An experiment's results as the API returns them, and the rule that names a winner.

Input is what the database aggregates per variant (in set-up order, control
first): for rate metrics the exposed units and how many converted, for mean
metrics the exposed units' values as count, sum and sum of squares. Output is a
plain dict with exactly the fields of the results API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.multitest import multipletests

from webapp.experiments import bayes
from webapp.experiments.stats import (
    DEFAULT_ALPHA,
    Lift,
    compare_means,
    compare_rates,
    sample_ratio_mismatch,
    t_interval,
    wilson_interval,
)

RATE_METRICS = ("acceptance_rate", "success_rate")
MEAN_METRICS = ("mean_rating", "mean_roi")
METRICS = RATE_METRICS + MEAN_METRICS  # every one of them: higher is better


@dataclass(frozen=True)
class RateVariant:
    """A variant's counts for a rate metric."""

    key: str
    units: int
    exposures: int
    conversions: int


@dataclass(frozen=True)
class MeanVariant:
    """A variant's per-unit values for a mean metric, as sufficient statistics."""

    key: str
    units: int
    exposures: int
    count: int
    total: float
    sum_squares: float

    @classmethod
    def from_values(cls, key: str, units: int, exposures: int, values) -> MeanVariant:
        """Summarise exposed units' values (one per unit)."""
        array = np.asarray(values, dtype=float)
        return cls(
            key, units, exposures, len(array), float(array.sum()), float(array @ array)
        )

    @property
    def mean(self) -> float | None:
        """Return the mean value, ``None`` without values."""
        return self.total / self.count if self.count else None

    @property
    def variance(self) -> float | None:
        """Return the sample variance (ddof 1), ``None`` with fewer than 2 values."""
        if self.count < 2:
            return None
        spread = self.sum_squares - self.total**2 / self.count
        return max(spread, 0.0) / (self.count - 1)

    def moments(self) -> tuple[float, float, int]:
        """Return ``(mean, variance, count)`` for the comparison functions."""
        return self.mean, self.variance, self.count


Variant = RateVariant | MeanVariant


def metric_kind(metric: str) -> str:
    """Return ``"rate"`` or ``"mean"`` for a metric name (ValueError if unknown)."""
    if metric in RATE_METRICS:
        return "rate"
    if metric in MEAN_METRICS:
        return "mean"
    raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")


def lift_fields(lift: Lift) -> dict:
    """Return a comparison's JSON fields (intervals as lists)."""
    return {
        "lift_abs": lift.lift_abs,
        "lift_abs_ci": list(lift.lift_abs_ci) if lift.lift_abs_ci else None,
        "lift_rel": lift.lift_rel,
        "lift_rel_ci": list(lift.lift_rel_ci) if lift.lift_rel_ci else None,
        "p_value": lift.p_value,
    }


def rate_rows(variants, alpha: float, sequential_tuning: float | None) -> list[dict]:
    """Return the result rows of a rate metric, control first."""
    control = variants[0]
    rows = []
    for index, variant in enumerate(variants):
        n, k = variant.exposures, variant.conversions
        interval = wilson_interval(k, n, alpha)
        row = {
            "key": variant.key,
            "units": variant.units,
            "exposures": n,
            "conversions": k,
            "mean": k / n if n else None,
            "ci": list(interval) if interval else None,
        }
        if index:
            c_n, c_k = control.exposures, control.conversions
            row |= lift_fields(compare_rates(k, n, c_k, c_n, alpha, sequential_tuning))
            known = n > 0 and c_n > 0
            row["chance_to_beat_control"] = (
                bayes.rate_chance_to_beat_control(c_k, c_n, k, n) if known else None
            )
            row["expected_loss"] = (
                bayes.rate_expected_loss(c_k, c_n, k, n) if known else None
            )
        rows.append(row)
    return rows


def mean_rows(variants, alpha: float, sequential_tuning: float | None) -> list[dict]:
    """Return the result rows of a mean metric, control first."""
    control = variants[0]
    rows = []
    for index, variant in enumerate(variants):
        interval = (
            t_interval(variant.mean, variant.variance, variant.count, alpha)
            if variant.count >= 2
            else None
        )
        row = {
            "key": variant.key,
            "units": variant.units,
            "exposures": variant.exposures,
            "sum": float(variant.total),
            "mean": variant.mean,
            "ci": list(interval) if interval else None,
        }
        if index:
            known = min(variant.count, control.count) >= 2
            lift = (
                compare_means(
                    variant.moments(), control.moments(), alpha, sequential_tuning
                )
                if known
                else Lift(None, None, None, None, None)
            )
            row |= lift_fields(lift)
            chance, loss = (
                bayes.mean_bayesian(*control.moments(), *variant.moments())
                if known and (variant.variance or control.variance)
                else (None, None)
            )
            row["chance_to_beat_control"] = chance
            row["expected_loss"] = loss
        rows.append(row)
    return rows


def analyze_metric(
    metric: str,
    variants: Sequence[Variant],
    alpha: float = DEFAULT_ALPHA,
    sequential_tuning: float | None = None,
) -> list[dict]:
    """Return one metric's per-variant rows in set-up order (control first)."""
    if len(variants) < 2:
        raise ValueError("an experiment needs a control and at least one treatment")
    kind = metric_kind(metric)
    expected = RateVariant if kind == "rate" else MeanVariant
    if not all(isinstance(variant, expected) for variant in variants):
        raise ValueError(f"{metric} needs {expected.__name__} inputs")
    if kind == "rate":
        return rate_rows(variants, alpha, sequential_tuning)
    return mean_rows(variants, alpha, sequential_tuning)


def significant_treatments(rows: Sequence[dict], alpha: float) -> list[bool]:
    """Return, per treatment row, whether it differs from control (Holm-adjusted).

    Holm's step-down correction keeps the chance of any false call at alpha when
    several treatments face one control; with one treatment it changes nothing.
    """
    p_values = [1.0 if row["p_value"] is None else row["p_value"] for row in rows[1:]]
    reject, _adjusted, _sidak, _bonferroni = multipletests(
        p_values, alpha=alpha, method="holm"
    )
    return [bool(value) for value in reject]


def decide_winner(
    primary: Sequence[dict],
    guardrails: Mapping[str, Sequence[dict]],
    sample_reached: bool,
    srm_flag: bool,
    alpha: float = DEFAULT_ALPHA,
) -> str | None:
    """Return the winning variant's key, or ``None`` while there is no winner.

    A winner needs the sample size reached, no sample-ratio mismatch, and a
    primary metric significantly different from control. The winner is the
    treatment with the largest significant improvement among those no guardrail
    finds significantly worse (uncorrected p < alpha); if instead every
    treatment is significantly worse than control on the primary metric, the
    control wins.
    """
    if not sample_reached or srm_flag:
        return None
    significant = significant_treatments(primary, alpha)
    # Harm is judged without multiplicity correction: that errs towards caution.
    worse_on_guardrail = {
        row["key"]
        for rows in guardrails.values()
        for row in rows[1:]
        if row["p_value"] is not None and row["p_value"] < alpha and row["lift_abs"] < 0
    }
    improvements = [
        (row["lift_abs"], row["key"])
        for row, flagged in zip(primary[1:], significant, strict=True)
        if flagged and row["lift_abs"] > 0 and row["key"] not in worse_on_guardrail
    ]
    if improvements:
        return max(improvements)[1]
    losers = [
        flagged and row["lift_abs"] < 0
        for row, flagged in zip(primary[1:], significant, strict=True)
    ]
    return primary[0]["key"] if all(losers) else None


def sample_units(variant: Variant) -> int:
    """Return the units a variant's metric is computed on (for the sample size)."""
    return variant.exposures if isinstance(variant, RateVariant) else variant.count


def experiment_results(
    *,
    key: str,
    status: str,
    metric: str,
    variants: Sequence[Variant],
    weights: Sequence[float],
    guardrails: Mapping[str, Sequence[Variant]] | None = None,
    required_sample_size: int | None = None,
    alpha: float = DEFAULT_ALPHA,
    sequential_tuning: float | None = None,
) -> dict:
    """Return the results document of an experiment.

    ``guardrails`` maps guardrail metric names to their per-variant inputs (same
    order as ``variants``); ``required_sample_size`` is per variant, and without
    it no winner is declared.
    """
    if len(weights) != len(variants):
        raise ValueError("one weight per variant is needed")
    rows = analyze_metric(metric, variants, alpha, sequential_tuning)
    srm_p_value, srm_flag = sample_ratio_mismatch(
        [variant.exposures for variant in variants], list(weights)
    )
    guardrail_rows = {
        name: analyze_metric(name, inputs, alpha, sequential_tuning)
        for name, inputs in (guardrails or {}).items()
    }
    reached = required_sample_size is not None and all(
        sample_units(variant) >= required_sample_size for variant in variants
    )
    return {
        "key": key,
        "status": status,
        "metric": metric,
        "srm_p_value": srm_p_value,
        "srm_flag": srm_flag,
        "winner": decide_winner(rows, guardrail_rows, reached, srm_flag, alpha),
        "variants": rows,
    }

"""Three kinds of evidence per rollout step, and which one decided (pure).

A collaboration is rated weeks after it is proposed, so a gate on realised
success alone decides late. Each tick therefore reads three gates, each a set
of guardrails (``guardrails.verdict``: worse beyond the tolerance *and*
significant at alpha, tests from ``webapp.experiments.stats``):

- ``leading``: what arrives within days of a proposal. The acceptance rate
  (of the arm's proposals answered so far, the share accepted rather than
  declined or withdrawn; lower is worse) and the cancellation rate (of those
  accepted so far, the share cancelled since; higher is worse), both with a
  relative tolerance. Counting only answered proposals keeps the acceptance
  rate free of how fast each arm's collaborations move (a share "accepted so
  far" of all proposals would be).
- ``estimated``: confidence-based performance estimation (CBPE, as NannyML
  does) from the probabilities each arm's version logged for its own
  collaborations. The expected success rate is the mean logged probability;
  the expected ROC AUC is NannyML's: every logged probability is a threshold, the
  expected true positives above it are the sum of the probabilities, the
  expected false positives the sum of their complements, and the area under
  the expected ROC curve is sklearn's trapezoid (``sklearn.metrics.auc``). The
  expected AUC is shown, not gated (it has no test). CBPE is right only while
  the probabilities are calibrated, so each arm's labelled rows are checked as
  they come: with at least ``MIN_CALIBRATION_LABELS`` of them, the expected
  calibration error (``webapp.monitoring.quality.expected_calibration_error``,
  one quantile bin per ``LABELS_PER_BIN`` labels, at most ten) must stay within
  the rollout's ``calibration_tolerance``, else the gate is invalid and not
  used. With fewer labels it is used unchecked (trusting the version's own
  validation), and says so.
- ``realised``: the rated outcomes (``guardrails.check``: success rate, mean
  rating, error rate), as before, and, once both arms have
  ``MIN_CALIBRATION_LABELS`` rated outcomes, how far each arm's successes fall
  short of what its own logged probabilities promised, the candidate's against
  the baseline's (``promise_guardrail``): a candidate that is worse *and*
  over-confident looks as good as the baseline to CBPE until its calibration
  check invalidates the estimate.

Every tested figure is a ratio metric over the rollout's units (the brands or
creators that were bucketed): per unit the accepted and the answered proposals,
the cancelled and the accepted ones, the sum of logged probabilities and the
logged ones. ``webapp.experiments.stats.compare_ratios`` compares them with
the delta method's variance over units, so a handful of busy brands counts as
a handful of observations, not as all their collaborations.

The tick looks at the evidence every minute as it accumulates, so every gate
reads always-valid p-values (``stats``' sequential mode, GrowthBook's
confidence sequences, tightest at ``Settings.tuning`` units: a rollout fixes it
when it starts to the number of units it could ever reach, since the default
N* of experiments, ``sequential.DEFAULT_TUNING``, is far more than a
marketplace of a few hundred brands has, and so decides late): looking often does
not inflate false alarms, and nothing is read before each arm has
``sequential.MIN_UNITS_PER_VARIANT`` units (brands or creators, not collaborations). A breach on any valid gate
decides; the gates that breached are the ones that decided, in the order above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import auc

from webapp.experiments import sequential
from webapp.experiments.results import lift_fields
from webapp.experiments.stats import RatioMoments, compare_ratios
from webapp.monitoring.quality import expected_calibration_error
from webapp.rollouts import guardrails
from webapp.rollouts.bucketing import BASELINE, CANDIDATE
from webapp.rollouts.guardrails import NO_UNITS, ArmNumbers, Guardrail

KINDS = ("leading", "estimated", "realised")
TUNING = sequential.DEFAULT_TUNING
DEFAULT_CALIBRATION_TOLERANCE = 0.1
MIN_CALIBRATION_LABELS = 50
LABELS_PER_BIN = 50


@dataclass(frozen=True)
class ArmLeading:
    """An arm's proposals so far, per unit: accepted of answered, cancelled of accepted."""

    proposals: int
    acceptance: RatioMoments = NO_UNITS
    cancellation: RatioMoments = NO_UNITS

    def summary(self) -> dict[str, Any]:
        """Return the arm's leading figures for the timeline."""
        return {
            "proposals": self.proposals,
            "units": self.acceptance.units,
            "answered": int(self.acceptance.sum_y),
            "accepted": int(self.acceptance.sum_x),
            "cancelled": int(self.cancellation.sum_x),
            "acceptance_rate": self.acceptance.ratio,
            "cancellation_rate": self.cancellation.ratio,
        }


@dataclass(frozen=True)
class ArmScores:
    """An arm's logged probabilities (each with its unit), and those rated so far."""

    probabilities: np.ndarray
    expected: RatioMoments
    labelled_probabilities: np.ndarray
    labels: np.ndarray
    labelled_units: np.ndarray

    @classmethod
    def of(
        cls,
        probabilities,
        units,
        labelled_probabilities=(),
        labels=(),
        labelled_units=(),
    ) -> ArmScores:
        """Build from the logged probabilities and their units (and 0/1 labels).

        :raises ValueError: the labelled rows are not as many as their units.
        """
        probabilities = np.asarray(probabilities, dtype=float)
        if not len(labelled_probabilities) == len(labels) == len(labelled_units):
            raise ValueError("every labelled row needs a probability, label and unit")
        return cls(
            probabilities,
            RatioMoments.from_rows(units, probabilities),
            np.asarray(labelled_probabilities, dtype=float),
            np.asarray(labels, dtype=float),
            np.asarray(labelled_units),
        )


@dataclass(frozen=True)
class Evidence:
    """Everything a tick reads about both arms at one moment."""

    realised: dict[str, ArmNumbers]
    leading: dict[str, ArmLeading] | None = None
    scores: dict[str, ArmScores] | None = None


@dataclass(frozen=True)
class Settings:
    """How strict the gates are, and which of them are used."""

    tolerance: float
    alpha: float
    calibration_tolerance: float = DEFAULT_CALIBRATION_TOLERANCE
    kinds: tuple[str, ...] = KINDS
    #: N* of the confidence sequences: the units the rollout can reach at most
    tuning: float = TUNING


@dataclass(frozen=True)
class Gate:
    """One kind of evidence: its guardrails, whether it may decide, its figures."""

    kind: str
    valid: bool
    note: str
    checked: list[Guardrail] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def breaches(self) -> list[str]:
        """Return the metrics this gate breaches (none when it may not decide)."""
        return guardrails.breaches(self.checked) if self.valid else []

    def summary(self) -> dict[str, Any]:
        """Return the gate's numbers for the timeline."""
        return {
            "kind": self.kind,
            "valid": self.valid,
            "note": self.note,
            "breached": self.breaches(),
            "guardrails": [guardrail.summary() for guardrail in self.checked],
            **self.figures,
        }


def as_evidence(found: Evidence | dict[str, ArmNumbers]) -> Evidence:
    """Return ``found`` as Evidence (a bare ``{arm: ArmNumbers}`` is realised only)."""
    return found if isinstance(found, Evidence) else Evidence(realised=found)


def leading_gate(arms: dict[str, ArmLeading], settings: Settings) -> Gate:
    """Compare acceptance and cancellation rates of the candidate with the baseline's."""
    candidate, baseline = arms[CANDIDATE], arms[BASELINE]
    tolerance, alpha = settings.tolerance, settings.alpha
    accepted = compare_ratios(
        candidate.acceptance, baseline.acceptance, alpha, settings.tuning
    )
    cancelled = compare_ratios(
        candidate.cancellation, baseline.cancellation, alpha, settings.tuning
    )
    checked = [
        guardrails.verdict(
            "acceptance_rate",
            accepted,
            guardrails.relative_drop(accepted),
            tolerance,
            alpha,
        ),
        guardrails.verdict(
            "cancellation_rate", cancelled, relative_rise(cancelled), tolerance, alpha
        ),
    ]
    valid = min(candidate.proposals, baseline.proposals) > 0
    note = (
        f"{candidate.proposals} candidate and {baseline.proposals} baseline proposals"
    )
    figures = {"candidate": candidate.summary(), "baseline": baseline.summary()}
    return Gate("leading", valid, note, checked, figures)


def relative_rise(lift) -> float | None:
    """Return how far above the baseline the candidate is, relatively (or absolutely)."""
    if lift.lift_rel is not None:
        return lift.lift_rel
    return lift.lift_abs


def expected_roc_auc(probabilities: np.ndarray) -> float | None:
    """Return NannyML's CBPE estimate of ROC AUC from calibrated probabilities alone.

    Thresholds at every distinct probability, highest first; expected TPR and
    FPR are the cumulative sums of p and 1 - p over the rows at or above it.
    """
    p = np.sort(np.asarray(probabilities, dtype=float))[::-1]
    positives, negatives = p.sum(), (1 - p).sum()
    if len(p) < 2 or positives <= 0 or negatives <= 0:
        return None
    last_of_value = np.r_[p[1:] != p[:-1], True]
    tpr = np.r_[0.0, np.cumsum(p)[last_of_value] / positives]
    fpr = np.r_[0.0, np.cumsum(1 - p)[last_of_value] / negatives]
    return float(auc(fpr, tpr))


def calibration_check(scores: ArmScores, settings: Settings) -> dict[str, Any]:
    """Return an arm's calibration on its labelled rows: ECE, labels, whether it holds."""
    labels = len(scores.labels)
    if labels < MIN_CALIBRATION_LABELS:
        return {"labels": labels, "ece": None, "holds": None}
    bins = max(1, min(10, labels // LABELS_PER_BIN))
    ece = expected_calibration_error(scores.labels, scores.labelled_probabilities, bins)
    return {
        "labels": labels,
        "ece": ece,
        "holds": ece is not None and ece <= settings.calibration_tolerance,
    }


def scores_summary(scores: ArmScores, calibration: dict[str, Any]) -> dict[str, Any]:
    """Return an arm's CBPE figures for the timeline."""
    count = len(scores.probabilities)
    return {
        "predictions": count,
        "units": scores.expected.units,
        "expected_success_rate": scores.expected.ratio,
        "expected_roc_auc": expected_roc_auc(scores.probabilities),
        "calibration": calibration,
    }


def estimated_gate(arms: dict[str, ArmScores], settings: Settings) -> Gate:
    """Compare the arms' CBPE expected success rates, if calibration still holds."""
    calibration = {side: calibration_check(arms[side], settings) for side in arms}
    broken = [side for side, check in calibration.items() if check["holds"] is False]
    lift = compare_ratios(
        arms[CANDIDATE].expected,
        arms[BASELINE].expected,
        settings.alpha,
        settings.tuning,
    )
    checked = [
        guardrails.verdict(
            "expected_success_rate",
            lift,
            guardrails.relative_drop(lift),
            settings.tolerance,
            settings.alpha,
        )
    ]
    unchecked = [side for side, check in calibration.items() if check["holds"] is None]
    if broken:
        note = (
            f"calibration broke ({', '.join(broken)}: ECE above "
            f"{settings.calibration_tolerance:g}); estimate not used"
        )
    elif unchecked:
        note = (
            f"calibration not yet checked ({', '.join(unchecked)}: fewer than "
            f"{MIN_CALIBRATION_LABELS} labels)"
        )
    else:
        note = "calibration holds on the labels so far"
    figures = {side: scores_summary(arms[side], calibration[side]) for side in arms} | {
        "lift": lift_fields(lift)
    }
    valid = not broken and lift.p_value is not None
    return Gate("estimated", valid, note, checked, figures)


def shortfall(scores: ArmScores) -> RatioMoments:
    """Return an arm's rated successes minus what its logged probabilities promised, per unit."""
    return RatioMoments.from_rows(
        scores.labelled_units, scores.labels - scores.labelled_probabilities
    )


def promise_guardrail(arms: dict[str, ArmScores], settings: Settings) -> Guardrail:
    """Compare how far each arm's rated outcomes fall short of what its probabilities promised.

    A difference of differences: a drop that hits both arms (a season, early
    labels that are mostly failures) moves both shortfalls alike and is no
    breach; a candidate that is worse *and* over-confident falls short by more
    than the baseline does. The tolerance is absolute (0.05 = 5 points more
    shortfall than the baseline's), as the shortfalls are near zero.
    """
    lift = compare_ratios(
        shortfall(arms[CANDIDATE]),
        shortfall(arms[BASELINE]),
        settings.alpha,
        settings.tuning,
    )
    worse_by = None if lift.lift_abs is None else -lift.lift_abs
    return guardrails.verdict(
        "promise_shortfall", lift, worse_by, settings.tolerance, settings.alpha
    )


def realised_gate(
    arms: dict[str, ArmNumbers],
    settings: Settings,
    scores: dict[str, ArmScores] | None = None,
) -> Gate:
    """Compare the rated outcomes and error rates (the guardrails of point 1).

    With the logged scores, also each arm's rated outcomes against what its
    probabilities promised for them (``promise_guardrail``), once both arms have
    MIN_CALIBRATION_LABELS of them.
    """
    checked = guardrails.check(
        arms[CANDIDATE],
        arms[BASELINE],
        settings.tolerance,
        settings.alpha,
        settings.tuning,
    )
    if scores is not None and all(
        len(scores[side].labels) >= MIN_CALIBRATION_LABELS for side in scores
    ):
        checked.append(promise_guardrail(scores, settings))
    candidate, baseline = arms[CANDIDATE], arms[BASELINE]
    note = (
        f"{candidate.outcomes} candidate outcomes ({candidate.success.units} units) "
        f"and {baseline.outcomes} baseline outcomes ({baseline.success.units} units)"
    )
    return Gate("realised", True, note, checked)


def shown_no_worse(checked: list[Gate], tolerance: float) -> tuple[bool, str]:
    """Say whether the realised success rate shows the candidate no worse beyond ``tolerance``.

    No breach is significant is not the same as no harm: with few outcomes a
    candidate 10 points worse passes every guardrail. Before the candidate
    goes to everyone, the lower end of its relative success-rate lift's
    always-valid interval must lie above ``-tolerance``. Returns the answer
    and a sentence with the figures.
    """
    realised = next((gate for gate in checked if gate.kind == "realised"), None)
    success = None
    if realised is not None:
        success = next(
            (g for g in realised.checked if g.metric == "success_rate"), None
        )
    interval = None if success is None else success.lift.lift_rel_ci
    if interval is None:
        return False, (
            "too few rated outcomes yet for an interval on the success rate "
            f"(each arm needs {sequential.MIN_UNITS_PER_VARIANT} units with one)"
        )
    low = interval[0]
    return low >= -tolerance, (
        f"the success rate's lift is at least {low:+.1%} "
        f"(the tolerance allows {-tolerance:+.1%})"
    )


def check(evidence: Evidence, settings: Settings) -> list[Gate]:
    """Return the gates the evidence allows, in the order leading, estimated, realised."""
    found = []
    if "leading" in settings.kinds and evidence.leading is not None:
        found.append(leading_gate(evidence.leading, settings))
    if "estimated" in settings.kinds and evidence.scores is not None:
        found.append(estimated_gate(evidence.scores, settings))
    if "realised" in settings.kinds:
        found.append(realised_gate(evidence.realised, settings, evidence.scores))
    return found


def deciding(gates: list[Gate]) -> list[Gate]:
    """Return the gates that breach (empty when every valid gate holds)."""
    return [gate for gate in gates if gate.breaches()]


def breach_reason(breached: list[Gate]) -> str:
    """Return 'leading gate (cancellation_rate), realised gate (success_rate)'."""
    return ", ".join(f"{g.kind} gate ({', '.join(g.breaches())})" for g in breached)

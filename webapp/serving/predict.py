"""Scoring feature rows with the routed model version, or the fallback scorer."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from flask import current_app

from webapp.extensions import db
from webapp.learning.features import FEATURE_NAMES
from webapp.learning.reasons import NUMERIC, YES_NO, reason
from webapp.models import ModelVersion
from webapp.registry.artifact_store import artifact_store
from webapp.registry.artifacts import ArtifactError, verify
from webapp.registry.plugins import installed_types
from webapp.serving import fallback, loading, prediction_log
from webapp.serving.loading import served_feature_names
from webapp.serving.routing import ServedVersion, route
from webapp.serving.state import serving_state

log = logging.getLogger(__name__)
MATCH_TYPE = "match_success"
TOP_FACTORS = 5
FEATURE_NAMES_LIST = list(FEATURE_NAMES)
# Features whose sentence depends on the value alone (not on the contribution).
_WORDED_BY_VALUE = frozenset(
    j for j, name in enumerate(FEATURE_NAMES) if name in YES_NO or name in NUMERIC
)


@dataclass
class Scored:
    """Scores for n rows and how they were produced."""

    probability: np.ndarray
    confidence: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None
    version: ServedVersion | None
    variant: str | None
    fallback_reason: str | None
    artifact: Any = None
    # Per-feature contributions, when the caller asked for them.
    contributions: np.ndarray | None = None
    # The staged rollout that routed the rows (``variant`` is then its arm).
    rollout: int | None = None

    @property
    def fallback(self) -> bool:
        """True when the rule-based scorer answered."""
        return self.version is None

    def model_info(self) -> dict[str, Any]:
        """Return ``{"type", "version"}`` for responses."""
        return {
            "type": MATCH_TYPE,
            "version": self.version.version if self.version else None,
        }


class Usable(NamedTuple):
    """The routed version and its loaded artifact, or why the fallback serves.

    ``variant`` (an experiment's variant or a rollout's arm) and ``rollout``
    are kept even when the fallback serves, so the log credits the arm.
    """

    version: ServedVersion | None
    artifact: Any
    variant: str | None
    reason: str | None
    rollout: int | None = None


def usable_version(
    subject: str,
    model_type: str = MATCH_TYPE,
    feature_names: list[str] | None = FEATURE_NAMES_LIST,
    unit: str | None = "company",
) -> Usable:
    """Return the usable version of ``model_type`` for ``subject`` (``Usable``).

    ``unit`` says what the subject is (``company``, ``influencer``; None for a
    whole series), so a running experiment or rollout on that unit can route
    it. The variant is returned even when the fallback serves (a rule-based
    arm, or an arm whose artifact is refused), so the log credits the arm.

    This process verifies an artifact before its first load (sha256, then the
    ``feature_names`` serving computes; None for series types, which take no
    feature rows); a refused artifact is recorded on the version, and a
    version whose artifact verifies again is cleared of the problem admins
    were shown.
    """
    state = serving_state()
    chosen = route(state.routing.table(), model_type, subject, unit, state.exposures)
    version = chosen.version
    if version is None:
        return Usable(None, None, chosen.variant, chosen.fallback_reason())
    artifact, reason = loaded_artifact(version, feature_names)
    if artifact is None:
        return Usable(None, None, chosen.variant, reason, chosen.rollout)
    return Usable(version, artifact, chosen.variant, None, chosen.rollout)


def routed_groups(
    subjects: list[str],
    model_type: str = MATCH_TYPE,
    feature_names: list[str] | None = FEATURE_NAMES_LIST,
) -> list[tuple[Usable, list[int]]]:
    """Route each row's subject (a company); group the rows routed alike.

    Each group (one version, variant, fallback reason and rollout) is scored in
    one model call, however many subjects it holds.
    """
    by_subject: dict[str, list[int]] = defaultdict(list)
    for k, subject in enumerate(subjects):
        by_subject[subject].append(k)
    routes: dict[tuple, Usable] = {}
    members: dict[tuple, list[int]] = defaultdict(list)
    for subject, rows in by_subject.items():
        routed = usable_version(subject, model_type, feature_names)
        key = (routed.version, routed.variant, routed.reason, routed.rollout)
        routes.setdefault(key, routed)
        members[key].extend(rows)
    return [(routes[key], members[key]) for key in routes]


def loaded_artifact(
    version: ServedVersion, feature_names: list[str] | None = FEATURE_NAMES_LIST
) -> tuple[Any, str | None]:
    """Return (artifact, None) for ``version``, or (None, why) when it is refused.

    The first load in this process verifies the artifact (see ``usable_version``).
    """
    try:
        return loading.load_served(
            serving_state().artifacts, version, feature_names
        ), None
    except ArtifactError as error:
        return None, f"{version.label} unavailable: {error}"


def recheck_refused(rows: list[ModelVersion]) -> None:
    """Verify again the artifacts of versions shown as refused; clear those that pass.

    The models page runs this, so its banner goes away as soon as the file is
    restored, whether or not a prediction has loaded it since.
    """
    types = installed_types(current_app)
    changed = False
    for row in rows:
        if not row.artifact_error:
            continue
        try:
            verify(
                artifact_store(),
                row.artifact_path,
                row.sha256,
                served_feature_names(types, row.model_type),
            )
        except ArtifactError:
            continue
        row.artifact_error = None
        changed = True
    if changed:
        db.session.commit()


def _fallback_scored(
    rows: np.ndarray,
    explain: bool,
    reason: str | None,
    variant: str | None = None,
    rollout: int | None = None,
) -> Scored:
    """Return the rule-based scorer's answer for ``rows`` (``variant``: its arm)."""
    p = fallback.score(rows)
    return Scored(
        p,
        np.full(len(p), fallback.CONFIDENCE),
        None,
        None,
        None,
        variant,
        reason,
        contributions=fallback.explain(rows) if explain else None,
        rollout=rollout,
    )


def model_failed(version: ServedVersion, error: Exception) -> str:
    """Log and record a model that failed at predict time; return the fallback reason."""
    reason = f"{version.label} failed at predict time: {type(error).__name__}: {error}"
    log.exception("serving falls back: %s", reason)
    serving_state().record_failure(version, reason)
    return reason[:300]


def _check_predictions(predictions, n: int) -> None:
    """Raise ValueError unless ``predictions`` hold n finite probabilities."""
    score = np.asarray(predictions.score, dtype=float)
    if score.shape != (n,) or not np.all(np.isfinite(score)):
        raise ValueError(
            f"the model returned scores of shape {score.shape} for {n} rows"
        )
    if np.any((score < 0) | (score > 1)):
        raise ValueError("the model returned probabilities outside 0..1")


def score_rows(
    rows: np.ndarray, subject: str, explain: bool = False, unit: str = "company"
) -> Scored:
    """Score feature rows with the version routed for ``subject``, or the fallback.

    ``unit`` says whether ``subject`` is a company or an influencer external id.

    With ``explain``, per-feature contributions are computed in the same pass.
    Whatever goes wrong with a model (its artifact refused, or any error while
    it predicts) the fallback answers, and the failure is logged and recorded.
    """
    return score_routed(rows, usable_version(subject, unit=unit), explain)


def score_routed(rows: np.ndarray, routed: Usable, explain: bool = False) -> Scored:
    """Score feature rows with what ``usable_version`` returned (see ``score_rows``).

    Subjects routed alike are scored together in one model call.
    """
    return score_with(
        rows,
        routed.version,
        routed.artifact,
        routed.variant,
        routed.reason,
        explain,
        routed.rollout,
    )


def score_with(
    rows: np.ndarray,
    version: ServedVersion | None,
    artifact: Any,
    variant: str | None,
    reason: str | None,
    explain: bool = False,
    rollout: int | None = None,
) -> Scored:
    """Score feature rows with a loaded match artifact, or the fallback (no version).

    ``reason`` says why the fallback answers when ``version`` is None;
    ``rollout`` is the staged rollout that routed the rows, if one did.
    """
    if version is None or len(rows) == 0:
        return _fallback_scored(rows, explain, reason, variant, rollout)
    plugin = installed_types(current_app).get(MATCH_TYPE)
    try:
        if explain:
            predictions, explained = plugin.predict_and_explain(artifact, rows)
        else:
            predictions, explained = plugin.predict(artifact, rows), None
        _check_predictions(predictions, len(rows))
    except Exception as error:  # any model failure: the fallback serves instead
        reason = model_failed(version, error)
        return _fallback_scored(rows, explain, reason, variant, rollout)
    interval = predictions.interval
    return Scored(
        predictions.score,
        predictions.confidence,
        None if interval is None else np.asarray(interval.low, float),
        None if interval is None else np.asarray(interval.high, float),
        version,
        variant,
        None,
        artifact,
        explained,
        rollout,
    )


def contributions(scored: Scored, rows: np.ndarray) -> np.ndarray:
    """Return signed per-feature contributions for ``rows`` from the same scorer.

    If the model fails to explain, the failure is recorded and the rule-based
    scorer's contributions are shown instead.
    """
    if scored.fallback or len(rows) == 0:
        return fallback.explain(rows)
    plugin = installed_types(current_app).get(MATCH_TYPE)
    try:
        return np.asarray(plugin.explain(scored.artifact, rows), dtype=float)
    except Exception as error:  # any model failure: explain with the fallback
        model_failed(scored.version, error)
        return fallback.explain(rows)


def factors(
    row: np.ndarray, contribution: np.ndarray, top: int = TOP_FACTORS
) -> list[dict[str, Any]]:
    """Return the ``top`` features by absolute contribution, signed, with a true reason."""
    return factor_lists(row[None, :], contribution[None, :], top)[0]


def factor_lists(
    rows: np.ndarray, contributions: np.ndarray, top: int = TOP_FACTORS
) -> list[list[dict[str, Any]]]:
    """Return ``factors`` for every row at once: one sort, each sentence worded once.

    The features of a brand repeat across its pairs, so a sentence already
    worded in this call for the same feature and value is reused.
    """
    if len(rows) == 0:
        return []
    order = np.argsort(-np.abs(contributions), axis=1)[:, :top]
    values = np.take_along_axis(rows, order, axis=1).tolist()
    pushes = np.take_along_axis(contributions, order, axis=1).tolist()
    worded: dict[tuple, str] = {}
    lists = []
    for columns, row_values, row_pushes in zip(
        order.tolist(), values, pushes, strict=True
    ):
        listed = []
        for j, value, push in zip(columns, row_values, row_pushes, strict=True):
            key = (j, value) if j in _WORDED_BY_VALUE else (j, value, push)
            label = worded.get(key)
            if label is None:
                label = worded[key] = reason(FEATURE_NAMES[j], value, push)
            listed.append(
                {
                    "feature": FEATURE_NAMES[j],
                    "label": label,
                    "value": round(value, 4),
                    "contribution": round(push, 4),
                }
            )
        lists.append(listed)
    return lists


def result(
    scored: Scored,
    i: int,
    row: np.ndarray,
    contribution: np.ndarray,
    listed: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return the public description of prediction ``i``.

    :param listed: its factors, when the caller listed many rows' at once.
    """
    interval = None
    if scored.low is not None:
        interval = {
            "low": round(float(scored.low[i]), 4),
            "high": round(float(scored.high[i]), 4),
        }
    return {
        "success_probability": round(float(scored.probability[i]), 4),
        "confidence": round(float(scored.confidence[i]), 4),
        "interval": interval,
        "factors": factors(row, contribution) if listed is None else listed,
        "model": scored.model_info(),
        "fallback": scored.fallback,
        "fallback_reason": scored.fallback_reason,
    }


def log_entries(
    scored: Scored,
    served: list[tuple[int, int, int]],
    subject: str | list[str],
    source: str,
) -> list[dict[str, Any]]:
    """Return one log row per served (row index, influencer id, company id).

    :param subject: the routing subject of every row, or of each row in order.
    """
    subjects = [subject] * len(served) if isinstance(subject, str) else subject
    return [
        prediction_log.entry(
            MATCH_TYPE,
            scored.version,
            row_subject,
            source,
            score=float(scored.probability[i]),
            confidence=float(scored.confidence[i]),
            variant=scored.variant,
            rollout_id=scored.rollout,
            influencer_id=influencer_id,
            company_id=company_id,
        )
        for (i, influencer_id, company_id), row_subject in zip(
            served, subjects, strict=True
        )
    ]


def log_predictions(
    scored: Scored,
    served: list[tuple[int, int, int]],
    subject: str,
    source: str,
) -> None:
    """Log one PredictionLog row per served (row index, influencer id, company id)."""
    prediction_log.write(log_entries(scored, served, subject, source))

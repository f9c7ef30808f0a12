"""Serving any pair type from its declaration: route, predict, check, fall back, log.

A pair type (``Subject.PAIR``) declares its feature set, the outputs its
predictions fill, its score key, its levels and its rule-based fallback; this
module turns those declarations into answers, so a type installed through the
``matchloop.model_types`` entry points serves with no change in core. The
answer holds the type's ``score_key`` and, as declared, ``confidence``,
``interval`` with its ``coverage``, ``level`` and ``factors``; ``model`` and
``fallback`` say who answered. Whatever goes wrong with a model (its artifact
refused, an error while it predicts, outputs that break the declaration) the
type's own fallback answers and the failure is recorded. Every answer is logged.

``match_success`` and ``roi`` keep their own richer paths (the match scorer's
explanations and ranking pool, roi's history-based fallback, which reads the
database); everything else serves here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import current_app

from webapp.learning import feature_sets
from webapp.learning.features import FEATURE_LABELS, FEATURE_NAMES
from webapp.learning.reasons import reason
from webapp.models import Company, Influencer
from webapp.registry.contract import ModelType, Output, Predictions, Subject
from webapp.registry.plugins import installed_types
from webapp.serving import pools, prediction_log
from webapp.serving.predict import Usable, model_failed, routed_groups, usable_version
from webapp.serving.routing import FallsBack, ServedVersion
from webapp.serving.state import current_pool

TOP_FACTORS = 5
# Types served by their own modules (serving.predict_pairs, serving.roi).
OWN_PATHS = frozenset({"match_success", "roi"})


class NotAPairType(LookupError):
    """The name is not an installed pair type served here (the API answers 404)."""


class FallbackFailed(RuntimeError):
    """Even the type's rule-based fallback could not answer (the API answers 503)."""


@dataclass
class TypedScored(FallsBack):
    """One type's predictions for n rows, and who produced them."""

    plugin: ModelType
    predictions: Predictions
    version: ServedVersion | None
    variant: str | None
    fallback_reason: str | None
    # The staged rollout that routed the rows (``variant`` is then its arm).
    rollout: int | None = None


def served_pair_type(name: str) -> ModelType:
    """Return the installed pair type ``name`` served by this module, else NotAPairType."""
    types = installed_types(current_app)
    if name not in types or name in OWN_PATHS:
        raise NotAPairType(f"{name!r} is not an installed model type served here")
    plugin = types.get(name)
    if plugin.subject != Subject.PAIR:
        raise NotAPairType(f"{name!r} predicts about {plugin.subject}, not a pair")
    return plugin


def generic_pair_types() -> list[ModelType]:
    """Return every installed pair type this module serves, by name."""
    types = installed_types(current_app)
    return [
        types.get(name)
        for name in sorted(types.names())
        if name not in OWN_PATHS and types.get(name).subject == Subject.PAIR
    ]


def check_predictions(plugin: ModelType, predictions: Predictions, n: int) -> None:
    """Raise ValueError unless ``predictions`` fill what ``plugin`` declares for n rows."""
    score = np.asarray(predictions.score, dtype=float)
    if score.shape != (n,) or not np.all(np.isfinite(score)):
        raise ValueError(f"the model returned scores of shape {score.shape} for {n}")
    outputs = plugin.outputs
    if Output.CONFIDENCE in outputs:
        confidence = np.asarray(predictions.confidence, dtype=float)
        if confidence.shape != (n,) or not np.all(np.isfinite(confidence)):
            raise ValueError("the model returned no finite confidence per row")
    if Output.INTERVAL in outputs:
        interval = predictions.interval
        if interval is None or not 0 < float(interval.level) < 1:
            raise ValueError("the model returned no interval with a level in (0, 1)")
        low = np.asarray(interval.low, float)
        high = np.asarray(interval.high, float)
        if low.shape != (n,) or high.shape != (n,):
            raise ValueError("the model returned interval bounds of the wrong shape")
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError("the model returned infinite interval bounds")
        if np.any(low > score) or np.any(score > high):
            raise ValueError("the model returned estimates outside their intervals")
    if Output.LEVEL in outputs:
        level = predictions.level
        if level is None or len(level) != n:
            raise ValueError("the model returned no level per row")
        unknown = set(map(str, level)) - set(plugin.levels)
        if unknown:
            raise ValueError(f"the model returned undeclared levels {sorted(unknown)}")
    if Output.FACTORS in outputs:
        names = factor_names(plugin, predictions)
        factors = np.asarray(predictions.factors, dtype=float)
        if factors.shape != (n, len(names)) or not np.all(np.isfinite(factors)):
            raise ValueError(
                f"the model returned factors of shape {factors.shape}, "
                f"expected {(n, len(names))}"
            )


def factor_names(plugin: ModelType, predictions: Predictions) -> list[str]:
    """Return the names of the factor columns: the type's own, else its input features."""
    if predictions.factor_names is not None:
        return list(predictions.factor_names)
    return feature_sets.names(plugin.features)


def _fallback(
    plugin: ModelType,
    rows: np.ndarray,
    reason: str | None,
    variant: str | None = None,
    rollout: int | None = None,
) -> TypedScored:
    """Answer with the type's rule-based fallback; FallbackFailed when it cannot.

    :param variant: the experiment variant the subject is in, logged with the answer.
    """
    try:
        predictions = plugin.fallback(rows)
        check_predictions(plugin, predictions, len(rows))
    except Exception as error:  # a broken fallback: nothing can answer
        raise FallbackFailed(
            f"{plugin.name} fallback failed: {type(error).__name__}: {error}"
        ) from error
    return TypedScored(
        plugin, predictions, None, variant, reason or "no usable version", rollout
    )


def score_rows(plugin: ModelType, rows: np.ndarray, subject: str) -> TypedScored:
    """Score the type's feature ``rows`` with the version routed for ``subject``."""
    names = feature_sets.names(plugin.features)
    return score_routed(plugin, rows, usable_version(subject, plugin.name, names))


def score_routed(plugin: ModelType, rows: np.ndarray, routed: Usable) -> TypedScored:
    """Score the type's feature ``rows`` with what ``usable_version`` returned."""
    version, artifact, variant, reason, rollout = routed
    if version is None or len(rows) == 0:
        return _fallback(plugin, rows, reason, variant, rollout)
    try:
        predictions = plugin.predict(artifact, rows)
        check_predictions(plugin, predictions, len(rows))
    except Exception as error:  # any model failure: the fallback serves instead
        reason = model_failed(version, error)
        return _fallback(plugin, rows, reason, variant, rollout)
    return TypedScored(plugin, predictions, version, variant, None, rollout)


def type_rows(
    plugin: ModelType,
    pairs: list[tuple[Influencer, Company]],
    budgets: list[float | None],
) -> np.ndarray:
    """Return the rows of the type's feature set for ``pairs``, as of now."""
    pool = current_pool()
    rows = pools.pair_rows(pool, [i for i, _ in pairs], [c for _, c in pairs], budgets)
    today = np.full(len(pairs), pools.today_day(), dtype=np.int64)
    influencer_ids = np.array([i.id for i, _ in pairs], dtype=np.int64)
    return feature_sets.extend(plugin.features, rows, influencer_ids, today)


def _factor_label(plugin: ModelType, name: str, value: float, push: float) -> str:
    """Return the words for one factor: a pair feature's reason, else the type's label."""
    if name in plugin.factor_labels:
        return plugin.factor_labels[name]
    if name in FEATURE_NAMES:
        return reason(name, value, push)
    return FEATURE_LABELS.get(name, name.replace("_", " "))


def factors_of(
    scored: TypedScored, i: int, row: np.ndarray, top: int = TOP_FACTORS
) -> list[dict[str, Any]]:
    """Return row ``i``'s ``top`` factors by absolute contribution, signed, with words."""
    predictions = scored.predictions
    names = factor_names(scored.plugin, predictions)
    contribution = np.asarray(predictions.factors, dtype=float)[i]
    if predictions.factor_values is not None:
        values = np.asarray(predictions.factor_values, dtype=float)[i]
    else:
        values = row[: len(names)]
    order = np.argsort(-np.abs(contribution), kind="stable")[:top]
    return [
        {
            "feature": names[j],
            "label": _factor_label(
                scored.plugin, names[j], float(values[j]), float(contribution[j])
            ),
            "value": round(float(values[j]), 4),
            "contribution": round(float(contribution[j]), 4),
        }
        for j in order
        if contribution[j] != 0
    ]


def answer(scored: TypedScored, i: int, row: np.ndarray) -> dict[str, Any]:
    """Return the public description of row ``i``: the declared fields, who answered."""
    plugin, predictions = scored.plugin, scored.predictions
    result: dict[str, Any] = {plugin.score_key: round(float(predictions.score[i]), 4)}
    if Output.CONFIDENCE in plugin.outputs:
        result["confidence"] = round(float(predictions.confidence[i]), 4)
    if Output.INTERVAL in plugin.outputs:
        interval = predictions.interval
        result["interval"] = [
            round(float(interval.low[i]), 4),
            round(float(interval.high[i]), 4),
        ]
        result["coverage"] = round(float(interval.level), 4)
    if Output.LEVEL in plugin.outputs:
        result["level"] = str(predictions.level[i])
    if Output.FACTORS in plugin.outputs:
        result["factors"] = factors_of(scored, i, row)
    result["model"] = {
        "type": plugin.name,
        "version": scored.version.version if scored.version else None,
    }
    result["fallback"] = scored.fallback
    result["fallback_reason"] = scored.fallback_reason
    return result


def predict_pairs(
    name: str,
    pairs: list[tuple[Influencer, Company]],
    budgets: list[float | None] | None = None,
    source: str = "api",
) -> list[dict[str, Any]]:
    """Predict pair type ``name`` for each (influencer, company) pair, routed by company.

    :raises NotAPairType: ``name`` is not an installed pair type served here.
    :raises FallbackFailed: no version could serve and the fallback failed too.
    """
    plugin = served_pair_type(name)
    if not pairs:
        return []
    rows = type_rows(plugin, pairs, budgets or [None] * len(pairs))
    answers: list[dict[str, Any]] = [{}] * len(pairs)
    subjects = [company.external_id for _, company in pairs]
    names = feature_sets.names(plugin.features)
    for routed, members in routed_groups(subjects, plugin.name, names):
        sub = rows[members]
        scored = score_routed(plugin, sub, routed)
        for local, k in enumerate(members):
            influencer, company = pairs[k]
            answers[k] = {
                "influencer_id": influencer.external_id,
                "company_id": company.external_id,
                **answer(scored, local, sub[local]),
            }
        prediction_log.write(
            [
                prediction_log.entry(
                    plugin.name,
                    scored.version,
                    subjects[k],
                    source,
                    score=float(scored.predictions.score[local]),
                    variant=scored.variant,
                    rollout_id=scored.rollout,
                    influencer_id=pairs[k][0].id,
                    company_id=pairs[k][1].id,
                    **typed_fields(scored, local),
                )
                for local, k in enumerate(members)
            ]
        )
    return answers


def typed_fields(scored: TypedScored, i: int) -> dict[str, Any]:
    """Return row ``i``'s confidence, interval and level for the prediction log."""
    predictions = scored.predictions
    fields: dict[str, Any] = {}
    if predictions.confidence is not None:
        fields["confidence"] = float(predictions.confidence[i])
    if predictions.interval is not None:
        fields["interval"] = (
            float(predictions.interval.low[i]),
            float(predictions.interval.high[i]),
            float(predictions.interval.level),
        )
    if predictions.level is not None:
        fields["level"] = str(predictions.level[i])
    return fields


@dataclass
class TypedAnswer:
    """One declared type's answer for a page: the type, and its answer or why none."""

    plugin: ModelType
    answer: dict[str, Any] | None
    error: str | None = None


def answers_for_pair(
    influencer: Influencer, company: Company, budget: float | None, source: str
) -> list[TypedAnswer]:
    """Return every declared pair type's answer for one pair (pages show them all)."""
    shown = []
    for plugin in generic_pair_types():
        try:
            [found] = predict_pairs(
                plugin.name, [(influencer, company)], [budget], source
            )
            shown.append(TypedAnswer(plugin, found))
        except FallbackFailed as error:
            shown.append(TypedAnswer(plugin, None, str(error)))
    return shown

"""Setting up experiments and moving them through their statuses, with history.

``create_experiment`` checks a set-up (the API's body shape; the admin form
builds the same) and stores it as a draft; ``change_running`` changes weights
or coverage, warning when the experiment is running; ``start``, ``stop`` and
``conclude`` move the status with a conditional UPDATE, so two admins clicking
at once cannot both succeed; ``conclude`` can ship the winner's model version
through the registry's ``promote``. Every change is an ``ExperimentChange``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from webapp.core.timeutil import utcnow
from webapp.experiments import outcomes, power
from webapp.experiments.results import METRICS, RATE_METRICS
from webapp.extensions import db
from webapp.models import (
    Experiment,
    ExperimentChange,
    ExperimentVariant,
    ModelVersion,
    User,
)
from webapp.models.experiments import EXPERIMENT_KINDS, EXPERIMENT_UNITS
from webapp.operations import audit
from webapp.registry import versions as registry
from webapp.registry.choices import type_mismatch
from webapp.registry.contract import Subject
from webapp.registry.plugins import installed_types
from webapp.serving.coherence import routing_changed

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
MIN_VARIANTS, MAX_VARIANTS = 2, 6
# Stricter than GrowthBook's 0.01, so an SDK never falls back to equal weights.
WEIGHT_TOLERANCE = 1e-3
DEFAULT_MDE = 0.1
# Which statuses each action may leave, and where it goes.
TRANSITIONS = {
    "start": (("draft",), "running", "started_at"),
    "stop": (("running",), "stopped", "stopped_at"),
    "conclude": (("running", "stopped"), "concluded", "concluded_at"),
}
CHANGEABLE_STATUSES = ("draft", "running")
# Interleaving mixes two rankings of match success and credits picks per item.
INTERLEAVING_TYPE = "match_success"
INTERLEAVING_METRICS = RATE_METRICS


class ExperimentError(ValueError):
    """A set-up or change that cannot be made; ``problems`` are ``{path, message}``."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['path']}: {p['message']}" for p in problems))
        self.problems = problems


class WrongStatus(ValueError):
    """An action the experiment's status (perhaps just changed) does not allow."""


def problem(path: str, message: str) -> dict[str, str]:
    """Return one ``{path, message}`` entry."""
    return {"path": path, "message": message}


def pair_types() -> list[str]:
    """Return the installed pair model types (the ones an experiment can route)."""
    return sorted(
        plugin.name
        for plugin in installed_types(current_app)
        if plugin.subject == Subject.PAIR
    )


def check_variants(
    variants: list[Mapping[str, Any]], model_type: str
) -> list[dict[str, str]]:
    """Return the problems of a variant list (count, keys, weights, versions)."""
    found = []
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        found.append(
            problem("variants", f"give {MIN_VARIANTS} to {MAX_VARIANTS} variants")
        )
    keys = [variant.get("key") for variant in variants]
    for index, key in enumerate(keys):
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            found.append(
                problem(
                    f"variants/{index}/key",
                    "use 2-64 lower-case letters, digits, - or _",
                )
            )
        elif keys.index(key) != index:
            found.append(problem(f"variants/{index}/key", f"{key!r} is repeated"))
    weights = [variant.get("weight") for variant in variants]
    if all(isinstance(w, int | float) and math.isfinite(w) for w in weights):
        if any(not 0 <= w <= 1 for w in weights):
            found.append(problem("variants", "each weight must lie in 0..1"))
        elif variants and abs(sum(weights) - 1) > WEIGHT_TOLERANCE:
            found.append(
                problem(
                    "variants", f"weights must sum to 1 (they sum to {sum(weights):g})"
                )
            )
    else:
        found.append(problem("variants", "every variant needs a numeric weight"))
    for index, variant in enumerate(variants):
        version_id = variant.get("model_version_id")
        if version_id is None:
            continue  # the rule-based scorer
        version = db.session.get(ModelVersion, version_id)
        if version is None:
            found.append(
                problem(
                    f"variants/{index}/model_version_id",
                    f"there is no model version {version_id}",
                )
            )
        elif (reason := type_mismatch(version, model_type)) is not None:
            found.append(problem(f"variants/{index}/model_version_id", reason))
    return found


def check_setup(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return every problem of an experiment set-up (empty when it can be stored)."""
    found = []
    key = data.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        found.append(problem("key", "use 2-64 lower-case letters, digits, - or _"))
    elif db.session.scalar(select(Experiment.id).where(Experiment.key == key)):
        found.append(problem("key", f"an experiment {key!r} exists already"))
    model_type = data.get("model_type")
    if model_type not in pair_types():
        found.append(problem("model_type", f"choose one of {', '.join(pair_types())}"))
    if data.get("unit") not in EXPERIMENT_UNITS:
        found.append(problem("unit", "choose company or influencer"))
    coverage = data.get("coverage", 1.0)
    if not isinstance(coverage, int | float) or not 0 <= coverage <= 1:
        found.append(problem("coverage", "coverage must lie in 0..1"))
    metric = data.get("metric")
    if metric not in METRICS:
        found.append(problem("metric", f"choose one of {', '.join(METRICS)}"))
    for index, name in enumerate(data.get("guardrails") or []):
        if name not in METRICS or name == metric:
            found.append(
                problem(f"guardrails/{index}", "a guardrail is another known metric")
            )
    found += check_namespace(data.get("namespace"))
    kind = data.get("kind", "ab")
    if kind not in EXPERIMENT_KINDS:
        found.append(problem("kind", f"choose one of {', '.join(EXPERIMENT_KINDS)}"))
    elif kind == "interleaving":
        found += check_interleaving(data)
    if not isinstance(data.get("sequential", False), bool):
        found.append(problem("sequential", "sequential is true or false"))
    mde = data.get("mde", DEFAULT_MDE)
    if mde is not None and (not isinstance(mde, int | float) or not 0 < mde <= 10):
        found.append(problem("mde", "the minimum detectable effect lies in (0, 10]"))
    found += check_variants(list(data.get("variants") or []), model_type)
    return found


def check_interleaving(data: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return what an interleaving set-up needs beyond an A/B one.

    Two variants rank match success for the lists a unit sees; the metric is a
    per-item event (an acceptance or a success) that can be credited to the
    variant whose ranking contributed the item. Weights play no part.
    """
    found = []
    if data.get("model_type") != INTERLEAVING_TYPE:
        found.append(
            problem("model_type", f"interleaving ranks {INTERLEAVING_TYPE} lists")
        )
    if len(data.get("variants") or []) != 2:
        found.append(problem("variants", "interleaving mixes exactly 2 variants"))
    if data.get("metric") not in INTERLEAVING_METRICS:
        found.append(
            problem(
                "metric",
                f"interleaving credits {' or '.join(INTERLEAVING_METRICS)} per item",
            )
        )
    if data.get("guardrails"):
        found.append(problem("guardrails", "interleaving takes no guardrails"))
    return found


def with_default_weights(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``data`` with equal weights filled in for an interleaving set-up."""
    variants = data.get("variants")
    if data.get("kind") != "interleaving" or not isinstance(variants, list):
        return dict(data)
    share = 1 / len(variants) if variants else 1.0
    filled = [
        {
            **variant,
            "weight": share if variant.get("weight") is None else variant["weight"],
        }
        if isinstance(variant, Mapping)
        else variant
        for variant in variants
    ]
    return {**data, "variants": filled}


def check_namespace(namespace: Any) -> list[dict[str, str]]:
    """Return the problems of an optional ``{"id", "start", "end"}`` namespace."""
    if namespace is None:
        return []
    if not isinstance(namespace, Mapping) or not isinstance(namespace.get("id"), str):
        return [problem("namespace", "give {id, start, end} or null")]
    start, end = namespace.get("start"), namespace.get("end")
    numbers = all(isinstance(v, int | float) for v in (start, end))
    if not numbers or not 0 <= start < end <= 1:
        return [problem("namespace", "need 0 <= start < end <= 1")]
    return []


def required_sample_size(
    metric: str, mde: float | None, baseline: float | None = None
) -> tuple[float | None, int | None]:
    """Return (baseline, units per variant) to detect ``mde`` at power 0.8, alpha 0.05.

    The baseline is the app's own data for the metric unless one is given;
    (baseline, None) when it cannot be computed (no data, or an impossible lift).
    """
    estimate = outcomes.baseline(metric)
    if baseline is None:
        baseline = estimate.mean
    if mde is None or baseline is None:
        return baseline, None
    try:
        if metric in RATE_METRICS:
            return baseline, power.rate_sample_size(baseline, mde)
        if not estimate.std_dev:
            return baseline, None
        return baseline, power.mean_sample_size(baseline, estimate.std_dev, mde)
    except ValueError:
        return baseline, None


def record(
    experiment: Experiment,
    action: str,
    actor: User | None,
    changes: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
) -> ExperimentChange:
    """Add a history entry to ``experiment`` (not committed)."""
    entry = ExperimentChange(
        experiment=experiment,
        action=action,
        actor_id=actor.id if actor else None,
        changes=changes or {},
        warnings=warnings or [],
        created_at=utcnow(),
    )
    db.session.add(entry)
    audit.record(
        f"experiment.{action}",
        "experiment",
        experiment.key,
        actor,
        {"changes": entry.changes, "warnings": entry.warnings},
    )
    return entry


def create_experiment(data: Mapping[str, Any], actor: User | None) -> Experiment:
    """Check and store a set-up as a draft experiment; commit.

    :raises ExperimentError: with every problem found.
    """
    data = with_default_weights(data)
    problems = check_setup(data)
    if problems:
        raise ExperimentError(problems)
    kind = data.get("kind", "ab")
    metric, mde = data["metric"], data.get("mde", DEFAULT_MDE)
    baseline, sample_size = required_sample_size(metric, mde, data.get("baseline"))
    if kind == "interleaving":
        sample_size = None  # a preference test: its size is not the A/B formula's
    experiment = Experiment(
        key=data["key"],
        name=data.get("name") or data["key"],
        hypothesis=data.get("hypothesis") or "",
        model_type=data["model_type"],
        unit=data["unit"],
        kind=kind,
        sequential=bool(data.get("sequential", False)),
        coverage=float(data.get("coverage", 1.0)),
        metric=metric,
        guardrails=list(data.get("guardrails") or []),
        namespace=dict(data["namespace"]) if data.get("namespace") else None,
        mde=mde,
        baseline=baseline,
        required_sample_size=sample_size,
        status="draft",
        created_by_id=actor.id if actor else None,
    )
    for position, variant in enumerate(data["variants"]):
        experiment.variants.append(
            ExperimentVariant(
                position=position,
                key=variant["key"],
                name=variant.get("name") or variant["key"],
                weight=float(variant["weight"]),
                model_version_id=variant.get("model_version_id"),
            )
        )
    db.session.add(experiment)
    record(experiment, "create", actor, {"variants": experiment_weights(experiment)})
    db.session.commit()
    return experiment


def experiment_weights(experiment: Experiment) -> dict[str, float]:
    """Return ``{variant key: weight}`` in set-up order."""
    return {variant.key: variant.weight for variant in experiment.variants}


def change_running(
    experiment: Experiment, data: Mapping[str, Any], actor: User | None
) -> list[str]:
    """Change variant weights and/or coverage; commit; return the warnings recorded.

    Units keep the variant they were first given (assignments are sticky), so a
    change only affects units assigned from now on; on a running experiment that
    makes the groups differ in when they joined, which is warned about.

    :raises ExperimentError: unknown variant keys, weights not summing to 1, ...
    :raises WrongStatus: the experiment is stopped or concluded.
    """
    if experiment.status not in CHANGEABLE_STATUSES:
        raise WrongStatus(f"A {experiment.status} experiment cannot be changed.")
    before = experiment_weights(experiment)
    after = dict(before)
    problems = []
    for index, item in enumerate(data.get("variants") or []):
        if item.get("key") not in before:
            problems.append(
                problem(f"variants/{index}/key", f"no variant {item.get('key')!r}")
            )
        else:
            after[item["key"]] = item.get("weight")
    merged = [{"key": key, "weight": weight} for key, weight in after.items()]
    problems += [p for p in check_variants(merged, experiment.model_type)]
    coverage = data.get("coverage", experiment.coverage)
    if not isinstance(coverage, int | float) or not 0 <= coverage <= 1:
        problems.append(problem("coverage", "coverage must lie in 0..1"))
    if problems:
        raise ExperimentError(problems)
    changes: dict[str, Any] = {}
    if after != before:
        changes["weights"] = [before, after]
    if coverage != experiment.coverage:
        changes["coverage"] = [experiment.coverage, coverage]
    if not changes:
        return []
    warnings = []
    if experiment.status == "running":
        warnings.append(
            "Changed while running: units already assigned keep their variant, "
            "new units follow the new split, so the groups now differ in when "
            "they joined (Simpson's paradox is possible); consider a new experiment."
        )
        if "weights" in changes:
            warnings.append(
                "The sample-ratio check compares exposures with the new weights."
            )
    for variant in experiment.variants:
        variant.weight = float(after[variant.key])
    experiment.coverage = float(coverage)
    record(experiment, "edit", actor, changes, warnings)
    routing_changed()
    db.session.commit()
    return warnings


def move(experiment: Experiment, action: str, actor: User | None, **details) -> None:
    """Take ``action`` (start, stop, conclude) if the status allows it; commit.

    :raises WrongStatus: the status does not allow it, perhaps because someone
        changed it a moment ago; nothing is written.
    """
    sources, target, stamp = TRANSITIONS[action]
    applied = db.session.execute(
        update(Experiment)
        .where(Experiment.id == experiment.id, Experiment.status.in_(sources))
        .values(status=target, **{stamp: utcnow()})
        .execution_options(synchronize_session=False)
    )
    if applied.rowcount != 1:
        db.session.rollback()
        db.session.refresh(experiment)
        raise WrongStatus(
            f"The experiment is {experiment.status}, so it cannot be {target}."
        )
    record(experiment, action, actor, details)
    routing_changed()
    db.session.commit()
    db.session.refresh(experiment)


def start(experiment: Experiment, actor: User | None) -> None:
    """Start a draft experiment: from now on it routes the units it covers."""
    move(experiment, "start", actor)


def stop(experiment: Experiment, actor: User | None) -> None:
    """Stop a running experiment: units go back to the active version."""
    move(experiment, "stop", actor)


def conclude(experiment: Experiment, actor: User | None, ship: bool = False) -> str:
    """Conclude the experiment; with ``ship``, make the winner's version active.

    Returns a sentence for the admin. Shipping needs a winner that serves a
    model version (the rule-based scorer cannot be promoted); the experiment's
    result is the evidence, so a worse held-out score does not block it, but
    it is recorded as a warning.

    :raises WrongStatus: the experiment is not running or stopped.
    :raises ExperimentError: ``ship`` without a shippable winner.
    :raises registry.RegistryActionError: the version cannot be promoted.
    """
    if experiment.status not in TRANSITIONS["conclude"][0]:
        raise WrongStatus(
            f"The experiment is {experiment.status}, so it cannot be concluded."
        )
    if not ship:
        move(experiment, "conclude", actor)
        return f"Experiment {experiment.key} concluded; nothing was shipped."
    winner = outcomes.results(experiment)["winner"]
    variant = next((v for v in experiment.variants if v.key == winner), None)
    if variant is None:
        raise ExperimentError([problem("winner", "there is no winner to ship yet")])
    if variant.model_version is None:
        raise ExperimentError(
            [
                problem(
                    "winner", f"{winner} serves the rule-based scorer: nothing to ship"
                )
            ]
        )
    version = variant.model_version
    warnings = []
    note = f"experiment {experiment.key}: variant {winner} won"
    if version.status != "active":
        worse = registry.regression(version)
        if worse is not None:
            warnings.append(worse.message())
        registry.promote(version, actor, note=note, confirm_worse=True)
    experiment.shipped_variant = winner
    move(
        experiment,
        "conclude",
        actor,
        shipped=winner,
        version=version.label,
        warnings=warnings,
    )
    return (
        f"Experiment {experiment.key} concluded; {version.label} ({winner}) is active."
    )


def by_key(key: str) -> Experiment | None:
    """Return the experiment with ``key``, or None."""
    return db.session.scalar(select(Experiment).where(Experiment.key == key))

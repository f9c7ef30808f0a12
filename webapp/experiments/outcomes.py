"""An experiment's conversions, read from the app's own data, and its results.

A unit counts once exposed (its first exposure event). Conversions after that
moment come from the marketplace and from events other systems sent:

- acceptance: a collaboration of the unit was accepted (a status change);
- success: a collaboration of the unit, proposed after the exposure, is a
  success by the label rule (``webapp.learning.labels.success_label``);
- rating / roi: the brand's rating and the ROI achieved of such collaborations.

``results`` aggregates these per variant into the input of
``webapp.experiments.results.experiment_results``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from flask import current_app
from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import aliased

from webapp.experiments import interleaving_results, sequential
from webapp.experiments.cuped import CovariateVariant, cuped_analysis
from webapp.experiments.results import (
    MEAN_METRICS,
    MeanVariant,
    RateVariant,
    analyze_metric,
    experiment_results,
)
from webapp.extensions import db
from webapp.learning.labels import success_label
from webapp.models import (
    Collaboration,
    Company,
    ExperimentAssignment,
    ExperimentEvent,
    Influencer,
    Outcome,
    StatusChange,
)

# Which event type feeds each metric.
METRIC_EVENTS = {
    "acceptance_rate": "acceptance",
    "success_rate": "success",
    "mean_rating": "rating",
    "mean_roi": "roi",
}

# A unit's observations: (when, value) pairs; value 1.0 for a rate conversion.
Observations = dict[str, list[tuple[datetime, float]]]


@dataclass(frozen=True)
class Baseline:
    """The app's current level of a metric: mean (a rate or a mean) and spread."""

    mean: float | None
    std_dev: float | None
    count: int


def _min_rating() -> int:
    return int(current_app.config["SUCCESS_MIN_RATING"])


def baseline(metric: str) -> Baseline:
    """Return the metric's level over all collaborations so far (for sample sizes)."""
    if metric == "acceptance_rate":
        accepted = (
            select(StatusChange.collaboration_id)
            .where(StatusChange.status == "accepted")
            .distinct()
            .scalar_subquery()
        )
        total = db.session.scalar(select(func.count(Collaboration.id))) or 0
        hits = db.session.scalar(
            select(func.count(Collaboration.id)).where(Collaboration.id.in_(accepted))
        )
        return Baseline(hits / total if total else None, None, total)
    query = select(
        success_label(_min_rating()), Outcome.success_rating, Outcome.roi_achieved
    ).join(Outcome.collaboration)
    rows = db.session.execute(query.where(Outcome.rater_side == "company")).all()
    column = {"success_rate": 0, "mean_rating": 1, "mean_roi": 2}[metric]
    values = np.array([r[column] for r in rows if r[column] is not None], float)
    if len(values) == 0:
        return Baseline(None, None, 0)
    spread = float(values.std(ddof=1)) if len(values) > 1 else None
    return Baseline(float(values.mean()), spread, len(values))


def exposures(experiment) -> dict[str, tuple[str, datetime]]:
    """Return ``{unit: (variant key, exposed at)}`` of the exposed, assigned units."""
    rows = db.session.execute(
        select(
            ExperimentEvent.unit_id,
            ExperimentAssignment.variant_key,
            ExperimentEvent.occurred_at,
        )
        .join(
            ExperimentAssignment,
            and_(
                ExperimentAssignment.experiment_id == ExperimentEvent.experiment_id,
                ExperimentAssignment.unit_id == ExperimentEvent.unit_id,
            ),
        )
        .where(
            ExperimentEvent.experiment_id == experiment.id,
            ExperimentEvent.type == "exposure",
        )
    ).all()
    return {unit: (variant, at) for unit, variant, at in rows}


def assigned_counts(experiment) -> dict[str, int]:
    """Return how many units each variant was assigned."""
    rows = db.session.execute(
        select(ExperimentAssignment.variant_key, func.count())
        .where(ExperimentAssignment.experiment_id == experiment.id)
        .group_by(ExperimentAssignment.variant_key)
    ).all()
    return dict(rows)


def _exposure_alias():
    """Return an alias of the events table restricted to exposures in queries."""
    return aliased(ExperimentEvent)


def metric_rows(experiment, metric: str):
    """Return a SELECT of (unit, observed at, value, proposed at) of ``metric``.

    One row per acceptance (both times are the status change's) or per brand
    rating of a collaboration (observed when rated; proposed when created),
    from the marketplace's own data, for every unit of the experiment's kind.
    """
    entity = Company if experiment.unit == "company" else Influencer
    side = (
        Collaboration.company_id
        if experiment.unit == "company"
        else Collaboration.influencer_id
    )
    if metric == "acceptance_rate":
        return (
            select(
                entity.external_id.label("unit"),
                StatusChange.created_at.label("at"),
                literal(1.0).label("value"),
                StatusChange.created_at.label("proposed_at"),
            )
            .join(Collaboration, StatusChange.collaboration_id == Collaboration.id)
            .join(entity, entity.id == side)
            .where(StatusChange.status == "accepted")
        )
    value = {
        "success_rate": success_label(_min_rating()),
        "mean_rating": Outcome.success_rating,
        "mean_roi": Outcome.roi_achieved,
    }[metric]
    query = (
        select(
            entity.external_id.label("unit"),
            Outcome.rated_at.label("at"),
            value.label("value"),
            Collaboration.created_at.label("proposed_at"),
        )
        .join(Outcome.collaboration)
        .join(entity, entity.id == side)
        .where(Outcome.rater_side == "company")
    )
    if metric == "success_rate":
        query = query.where(value == 1)
    elif metric == "mean_roi":
        query = query.where(Outcome.roi_achieved.is_not(None))
    return query


def app_observations(experiment, metric: str) -> Observations:
    """Return per unit the metric's observations from the marketplace, after exposure.

    A collaboration counts when proposed (an acceptance: when it happened) at
    or after the unit's exposure.
    """
    rows = metric_rows(experiment, metric).subquery()
    exposed = _exposure_alias()
    query = select(rows.c.unit, rows.c.at, rows.c.value).join(
        exposed,
        and_(
            exposed.experiment_id == experiment.id,
            exposed.type == "exposure",
            exposed.unit_id == rows.c.unit,
            rows.c.proposed_at >= exposed.occurred_at,
        ),
    )
    found: Observations = defaultdict(list)
    for unit, at, observed in db.session.execute(query).all():
        found[unit].append((at, float(observed)))
    return found


def pre_period_values(experiment, metric: str) -> dict[str, float]:
    """Return each unit's value of ``metric`` before the experiment started.

    The CUPED covariate: over the ``CUPED_LOOKBACK_DAYS`` before the start,
    what was known at the start (proposed and observed before it). For rate
    metrics 1.0 when the unit converted then; for mean metrics the mean of its
    values. Units with nothing then are absent.
    """
    started = experiment.started_at
    if started is None:
        return {}
    since = started - timedelta(days=int(current_app.config["CUPED_LOOKBACK_DAYS"]))
    rows = metric_rows(experiment, metric).subquery()
    query = select(rows.c.unit, rows.c.value).where(
        rows.c.proposed_at >= since, rows.c.proposed_at < started, rows.c.at < started
    )
    values: dict[str, list[float]] = defaultdict(list)
    for unit, value in db.session.execute(query).all():
        values[unit].append(float(value))
    return {unit: float(np.mean(items)) for unit, items in values.items()}


def sent_observations(experiment, metric: str) -> Observations:
    """Return per unit the metric's events other systems sent, after exposure."""
    exposed = _exposure_alias()
    event = aliased(ExperimentEvent)
    rows = db.session.execute(
        select(event.unit_id, event.occurred_at, event.value)
        .join(
            exposed,
            and_(
                exposed.experiment_id == event.experiment_id,
                exposed.unit_id == event.unit_id,
                exposed.type == "exposure",
            ),
        )
        .where(
            event.experiment_id == experiment.id,
            event.type == METRIC_EVENTS[metric],
            event.occurred_at >= exposed.occurred_at,
        )
    ).all()
    found: Observations = defaultdict(list)
    for unit, at, value in rows:
        found[unit].append((at, 1.0 if value is None else float(value)))
    return found


def observations(experiment, metric: str) -> Observations:
    """Return per unit every observation of ``metric`` after its exposure."""
    found = app_observations(experiment, metric)
    for unit, items in sent_observations(experiment, metric).items():
        found[unit].extend(items)
    return found


def variant_inputs(
    experiment,
    metric: str,
    exposed: dict[str, tuple[str, datetime]],
    assigned: dict[str, int],
    seen: Observations | None = None,
    until: datetime | None = None,
) -> list[RateVariant | MeanVariant]:
    """Return the per-variant inputs of ``metric`` in set-up order.

    :param seen: the metric's observations, when the caller has them.
    :param until: count only exposures and observations up to this moment.
    """
    seen = observations(experiment, metric) if seen is None else seen
    inputs = []
    for variant in experiment.variants:
        units = [
            unit
            for unit, (key, at) in exposed.items()
            if key == variant.key and (until is None or at <= until)
        ]
        per_unit = [
            [value for at, value in seen.get(unit, []) if until is None or at <= until]
            for unit in units
        ]
        count = assigned.get(variant.key, 0)
        if metric in MEAN_METRICS:
            means = [float(np.mean(values)) for values in per_unit if values]
            inputs.append(
                MeanVariant.from_values(variant.key, count, len(units), means)
            )
        else:
            converted = sum(1 for values in per_unit if values)
            inputs.append(RateVariant(variant.key, count, len(units), converted))
    return inputs


def results(experiment) -> dict:
    """Return the experiment's results document (the results API's body)."""
    if experiment.kind == "interleaving":
        return interleaving_results.results(experiment)
    exposed = exposures(experiment)
    assigned = assigned_counts(experiment)
    seen = observations(experiment, experiment.metric)
    document = experiment_results(
        key=experiment.key,
        status=experiment.status,
        metric=experiment.metric,
        variants=variant_inputs(experiment, experiment.metric, exposed, assigned, seen),
        weights=experiment.weights,
        guardrails={
            name: variant_inputs(experiment, name, exposed, assigned)
            for name in experiment.guardrails or []
        },
        required_sample_size=experiment.required_sample_size,
        sequential_tuning=sequential.DEFAULT_TUNING if experiment.sequential else None,
    )
    return {
        **document,
        "kind": experiment.kind,
        "sequential": experiment.sequential,
        "cuped": cuped_results(experiment, exposed, seen),
    }


def cuped_results(
    experiment, exposed: dict[str, tuple[str, datetime]], seen: Observations
) -> dict | None:
    """Return the primary metric's CUPED analysis, or None when it cannot be made.

    Each exposed unit's metric (for rates 1.0 if it converted, else 0.0; for
    means the mean of its values, over units that have one) is paired with its
    pre-experiment value of the same metric (``pre_period_values``). A unit
    with no pre-period value gets 0 for rate metrics (it did not convert) and
    the pooled mean of the others for mean metrics, so it adds no covariance.
    """
    pre = pre_period_values(experiment, experiment.metric)
    rate = experiment.metric not in MEAN_METRICS
    pairs: dict[str, list[tuple[float, float | None]]] = {
        variant.key: [] for variant in experiment.variants
    }
    for unit, (key, _at) in exposed.items():
        values = [value for _, value in seen.get(unit, [])]
        if rate:
            pairs[key].append((1.0 if values else 0.0, pre.get(unit, 0.0)))
        elif values:
            pairs[key].append((float(np.mean(values)), pre.get(unit)))
    known = [x for items in pairs.values() for _, x in items if x is not None]
    fill = float(np.mean(known)) if known else 0.0
    variants = [
        CovariateVariant.from_values(
            key,
            [y for y, _ in items],
            [fill if x is None else x for _, x in items],
        )
        for key, items in pairs.items()
    ]
    if any(variant.count < 2 for variant in variants):
        return None
    analysis = cuped_analysis(variants)
    return {
        **analysis,
        "units_with_pre_period": len(known),
        "lookback_days": int(current_app.config["CUPED_LOOKBACK_DAYS"]),
    }


def days_between(first: date, last: date) -> Iterable[date]:
    """Yield every day from ``first`` to ``last`` inclusive."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def daily_rows(experiment, max_days: int = 120) -> list[tuple[date, list[dict]]]:
    """Return per day the primary metric's result rows over what was known by then.

    Cumulative: each day counts the units exposed and the observations made up
    to its end, so the last day equals ``results``. At most ``max_days`` days.
    """
    exposed = exposures(experiment)
    if not exposed:
        return []
    seen = observations(experiment, experiment.metric)
    assigned = assigned_counts(experiment)
    first = min(at for _, at in exposed.values()).date()
    last = max(
        [at for _, at in exposed.values()]
        + [at for items in seen.values() for at, _ in items]
    ).date()
    series = []
    for day in days_between(max(first, last - timedelta(days=max_days - 1)), last):
        until = datetime.combine(day, datetime.max.time())
        inputs = variant_inputs(
            experiment, experiment.metric, exposed, assigned, seen, until
        )
        series.append((day, analyze_metric(experiment.metric, inputs)))
    return series

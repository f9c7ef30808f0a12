"""Experiments through the API: set-up and statuses (admins), assignment and events.

Admins set experiments up, change, start, stop and conclude them and read their
results. Assignment takes any token (it is deterministic, as GrowthBook's SDKs
compute it client-side); events take any token too, but members may only send
events of their own company or influencer, so no one skews another's numbers.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, url_for
from sqlalchemy import func, select

from webapp.core.pagination import API_PAGE_PARAMETERS as PAGE_PARAMETERS
from webapp.core.timeutil import iso_utc
from webapp.experiments import outcomes, store, units
from webapp.extensions import db
from webapp.models import Experiment
from webapp.registry.versions import RegistryActionError
from webapp.serving.state import serving_state
from webapp.views.api.auth import api_caller, own_ids, require_admin
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError
from webapp.views.api.validation import fail, json_body, query_args


def describe(experiment: Experiment) -> dict[str, Any]:
    """Return the JSON description of an experiment with its history."""
    return {
        "key": experiment.key,
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "model_type": experiment.model_type,
        "unit": experiment.unit,
        "kind": experiment.kind,
        "sequential": experiment.sequential,
        "status": experiment.status,
        "coverage": experiment.coverage,
        "metric": experiment.metric,
        "guardrails": list(experiment.guardrails or []),
        "namespace": experiment.namespace,
        "mde": experiment.mde,
        "baseline": experiment.baseline,
        "required_sample_size": experiment.required_sample_size,
        "variants": [
            {
                "key": variant.key,
                "name": variant.name,
                "weight": variant.weight,
                "model_version_id": variant.model_version_id,
                "serves": variant.model_version.label
                if variant.model_version
                else "rule-based scorer",
            }
            for variant in experiment.variants
        ],
        "shipped_variant": experiment.shipped_variant,
        "created_at": iso_utc(experiment.created_at),
        "started_at": iso_utc(experiment.started_at),
        "stopped_at": iso_utc(experiment.stopped_at),
        "concluded_at": iso_utc(experiment.concluded_at),
        "history": [
            {
                "action": change.action,
                "actor": change.actor.email if change.actor else None,
                "changes": change.changes or {},
                "warnings": change.warnings or [],
                "created_at": iso_utc(change.created_at),
            }
            for change in experiment.changes
        ],
        "links": {
            "self": url_for("api.experiment", key=experiment.key),
            "results": url_for("api.experiment_results", key=experiment.key),
        },
    }


def find(key: str) -> Experiment:
    """Return the experiment ``key``, or raise 404."""
    experiment = store.by_key(key)
    if experiment is None:
        raise ApiError(404, "not_found", f"No experiment {key[:64]!r}.")
    return experiment


def conflict(error: store.WrongStatus, experiment: Experiment) -> ApiError:
    """Return the 409 of an action the status does not allow."""
    return ApiError(
        409, "wrong_status", {"message": str(error), "status": experiment.status}
    )


def switch_routing() -> None:
    """Load this process's new routing now (every process reloads it on its own)."""
    serving_state().routing.warm()


@bp.get("/experiments")
def experiments():
    """List experiments, newest first, a page at a time."""
    require_admin()
    page = query_args(PAGE_PARAMETERS)["page"]
    per_page = int(current_app.config["PER_PAGE"])
    total = db.session.scalar(select(func.count(Experiment.id))) or 0
    rows = db.session.scalars(
        select(Experiment)
        .order_by(Experiment.created_at.desc(), Experiment.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return jsonify(
        experiments=[describe(row) for row in rows],
        page=page,
        pages=-(-total // per_page),
        total=total,
    )


@bp.post("/experiments")
def experiment_create():
    """Set up an experiment as a draft."""
    user = require_admin()
    body = json_body("ExperimentCreate")
    try:
        experiment = store.create_experiment(body, user)
    except store.ExperimentError as error:
        raise fail(error.problems) from None
    return jsonify(describe(experiment)), 201


@bp.get("/experiments/<key>")
def experiment(key: str):
    """Show an experiment's set-up and history."""
    require_admin()
    return jsonify(describe(find(key)))


@bp.patch("/experiments/<key>")
def experiment_change(key: str):
    """Change weights and/or coverage; warnings are recorded when it is running."""
    user = require_admin()
    target = find(key)
    body = json_body("ExperimentChange")
    try:
        warnings = store.change_running(target, body, user)
    except store.WrongStatus as error:
        raise conflict(error, target) from None
    except store.ExperimentError as error:
        raise fail(error.problems) from None
    switch_routing()
    return jsonify(experiment=describe(target), warnings=warnings)


def status_action(key: str, action) -> Experiment:
    """Take a status action on experiment ``key`` as the admin calling."""
    user = require_admin()
    target = find(key)
    try:
        action(target, user)
    except store.WrongStatus as error:
        raise conflict(error, target) from None
    switch_routing()
    return target


@bp.post("/experiments/<key>/start")
def experiment_start(key: str):
    """Start a draft experiment."""
    return jsonify(describe(status_action(key, store.start)))


@bp.post("/experiments/<key>/stop")
def experiment_stop(key: str):
    """Stop a running experiment."""
    return jsonify(describe(status_action(key, store.stop)))


@bp.post("/experiments/<key>/conclude")
def experiment_conclude(key: str):
    """Conclude an experiment, shipping the winner's version when asked."""
    user = require_admin()
    target = find(key)
    body = json_body("ConcludeRequest") if request.get_data(cache=True) else {}
    try:
        message = store.conclude(target, user, ship=bool(body.get("ship")))
    except store.WrongStatus as error:
        raise conflict(error, target) from None
    except (store.ExperimentError, RegistryActionError) as error:
        raise ApiError(409, "cannot_ship", str(error)) from None
    switch_routing()
    return jsonify(experiment=describe(target), message=message)


@bp.get("/experiments/<key>/results")
def experiment_results(key: str):
    """Return the experiment's per-variant statistics and its winner."""
    require_admin()
    return jsonify(outcomes.results(find(key)))


@bp.post("/experiments/<key>/assign")
def experiment_assign(key: str):
    """Return a unit's variant; a running experiment stores its first assignment."""
    target = find(key)
    body = json_body("AssignRequest")
    if target.status != "running":
        return jsonify(variant=None, in_experiment=False)
    variant = units.assignment_for(units.AssignmentRule.of(target), body["unit_id"])
    db.session.commit()
    return jsonify(variant=variant, in_experiment=variant is not None)


@bp.post("/experiments/<key>/events")
def experiment_event(key: str):
    """Record an exposure or a conversion of an assigned unit."""
    caller = api_caller()
    target = find(key)
    body = json_body("EventRequest")
    unit_id, event_type, value = body["unit_id"], body["type"], body.get("value")
    if not caller.is_admin and unit_id not in own_ids(caller):
        raise ApiError(
            403, "forbidden", "Members may only send events of their own unit."
        )
    problems = units.event_problems(event_type, value)
    if problems:
        raise fail(problems)
    if target.status not in units.EVENT_STATUSES:
        raise ApiError(
            409,
            "wrong_status",
            {
                "message": f"A {target.status} experiment takes no events.",
                "status": target.status,
            },
        )
    if units.stored_variant(target.id, unit_id) is None:
        raise ApiError(
            409,
            "not_assigned",
            {
                "message": f"Unit {unit_id[:64]!r} has no assignment; assign it first.",
                "status": target.status,
            },
        )
    recorded = units.record_event(target.id, unit_id, event_type, value, "api")
    return jsonify(recorded=recorded, unit_id=unit_id, type=event_type)

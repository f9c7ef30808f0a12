"""Rollouts through the API (admins): set up, list, show, and move them by hand."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from sqlalchemy import func, select

from webapp.core.pagination import API_PAGE_PARAMETERS as PAGE_PARAMETERS
from webapp.core.timeutil import iso_utc
from webapp.extensions import db
from webapp.models import Rollout, RolloutEvent
from webapp.registry.versions import RegistryActionError
from webapp.rollouts import actions, store
from webapp.serving.state import serving_state
from webapp.views.api.auth import require_admin
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError
from webapp.views.api.validation import fail, json_body, query_args


def describe_event(event: RolloutEvent) -> dict[str, Any]:
    """Return the JSON of one timeline entry."""
    return {
        "action": event.action,
        "actor": event.actor.email if event.actor else None,
        "from_percent": event.from_percent,
        "to_percent": event.to_percent,
        "reason": event.reason,
        "numbers": event.numbers or {},
        "created_at": iso_utc(event.created_at),
    }


def describe(rollout: Rollout) -> dict[str, Any]:
    """Return the JSON description of a rollout with its timeline."""
    return {
        "id": rollout.id,
        "model_type": rollout.model_type,
        "candidate_version": rollout.candidate.version,
        "baseline_version": rollout.baseline.version,
        "unit": rollout.unit,
        "status": rollout.status,
        "current_percent": rollout.current_percent,
        "steps": list(rollout.steps),
        "step_index": rollout.step_index,
        "hold_minutes": rollout.hold_minutes,
        "min_outcomes": rollout.min_outcomes,
        "guardrails": dict(rollout.guardrails),
        "on_breach": rollout.on_breach,
        "shadow_minutes": rollout.shadow_minutes,
        "seed": rollout.seed,
        "created_at": iso_utc(rollout.created_at),
        "started_at": iso_utc(rollout.started_at),
        "step_started_at": iso_utc(rollout.step_started_at),
        "finished_at": iso_utc(rollout.finished_at),
        "timeline": [describe_event(event) for event in rollout.events],
    }


def find(rollout_id: int) -> Rollout:
    """Return rollout ``rollout_id``, or raise 404."""
    rollout = store.by_id(rollout_id)
    if rollout is None:
        raise ApiError(404, "not_found", f"No rollout {rollout_id}.")
    return rollout


@bp.get("/rollouts")
def rollouts():
    """List rollouts, newest first, a page at a time."""
    require_admin()
    page = query_args(PAGE_PARAMETERS)["page"]
    per_page = int(current_app.config["PER_PAGE"])
    total = db.session.scalar(select(func.count(Rollout.id))) or 0
    rows = db.session.scalars(
        select(Rollout)
        .order_by(Rollout.created_at.desc(), Rollout.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return jsonify(
        rollouts=[describe(row) for row in rows],
        page=page,
        pages=-(-total // per_page),
        total=total,
    )


@bp.post("/rollouts")
def rollout_create():
    """Set up a staged rollout as pending."""
    user = require_admin()
    body = json_body("RolloutCreate")
    try:
        rollout = store.create_rollout(body, user)
    except store.RolloutError as error:
        raise fail(error.problems) from None
    return jsonify(describe(rollout)), 201


@bp.get("/rollouts/<int:rollout_id>")
def rollout(rollout_id: int):
    """Show a rollout with its timeline."""
    require_admin()
    return jsonify(describe(find(rollout_id)))


def act(rollout_id: int, action: str):
    """Take a status action on a rollout as the admin calling; answer its JSON."""
    user = require_admin()
    target = find(rollout_id)
    try:
        actions.take(target, action, user)
    except store.WrongStatus as error:
        raise ApiError(
            409, "wrong_status", {"message": str(error), "status": target.status}
        ) from None
    except RegistryActionError as error:
        serving_state().routing.warm()  # a failed promote paused it
        raise ApiError(409, "cannot_promote", str(error)) from None
    serving_state().routing.warm()  # this process switches at once
    return jsonify(describe(target))


@bp.post("/rollouts/<int:rollout_id>/start")
def rollout_start(rollout_id: int):
    """Start a pending rollout."""
    return act(rollout_id, "start")


@bp.post("/rollouts/<int:rollout_id>/pause")
def rollout_pause(rollout_id: int):
    """Pause a running rollout."""
    return act(rollout_id, "pause")


@bp.post("/rollouts/<int:rollout_id>/resume")
def rollout_resume(rollout_id: int):
    """Resume a paused rollout."""
    return act(rollout_id, "resume")


@bp.post("/rollouts/<int:rollout_id>/advance")
def rollout_advance(rollout_id: int):
    """Move a running rollout to its next step."""
    return act(rollout_id, "advance")


@bp.post("/rollouts/<int:rollout_id>/rollback")
def rollout_rollback(rollout_id: int):
    """Roll a rollout back: archive the candidate."""
    return act(rollout_id, "rollback")

"""Collaborations through the API: read one, and move it on as the pages do.

``GET /collaborations/<external_id>`` and ``POST .../<action>`` for each action
of ``lifecycle.TRANSITIONS``. Members reach only their own collaborations: any
other id answers 404, exactly like an unknown one, so ids cannot be probed. A
party that may not take an action gets 403, a status that does not allow it
409, a bad reason or date 422; none of them changes anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request, url_for
from sqlalchemy.orm import selectinload

from webapp.core.timeutil import iso_utc
from webapp.extensions import db
from webapp.marketplace import lifecycle, ratings, timeline
from webapp.models import Collaboration, Outcome, StatusChange, User
from webapp.views.api.auth import api_user
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError
from webapp.views.api.validation import fail, json_body

# The request body schema of each action (see schemas.REQUESTS).
BODY_SCHEMAS = {
    "accept": "TransitionRequest",
    "decline": "TransitionRequest",
    "withdraw": "TransitionRequest",
    "start": "TransitionRequest",
    "complete": "CompleteRequest",
    "cancel": "CancelRequest",
}


def find(external_id: str, user: User) -> Collaboration:
    """Return the collaboration the caller may see, or raise 404."""
    collaboration = db.session.scalar(
        db.select(Collaboration)
        .where(Collaboration.external_id == external_id)
        .options(
            selectinload(Collaboration.outcomes),
            selectinload(Collaboration.status_changes).joinedload(StatusChange.actor),
        )
    )
    if collaboration is None or not (
        user.is_admin or ratings.is_party(user, collaboration)
    ):
        raise ApiError(404, "not_found", {"collaboration_ids": [external_id[:64]]})
    return collaboration


def rating(outcome: Outcome | None) -> dict[str, Any] | None:
    """Return one side's rating as JSON, or None when not given."""
    if outcome is None:
        return None
    return {
        "success_rating": outcome.success_rating,
        "completion_status": outcome.completion_status,
        "roi_achieved": outcome.roi_achieved,
        "would_collaborate_again": outcome.would_collaborate_again,
        "success_factors": list(outcome.success_factors or []),
        "feedback": outcome.feedback,
        "rated_at": iso_utc(outcome.rated_at),
    }


def step(item: timeline.Step, viewer: User) -> dict[str, Any]:
    """Return one history row; actors' emails are shown to admins only."""
    change = item.change
    return {
        "from_status": change.from_status,
        "status": change.status,
        "action": change.action,
        "by": item.by,
        "actor": change.actor.email if viewer.is_admin and change.actor else None,
        "note": change.note,
        "at": iso_utc(change.created_at),
    }


def describe(collaboration: Collaboration, viewer: User) -> dict[str, Any]:
    """Return the JSON description of a collaboration as ``viewer`` may see it."""
    influencer, company = collaboration.influencer, collaboration.company
    return {
        "id": collaboration.external_id,
        "status": collaboration.status,
        "influencer": {
            "id": influencer.external_id,
            "handle": influencer.handle,
            "niche": influencer.niche,
            "country": influencer.country,
            "followers": influencer.followers,
            "engagement_rate": influencer.engagement_rate,
            "rate_per_post": influencer.rate_per_post,
            "platforms": list(influencer.platforms or []),
        },
        "company": {
            "id": company.external_id,
            "name": company.name,
            "industry": company.industry,
            "country": company.country,
            "budget_per_campaign": company.budget_per_campaign,
            "target_niches": list(company.target_niches or []),
        },
        "budget": collaboration.budget,
        "proposed_on": collaboration.proposed_on.isoformat(),
        "proposer_side": collaboration.proposer_side,
        "completed_on": collaboration.completed_on.isoformat()
        if collaboration.completed_on
        else None,
        "cancelled_at": iso_utc(collaboration.cancelled_at),
        "cancel_reason": collaboration.cancel_reason,
        "history": [step(item, viewer) for item in timeline.steps(collaboration)],
        "ratings": {
            side: rating(collaboration.outcome_for(side))
            for side in ("company", "influencer")
        },
        "match": timeline.match_summary(collaboration),
        "allowed_actions": [
            rule.action for rule in lifecycle.available(viewer, collaboration)
        ],
        "links": {
            "self": url_for("api.collaboration", external_id=collaboration.external_id),
            "page": url_for(
                "collaborations.detail", external_id=collaboration.external_id
            ),
        },
    }


@bp.get("/collaborations/<external_id>")
def collaboration(external_id: str):
    """Show a collaboration: parties, terms, history, match, ratings, next actions."""
    user = api_user()
    return jsonify(describe(find(external_id, user), user))


def action_body(action: str) -> dict[str, Any]:
    """Return the action's JSON body; actions without a required field accept none."""
    schema = BODY_SCHEMAS[action]
    if schema != "CancelRequest" and not request.get_data(cache=True):
        return {}
    return json_body(schema)


def completion_day(body: dict[str, Any]) -> date | None:
    """Return the body's ``completed_on`` as a date (422 when it is no real day)."""
    if "completed_on" not in body:
        return None
    try:
        return date.fromisoformat(body["completed_on"])
    except ValueError:
        raise fail(
            [{"path": "completed_on", "message": "not a real day (YYYY-MM-DD)"}]
        ) from None


def take(external_id: str, action: str):
    """Take ``action`` on a collaboration for the caller and answer its new state."""
    user = api_user()
    collaboration = find(external_id, user)
    body = action_body(action)
    completed_on = completion_day(body)
    note = body.get("reason", body.get("note"))
    try:
        lifecycle.transition(
            collaboration, action, user, note=note, completed_on=completed_on
        )
    except lifecycle.NotAllowed as refused:
        raise ApiError(403, "forbidden", str(refused)) from None
    except lifecycle.WrongStatus as conflict:
        raise ApiError(
            409,
            "wrong_status",
            {"message": str(conflict), "status": collaboration.status},
        ) from None
    except lifecycle.InvalidInput as invalid:
        path = (
            "reason"
            if invalid.field == "note" and action == "cancel"
            else invalid.field
        )
        raise fail([{"path": path, "message": str(invalid)}]) from None
    return jsonify(describe(find(external_id, user), user))


def _register(action: str) -> None:
    """Attach ``POST /collaborations/<external_id>/<action>`` to the blueprint."""

    def view(external_id: str):
        return take(external_id, action)

    view.__name__ = f"collaboration_{action}"
    view.__doc__ = f"{lifecycle.TRANSITIONS[action].title} a collaboration."
    bp.post(f"/collaborations/<external_id>/{action}")(view)


for _action in lifecycle.ACTIONS:
    _register(_action)

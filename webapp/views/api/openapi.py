"""The OpenAPI 3.1 document of /api/v1, built once per app and served as JSON."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify

from webapp.core.taxonomy import COUNTRIES, NICHES
from webapp.experiments import api_docs as experiment_docs
from webapp.marketplace import lifecycle
from webapp.monitoring import api_docs as monitoring_docs
from webapp.operations import api_docs as audit_docs
from webapp.registry.plugins import InstalledTypes, installed_types
from webapp.rollouts import api_docs as rollout_docs
from webapp.shadow import api_docs as shadow_docs
from webapp.views.api import declared
from webapp.views.api.blueprint import bp
from webapp.views.api.schemas import component_schemas, ref

_KEY = "matchloop.api.openapi"

ERRORS = {
    "400": (
        "BadRequest",
        "The body is not a JSON object (malformed, NaN, wrong type).",
    ),
    "401": ("Unauthorized", "No bearer token, or an unknown or revoked one."),
    "403": (
        "Forbidden",
        "The token's user may not do this (admin-only, or not "
        "their company or influencer).",
    ),
    "404": ("NotFound", "Unknown id or model type; details name what was not found."),
    "409": (
        "Conflict",
        "The model type is already training (details give the run), the "
        "collaboration's or experiment's status does not allow the action "
        "(details give why and the current status), an event's unit has no "
        "assignment, there is no winner to ship, or a version cannot start or "
        "stop shadowing (details say why); nothing was changed.",
    ),
    "413": ("PayloadTooLarge", "The body is larger than MAX_CONTENT_LENGTH."),
    "422": ("ValidationFailed", "The body or query does not match the schema."),
    "429": ("TooManyRequests", "Rate limit (RATELIMIT_API per token) exceeded."),
    "503": ("Unavailable", "The database or the job queue does not answer."),
}
COMMON = ("401", "429", "503")
HEADERS = {
    "401": ("WWW-Authenticate", "The bearer challenge (RFC 6750)."),
    "429": ("Retry-After", "Seconds until the limit resets."),
}


def error_response(status: str) -> dict[str, Any]:
    """Return the shared response object of an error status."""
    description = ERRORS[status][1]
    schema = ref("ValidationError" if status == "422" else "Error")
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if status in HEADERS:
        header, meaning = HEADERS[status]
        response["headers"] = {
            header: {"schema": {"type": "string"}, "description": meaning}
        }
    return response


def ok(schema: str, description: str, status: str = "200") -> dict[str, Any]:
    """Return a success response with a JSON body of component ``schema``."""
    return {
        status: {
            "description": description,
            "content": {"application/json": {"schema": ref(schema)}},
        }
    }


def operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    errors: tuple[str, ...] = (),
    body: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
    public: bool = False,
    description: str | None = None,
) -> dict[str, Any]:
    """Return an operation object with its error responses referenced."""
    codes = sorted(set(errors) | ({"429"} if public else set(COMMON)))
    result: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": {
            **responses,
            **{
                code: {"$ref": f"#/components/responses/{ERRORS[code][0]}"}
                for code in codes
            },
        },
    }
    if description:
        result["description"] = description
    if body:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    if parameters:
        result["parameters"] = parameters
    if public:
        result["security"] = []
    return result


def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """Return an optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def path_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Return a required path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": schema}


RECOMMENDATION_PARAMETERS = [
    query(
        "company_id",
        {"type": "string", "minLength": 1, "maxLength": 64},
        "Rank influencers for this company (give this or influencer_id).",
    ),
    query(
        "influencer_id",
        {"type": "string", "minLength": 1, "maxLength": 64},
        "Rank companies for this influencer (give this or company_id).",
    ),
    query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "How many candidates to return.",
    ),
    query(
        "budget",
        {"type": "number", "minimum": 0, "maximum": 1e10},
        "Campaign budget (company_id only).",
    ),
    # The filters of the "Find influencers" page (serving.RANKING_FILTERS).
    query(
        "niche",
        {"type": "string", "enum": list(NICHES)},
        "Only influencers whose main niche is this (company_id only).",
    ),
    query(
        "country",
        {"type": "string", "enum": list(COUNTRIES)},
        "Only influencers based in this country code (company_id only).",
    ),
    query(
        "min_followers",
        {"type": "integer", "minimum": 0, "maximum": 10_000_000_000},
        "Only influencers with at least this many followers (company_id only).",
    ),
    query(
        "max_rate",
        {"type": "number", "minimum": 0, "maximum": 1e10},
        "Only influencers whose rate per post is at most this, in the "
        "marketplace currency (company_id only).",
    ),
]
TREND_PARAMETERS = [
    query(
        "horizon",
        {"type": "integer", "minimum": 1, "maximum": 52, "default": 12},
        "How many periods ahead to forecast (weeks or months, as the data are).",
    )
]
PREDICT_ERRORS = ("400", "403", "404", "413", "422")
BATCH_ERRORS = ("400", "403", "413", "422")
ADMIN_ERRORS = ("403",)


# How each collaboration action is documented; who may take it from which
# status comes from the rules themselves (webapp.marketplace.lifecycle).
COLLABORATION_ACTIONS = {
    "accept": ("TransitionRequest", "The invited side accepts a proposal."),
    "decline": (
        "TransitionRequest",
        "The invited side declines a proposal: it ends as cancelled "
        "(cancel_reason 'Declined', or the note).",
    ),
    "withdraw": (
        "TransitionRequest",
        "The proposing side withdraws its proposal: it ends as cancelled.",
    ),
    "start": ("TransitionRequest", "Either side starts an accepted collaboration."),
    "complete": (
        "CompleteRequest",
        "Either side marks an active collaboration completed (completed_on, "
        "default today); both sides are then asked to rate it.",
    ),
    "cancel": (
        "CancelRequest",
        "Either side (or an admin) cancels an accepted or active collaboration "
        "with a reason; cancelled_at is now.",
    ),
}
COLLABORATION_ID = path_param("external_id", {"type": "string", "maxLength": 64})


def action_description(rule: lifecycle.Transition) -> str:
    """Return who may take ``rule``'s action from which status, in words."""
    who = {
        lifecycle.PROPOSER: "the side that proposed",
        lifecycle.INVITEE: "the invited side",
        lifecycle.EITHER: "either side",
    }[rule.party]
    if rule.admins:
        who += " or an admin"
    refused = (
        ""
        if everyone_may(rule)
        else " Anyone else who can see the collaboration gets 403."
    )
    return (
        f"Allowed to {who}, from {' or '.join(rule.sources)}; it becomes "
        f"{rule.target}.{refused} Any other status answers 409. The change and "
        "its history row are written together."
    )


def everyone_may(rule: lifecycle.Transition) -> bool:
    """True when everyone who sees a collaboration may take ``rule`` (no 403)."""
    return rule.party == lifecycle.EITHER and rule.admins


def collaboration_paths() -> dict[str, Any]:
    """Return the path items of the collaboration routes."""
    items: dict[str, Any] = {
        "/collaborations/{external_id}": {
            "get": operation(
                "collaboration",
                "Show a collaboration: parties, terms, status history, the match "
                "stored at proposal, both ratings and what the caller may do next.",
                ok("Collaboration", "The collaboration."),
                ("404",),
                parameters=[COLLABORATION_ID],
                description="Members see only collaborations of their own company "
                "or influencer; any other id answers 404 like an unknown one.",
            )
        }
    }
    for action, rule in lifecycle.TRANSITIONS.items():
        body, summary = COLLABORATION_ACTIONS[action]
        post = operation(
            f"collaboration_{action}",
            summary,
            ok("Collaboration", "Done; the collaboration as it is now."),
            ("400", "404", "409", "413", "422")
            + (() if everyone_may(rule) else ("403",)),
            body=body,
            parameters=[COLLABORATION_ID],
            description=action_description(rule),
        )
        post["requestBody"]["required"] = body == "CancelRequest"
        items[f"/collaborations/{{external_id}}/{action}"] = {"post": post}
    return items


def paths(types: InstalledTypes) -> dict[str, Any]:
    """Return the path items of every API route (declared types' routes included)."""
    return {
        **collaboration_paths(),
        **experiment_docs.paths(operation, ok),
        **monitoring_docs.paths(operation, ok, path_param),
        **audit_docs.paths(operation, ok),
        **rollout_docs.paths(operation, ok, experiment_docs.PAGE_PARAMETERS),
        **shadow_docs.paths(operation, ok, path_param),
        **declared.paths(types, operation, ok, PREDICT_ERRORS, TREND_PARAMETERS),
        "/predict/match": {
            "post": operation(
                "predictMatch",
                "Predict whether one influencer-company pair succeeds.",
                ok("Prediction", "The prediction (logged)."),
                PREDICT_ERRORS,
                body="PredictRequest",
            )
        },
        "/predict/roi": {
            "post": operation(
                "predictRoi",
                "Estimate the ROI one influencer-company pair will achieve, with "
                "a prediction interval.",
                ok("RoiPrediction", "The estimate (logged)."),
                PREDICT_ERRORS,
                body="PredictRequest",
                description="The interval is conformal: on held-out later windows "
                "it contained the reported ROI about `coverage` of the time. "
                "Without a usable roi model the answer is the median ROI brands "
                "reported for this brand (else the creator's niche, else everyone) "
                "with its empirical interval, and fallback is true.",
            )
        },
        "/predict/match/batch": {
            "post": operation(
                "predictMatchBatch",
                "Predict many pairs at once, answers in order.",
                ok(
                    "PredictionBatch",
                    "One answer per pair, in request order: a prediction, or an "
                    "error for a pair naming an unknown id.",
                ),
                BATCH_ERRORS,
                body="BatchRequest",
                description="Answered per pair: a pair whose influencer or company "
                "id is unknown gets {influencer_id, company_id, error: 'not_found', "
                "details: {influencer_ids, company_ids}} in its place, and the "
                "other pairs are predicted. Permission is all or nothing: a "
                "member's batch with any pair that is not theirs fails with 403 "
                "listing those pairs' indices, before any id is looked up. More "
                "pairs than API_MAX_BATCH (the schema's maxItems) is 422.",
            )
        },
        "/recommendations": {
            "get": operation(
                "recommendations",
                "Rank influencers for a company, or companies for "
                "an influencer, best first (open collaborations are left out).",
                ok("Recommendations", "The best candidates with their reasons."),
                ("403", "404", "422"),
                parameters=RECOMMENDATION_PARAMETERS,
            )
        },
        "/trends": {
            "get": operation(
                "trends",
                "Forecast every niche's activity with intervals; trend, growth "
                "and the emerging niches.",
                ok(
                    "Trends",
                    "Every niche's forecast (from the active trend "
                    "version, or the seasonal naive fallback).",
                ),
                ("400",),
                parameters=TREND_PARAMETERS,
                description="Any member may read it. A horizon that is not an "
                "integer from 1 to 52 answers 400 with details "
                "[{path: 'horizon', message}].",
            )
        },
        "/train": {
            "post": operation(
                "train",
                "Queue a training run of a model type (admin).",
                ok("TrainAccepted", "Queued; poll the run's link.", status="202"),
                ("400", "403", "404", "409", "413", "422"),
                body="TrainRequest",
            )
        },
        "/runs/{run_id}": {
            "get": operation(
                "run",
                "Show a training run's status and progress (admin).",
                ok("Run", "The run."),
                ("403", "404"),
                parameters=[path_param("run_id", {"type": "integer"})],
            )
        },
        "/models": {
            "get": operation(
                "models",
                "List every installed model type with its active version (admin).",
                ok("ModelTypeList", "Installed model types."),
                ADMIN_ERRORS,
            )
        },
        "/models/{model_type}": {
            "get": operation(
                "model",
                "Show every version and deployment of a model type (admin).",
                ok("ModelTypeDetail", "The model type's history."),
                ("403", "404"),
                parameters=[path_param("model_type", {"type": "string"})],
            )
        },
        "/health": {
            "get": {
                **operation(
                    "health",
                    "Check the database, Redis, workers and the serving models.",
                    {},
                ),
                "responses": {
                    **ok(
                        "Health",
                        "Database and Redis answer; status is degraded when a model "
                        "cannot serve (problems names the version and why).",
                    ),
                    "401": {"$ref": "#/components/responses/Unauthorized"},
                    "429": {"$ref": "#/components/responses/TooManyRequests"},
                    "503": {
                        "description": "Something does not answer: the health report, "
                        "or an error when the token cannot even be checked.",
                        "content": {
                            "application/json": {
                                "schema": {"oneOf": [ref("Health"), ref("Error")]}
                            }
                        },
                    },
                },
            }
        },
        "/openapi.json": {
            "get": operation(
                "openapi",
                "This document (no token needed).",
                {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
                public=True,
            )
        },
    }


def build_document(max_batch: int, types: InstalledTypes) -> dict[str, Any]:
    """Return the OpenAPI document for a batch limit and the installed model types."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Matchloop API",
            "version": "1.0.0",
            "description": "Success predictions, recommendations, collaborations "
            "and their lifecycle, and the model registry. Authenticate with 'Authorization: Bearer <token>' (create "
            "one with 'flask --app wsgi create-token EMAIL'). Errors are "
            '{"error", "details"}. Members may only ask about their own company '
            "or influencer; training, runs and models are admin-only.",
        },
        "servers": [{"url": bp.url_prefix}],
        "security": [{"bearer": []}],
        "paths": paths(types),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                **component_schemas(max_batch),
                **declared.schemas(types),
                **experiment_docs.SCHEMAS,
                **rollout_docs.SCHEMAS,
                **audit_docs.SCHEMAS,
                **shadow_docs.SCHEMAS,
            },
            "responses": {
                name: error_response(code) for code, (name, _) in ERRORS.items()
            },
        },
    }


def document(app: Flask | None = None) -> dict[str, Any]:
    """Return this app's OpenAPI document (built on first use)."""
    app = app or current_app._get_current_object()
    if _KEY not in app.extensions:
        app.extensions[_KEY] = build_document(
            int(app.config["API_MAX_BATCH"]), installed_types(app)
        )
    return app.extensions[_KEY]


@bp.route("/openapi.json")
def openapi_json():
    """Serve the OpenAPI document."""
    return jsonify(document())

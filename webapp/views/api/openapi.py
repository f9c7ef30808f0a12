"""The OpenAPI 3.1 document of /api/v1, built once per app and served as JSON."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify

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
    "409": ("Conflict", "The model type is already training; details give the run."),
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
    query(
        "niche",
        {"type": "string", "maxLength": 32},
        "Only influencers whose main niche is this (company_id only).",
    ),
    query(
        "country",
        {"type": "string", "maxLength": 2},
        "Only influencers based in this country code (company_id only).",
    ),
]
PREDICT_ERRORS = ("400", "403", "404", "413", "422")
ADMIN_ERRORS = ("403",)


def paths() -> dict[str, Any]:
    """Return the path items of every API route."""
    return {
        "/predict/match": {
            "post": operation(
                "predictMatch",
                "Predict whether one influencer-company pair succeeds.",
                ok("Prediction", "The prediction (logged)."),
                PREDICT_ERRORS,
                body="PredictRequest",
            )
        },
        "/predict/match/batch": {
            "post": operation(
                "predictMatchBatch",
                "Predict many pairs at once, answers in order.",
                ok("PredictionBatch", "One prediction per pair, in request order."),
                PREDICT_ERRORS,
                body="BatchRequest",
                description="All or nothing: any unknown id fails the whole batch "
                "with 404 whose details list every unknown influencer and company "
                "id; a member's batch with any pair that is not theirs fails with "
                "403 listing those pairs' indices. More pairs than API_MAX_BATCH "
                "(the schema's maxItems) is 422.",
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


def build_document(max_batch: int) -> dict[str, Any]:
    """Return the OpenAPI document for a batch limit of ``max_batch`` pairs."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Matchloop API",
            "version": "1.0.0",
            "description": "Success predictions, recommendations and the model "
            "registry. Authenticate with 'Authorization: Bearer <token>' (create "
            "one with 'flask --app wsgi create-token EMAIL'). Errors are "
            '{"error", "details"}. Members may only ask about their own company '
            "or influencer; training, runs and models are admin-only.",
        },
        "servers": [{"url": bp.url_prefix}],
        "security": [{"bearer": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": component_schemas(max_batch),
            "responses": {
                name: error_response(code) for code, (name, _) in ERRORS.items()
            },
        },
    }


def document(app: Flask | None = None) -> dict[str, Any]:
    """Return this app's OpenAPI document (built on first use)."""
    app = app or current_app._get_current_object()
    if _KEY not in app.extensions:
        app.extensions[_KEY] = build_document(int(app.config["API_MAX_BATCH"]))
    return app.extensions[_KEY]


@bp.route("/openapi.json")
def openapi_json():
    """Serve the OpenAPI document."""
    return jsonify(document())

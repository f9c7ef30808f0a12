"""JSON Schemas of the API's bodies: the ``components.schemas`` of the OpenAPI document.

These dicts are the single definition of what the API accepts and returns: the
request schemas validate incoming bodies, the tests validate every response
against the response schemas, and ``/api/v1/openapi.json`` publishes them.
"""

from __future__ import annotations

from typing import Any

from webapp.monitoring.api_docs import SCHEMAS as MONITORING

# External ids are at most 64 characters (the database column).
EXTERNAL_ID = {"type": "string", "minLength": 1, "maxLength": 64}
# Budgets are money columns: at most 10 digits before the decimal point.
BUDGET = {
    "type": "number",
    "minimum": 0,
    "maximum": 1e10,
    "description": "Campaign budget in the marketplace currency; default: the "
    "influencer's rate for about three posts, within the brand's budget.",
}
PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}


def ref(name: str) -> dict[str, str]:
    """Return a reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict[str, Any], required: list[str] | None = None, **extra):
    """Return an object schema with exactly ``properties`` (all required by default)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
        **extra,
    }


PAIR = {"influencer_id": EXTERNAL_ID, "company_id": EXTERNAL_ID, "budget": BUDGET}

# What every scored answer carries, whether for a pair or a ranked candidate.
RESULT = {
    "success_probability": PROBABILITY,
    "confidence": {
        **PROBABILITY,
        "description": "How much to trust the probability (the fallback scorer "
        "answers with a fixed, low confidence).",
    },
    "interval": {
        "oneOf": [ref("Interval"), {"type": "null"}],
        "description": "Plausible range of the probability, when the model gives one.",
    },
    "factors": {"type": "array", "items": ref("Factor"), "maxItems": 5},
    "model": ref("ModelRef"),
    "fallback": {
        "type": "boolean",
        "description": "True when no model version could serve and the "
        "documented rule-based scorer answered.",
    },
    "fallback_reason": {"type": ["string", "null"]},
}

REQUESTS: dict[str, Any] = {
    "PredictRequest": closed(PAIR, required=["influencer_id", "company_id"]),
    "BatchRequest": closed(
        {
            "pairs": {
                "type": "array",
                "minItems": 1,
                # maxItems is filled from API_MAX_BATCH when the document is built.
                "items": closed(PAIR, required=["influencer_id", "company_id"]),
            }
        }
    ),
    "TrainRequest": closed(
        {
            "type": {
                "type": "string",
                "minLength": 1,
                "maxLength": 64,
                "description": "An installed model type (see GET /models).",
            },
            "params": {
                "type": "object",
                "maxProperties": 50,
                "description": "Training parameters of the type's params form; "
                "omitted ones take their defaults.",
            },
        },
        required=["type"],
    ),
}

RESPONSES: dict[str, Any] = {
    "Error": closed(
        {
            "error": {"type": "string", "description": "A machine-readable code."},
            "details": {
                "type": ["string", "array", "object", "null"],
                "description": "What exactly went wrong.",
            },
        }
    ),
    "ValidationError": closed(
        {
            "error": {"const": "validation_failed"},
            "details": {
                "type": "array",
                "minItems": 1,
                "items": closed(
                    {
                        "path": {
                            "type": "string",
                            "description": "Where: 'pairs/3/company_id', a "
                            "query parameter, or '' for the whole body.",
                        },
                        "message": {"type": "string"},
                    }
                ),
            },
        }
    ),
    "Interval": closed({"low": PROBABILITY, "high": PROBABILITY}),
    "Factor": closed(
        {
            "feature": {"type": "string"},
            "label": {
                "type": "string",
                "description": "What the feature is for this pair, true of its "
                "value ('Main niche is not one the brand targets'); the sign of "
                "contribution says whether it helps.",
            },
            "value": {"type": "number"},
            "contribution": {
                "type": "number",
                "description": "Signed effect on the success probability.",
            },
        }
    ),
    "ModelRef": closed(
        {
            "type": {"type": "string"},
            "version": {"type": ["integer", "null"], "minimum": 1},
        }
    ),
    "Prediction": closed(
        {"influencer_id": EXTERNAL_ID, "company_id": EXTERNAL_ID, **RESULT}
    ),
    "RoiPrediction": closed(
        {
            "influencer_id": EXTERNAL_ID,
            "company_id": EXTERNAL_ID,
            "expected_roi": {
                "type": "number",
                "description": "Expected return on investment as a fraction of "
                "the spend: 0.25 means +25 %.",
            },
            "interval": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
                "description": "[low, high] of the prediction interval.",
            },
            "coverage": {
                "type": "number",
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 1,
                "description": "Nominal share of outcomes the interval contains.",
            },
            "model": ref("ModelRef"),
            "fallback": {
                "type": "boolean",
                "description": "True when no roi model could serve and the "
                "history-based estimate answered.",
            },
            "fallback_reason": {"type": ["string", "null"]},
        }
    ),
    "PairError": closed(
        {
            "influencer_id": EXTERNAL_ID,
            "company_id": EXTERNAL_ID,
            "error": {"const": "not_found"},
            "details": closed(
                {
                    "influencer_ids": {"type": "array", "items": EXTERNAL_ID},
                    "company_ids": {"type": "array", "items": EXTERNAL_ID},
                }
            ),
        },
        description="A batch pair that could not be predicted: which of its ids "
        "do not exist.",
    ),
    "PredictionBatch": closed(
        {
            "predictions": {
                "type": "array",
                "items": {"oneOf": [ref("Prediction"), ref("PairError")]},
            }
        }
    ),
    "InfluencerCard": closed(
        {
            "id": EXTERNAL_ID,
            "handle": {"type": "string"},
            "niche": {"type": "string"},
            "country": {"type": "string"},
            "followers": {"type": "integer", "minimum": 0},
            "engagement_rate": PROBABILITY,
            "rate_per_post": {"type": "number"},
            "platforms": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "CompanyCard": closed(
        {
            "id": EXTERNAL_ID,
            "name": {"type": "string"},
            "industry": {"type": "string"},
            "country": {"type": "string"},
            "budget_per_campaign": {"type": "number"},
            "target_niches": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "InfluencerRecommendation": closed({"influencer": ref("InfluencerCard"), **RESULT}),
    "CompanyRecommendation": closed({"company": ref("CompanyCard"), **RESULT}),
    "Recommendations": {
        "oneOf": [
            closed(
                {
                    "for": closed({"kind": {"const": "company"}, "id": EXTERNAL_ID}),
                    "recommendations": {
                        "type": "array",
                        "items": ref("InfluencerRecommendation"),
                    },
                }
            ),
            closed(
                {
                    "for": closed({"kind": {"const": "influencer"}, "id": EXTERNAL_ID}),
                    "recommendations": {
                        "type": "array",
                        "items": ref("CompanyRecommendation"),
                    },
                }
            ),
        ]
    },
    "TrainAccepted": closed(
        {
            "run_id": {"type": "integer"},
            "status": {"const": "queued"},
            "links": closed({"self": {"type": "string"}}),
        }
    ),
    "Run": closed(
        {
            "id": {"type": "integer"},
            "type": {"type": "string"},
            "status": {"enum": ["queued", "running", "succeeded", "failed"]},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "stage": {"type": "string"},
            "error": {"type": ["string", "null"]},
            "trigger": {"type": "string"},
            "params": {"type": "object"},
            "version": {"type": ["integer", "null"]},
            "version_id": {"type": ["integer", "null"]},
            "created_at": TIMESTAMP,
            "started_at": NULLABLE_TIMESTAMP,
            "finished_at": NULLABLE_TIMESTAMP,
            "duration_seconds": {"type": ["number", "null"]},
        }
    ),
    "Version": closed(
        {
            "id": {"type": "integer"},
            "type": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "status": {"enum": ["candidate", "active", "archived"]},
            "algorithm": {"type": "string"},
            "params": {"type": "object"},
            "sample_count": {"type": "integer"},
            "data_window": closed(
                {
                    "start": {"type": ["string", "null"], "format": "date"},
                    "end": {"type": ["string", "null"], "format": "date"},
                }
            ),
            "metrics": {
                "type": "object",
                "additionalProperties": {"type": ["number", "null"]},
            },
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "size_bytes": {"type": "integer"},
            "artifact_error": {"type": ["string", "null"]},
            "created_at": TIMESTAMP,
            "activated_at": NULLABLE_TIMESTAMP,
        }
    ),
    "Deployment": closed(
        {
            "id": {"type": "integer"},
            "action": {"type": "string"},
            "from_version": {"type": ["integer", "null"]},
            "to_version": {"type": ["integer", "null"]},
            "actor": {"type": ["string", "null"]},
            "note": {"type": ["string", "null"]},
            "created_at": TIMESTAMP,
        }
    ),
    "ModelType": closed(
        {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "target": {"type": "string"},
            "score_label": {"type": "string"},
            "active_version": {"oneOf": [ref("Version"), {"type": "null"}]},
            "links": closed({"self": {"type": "string"}}),
        }
    ),
    "ModelTypeList": closed({"models": {"type": "array", "items": ref("ModelType")}}),
    "ModelTypeDetail": closed(
        {
            "model": ref("ModelType"),
            "versions": {
                "type": "array",
                "items": ref("Version"),
                "description": "Every version, newest first.",
            },
            "deployments": {
                "type": "array",
                "items": ref("Deployment"),
                "description": "The latest changes of the active version, newest first.",
            },
        }
    ),
    "Health": closed(
        {
            "status": {"enum": ["ok", "degraded"]},
            "database": closed(
                {
                    "ok": {"type": "boolean"},
                    "backend": {"type": "string"},
                    "error": {"type": ["string", "null"]},
                }
            ),
            "redis": closed(
                {"ok": {"type": "boolean"}, "error": {"type": ["string", "null"]}}
            ),
            "workers": {
                "type": ["integer", "null"],
                "description": "Registered RQ workers; null when Redis does not answer.",
            },
            "active_versions": {
                "type": "object",
                "additionalProperties": {"type": ["integer", "null"]},
            },
            "problems": {
                "type": "array",
                "description": "Why a model cannot serve (the fallback answers for "
                "it): a refused artifact, or failures at predict time in this "
                "process. Non-empty makes the status degraded.",
                "items": closed(
                    {
                        "model_type": {"type": "string"},
                        "version": {"type": ["integer", "null"]},
                        "problem": {"type": "string"},
                    }
                ),
            },
            "process": {
                "description": "The web process that answered and the version of "
                "each type it serves now (null when the database does not answer).",
                "oneOf": [
                    {"type": "null"},
                    closed(
                        {
                            "pid": {"type": "integer"},
                            "routing_generation": {
                                "type": ["integer", "null"],
                                "description": "The Redis routing counter its "
                                "table was loaded at (null: Redis did not answer).",
                            },
                            "routing_switched_at": {
                                "type": ["number", "null"],
                                "description": "Unix time when this process "
                                "began serving its current table.",
                            },
                            "serving": {
                                "type": "object",
                                "additionalProperties": {"type": ["integer", "null"]},
                            },
                        }
                    ),
                ],
            },
        }
    ),
}


NOTE = {
    "type": "string",
    "maxLength": 500,
    "description": "Shown in the collaboration's history.",
}
STATUS = {"enum": ["proposed", "accepted", "active", "completed", "cancelled"]}
SIDE = {"enum": ["company", "influencer"]}
ACTION = {
    "enum": ["propose", "accept", "decline", "withdraw", "start", "complete"]
    + ["cancel", "import"]
}
# The collaboration lifecycle: action bodies and the collaboration itself.
LIFECYCLE: dict[str, Any] = {
    "TransitionRequest": closed({"note": NOTE}, required=[]),
    "CompleteRequest": closed(
        {
            "completed_on": {
                "type": "string",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                "description": "The day it was completed (YYYY-MM-DD, between "
                "the proposal and today); default today.",
            },
            "note": NOTE,
        },
        required=[],
    ),
    "CancelRequest": closed(
        {
            "reason": {
                **NOTE,
                "minLength": 1,
                "pattern": "\\S",
                "description": "Why it is cancelled (stored as cancel_reason).",
            }
        }
    ),
    "Rating": closed(
        {
            "success_rating": {"type": "integer", "minimum": 1, "maximum": 5},
            "completion_status": {
                "enum": ["completed", "partially_completed", "cancelled", "disputed"]
            },
            "roi_achieved": {"type": ["number", "null"]},
            "would_collaborate_again": {"type": "boolean"},
            "success_factors": {"type": "array", "items": {"type": "string"}},
            "feedback": {"type": ["string", "null"]},
            "rated_at": TIMESTAMP,
        }
    ),
    "StatusStep": closed(
        {
            "from_status": {"oneOf": [STATUS, {"type": "null"}]},
            "status": STATUS,
            "action": {
                **ACTION,
                "description": "What caused it (seeded demo "
                "data uses the actions it simulates).",
            },
            "by": {
                "enum": ["company", "influencer", "admin", None],
                "description": "The side the actor acted for; null for imported "
                "and demo rows.",
            },
            "actor": {
                "type": ["string", "null"],
                "description": "The actor's email (admins only; null otherwise).",
            },
            "note": {"type": ["string", "null"]},
            "at": TIMESTAMP,
        }
    ),
    "MatchSnapshot": closed(
        {
            "success_probability": PROBABILITY,
            "model_type": {"type": ["string", "null"]},
            "model_version": {"type": ["integer", "null"]},
            "fallback": {"type": "boolean"},
            "factors": {
                "type": "array",
                "items": ref("Factor"),
                "description": "The top reasons at proposal time.",
            },
        }
    ),
    "Collaboration": closed(
        {
            "id": EXTERNAL_ID,
            "status": STATUS,
            "influencer": ref("InfluencerCard"),
            "company": ref("CompanyCard"),
            "budget": {**BUDGET, "description": "Agreed budget."},
            "proposed_on": {"type": "string", "format": "date"},
            "proposer_side": {
                **SIDE,
                "description": "Who proposed; the other side accepts or declines.",
            },
            "completed_on": {"type": ["string", "null"], "format": "date"},
            "cancelled_at": NULLABLE_TIMESTAMP,
            "cancel_reason": {"type": ["string", "null"]},
            "history": {
                "type": "array",
                "items": ref("StatusStep"),
                "description": "Every status change, oldest first.",
            },
            "ratings": closed(
                {
                    "company": {"oneOf": [ref("Rating"), {"type": "null"}]},
                    "influencer": {"oneOf": [ref("Rating"), {"type": "null"}]},
                }
            ),
            "match": {
                "oneOf": [ref("MatchSnapshot"), {"type": "null"}],
                "description": "The prediction stored when it was proposed "
                "through Matchloop (null for imported and demo ones).",
            },
            "allowed_actions": {
                "type": "array",
                "items": {
                    "enum": ["accept", "decline", "withdraw", "start"]
                    + ["complete", "cancel"]
                },
                "description": "What the caller may do now.",
            },
            "links": closed({"self": {"type": "string"}, "page": {"type": "string"}}),
        }
    ),
}


NULLABLE_NUMBER = {"type": ["number", "null"]}
TRENDS: dict[str, Any] = {
    "ForecastPoint": closed(
        {
            "period_start": {"type": "string", "format": "date"},
            "value": {"type": "number"},
            "lower": {"type": "number"},
            "upper": {"type": "number"},
        }
    ),
    "NicheForecast": closed(
        {
            "niche": {"type": "string"},
            "method": {
                "type": "string",
                "description": "naive, seasonal_naive, arima, ets, theta or "
                "combination (the mean of the last three).",
            },
            "backtest_mase": {
                **NULLABLE_NUMBER,
                "description": "Mean MASE of the method over the rolling-origin "
                "backtest (null when the series was too short to backtest).",
            },
            "beats_naive": {
                "type": "boolean",
                "description": "True only when the backtest MASE is below the "
                "naive forecast's.",
            },
            "growth_rate": {
                **NULLABLE_NUMBER,
                "description": "Forecast of the next seasonal cycle over the last "
                "observed cycle, minus 1.",
            },
            "trend": {"enum": ["rising", "stable", "declining"]},
            "frequency": {"type": ["string", "null"]},
            "level": {
                **PROBABILITY,
                "description": "Nominal coverage of [lower, upper].",
            },
            "note": {
                "type": ["string", "null"],
                "description": "Caveats: too short, does not beat naive, no model.",
            },
            "forecast": {"type": "array", "items": ref("ForecastPoint")},
        }
    ),
    "Trends": closed(
        {
            "horizon": {"type": "integer", "minimum": 1},
            "model": closed(
                {"type": {"type": "string"}, "version": {"type": ["integer", "null"]}}
            ),
            "fallback": {
                "type": "boolean",
                "description": "True when no trained trend version served and the "
                "seasonal naive forecast answered (nothing is then emerging).",
            },
            "fallback_reason": {"type": ["string", "null"]},
            "niches": {"type": "array", "items": ref("NicheForecast")},
            "emerging": {
                "type": "array",
                "description": "Rising niches whose forecast beat naive, fastest "
                "growth first.",
                "items": closed(
                    {
                        "rank": {"type": "integer", "minimum": 1},
                        "niche": {"type": "string"},
                        "growth_rate": {"type": "number"},
                    }
                ),
            },
        }
    ),
}


def component_schemas(max_batch: int) -> dict[str, Any]:
    """Return every component schema, with the batch limit filled in."""
    schemas = {**REQUESTS, **RESPONSES, **LIFECYCLE, **TRENDS, **MONITORING}
    batch = schemas["BatchRequest"]
    pairs = {**batch["properties"]["pairs"], "maxItems": max_batch}
    schemas["BatchRequest"] = {**batch, "properties": {"pairs": pairs}}
    return schemas

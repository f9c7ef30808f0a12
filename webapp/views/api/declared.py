"""The API paths and schemas that come from model-type declarations.

Every installed pair type served by ``serving.pair_types`` gets
``POST /predict/<name>`` with a response schema built from what it declares
(its score key, confidence, interval with coverage, level, factors); every
series type gets ``GET /forecasts/<name>``. A type installed through the entry
points appears in the OpenAPI document with no change here.
"""

from __future__ import annotations

from typing import Any

from webapp.registry.contract import ModelType, Output, Subject
from webapp.registry.plugins import InstalledTypes
from webapp.serving.pair_types import OWN_PATHS
from webapp.views.api.schemas import EXTERNAL_ID, closed, ref


def pair_types(types: InstalledTypes) -> list[ModelType]:
    """Return the pair types served through the declared route."""
    return [t for t in types if t.subject == Subject.PAIR and t.name not in OWN_PATHS]


def series_types(types: InstalledTypes) -> list[ModelType]:
    """Return the series types, each with its forecasts route."""
    return [t for t in types if t.subject == Subject.NICHE_SERIES]


def schema_name(model_type: ModelType) -> str:
    """Return the component name of a type's prediction (``RiskPrediction``)."""
    words = model_type.name.replace("-", "_").split("_")
    return "".join(w.capitalize() for w in words) + "Prediction"


def prediction_schema(model_type: ModelType) -> dict[str, Any]:
    """Return the response schema of one pair type, from its declaration."""
    properties: dict[str, Any] = {
        "influencer_id": EXTERNAL_ID,
        "company_id": EXTERNAL_ID,
        model_type.score_key: {
            "type": "number",
            "description": f"The {model_type.score_label}.",
        },
    }
    outputs = model_type.outputs
    if Output.CONFIDENCE in outputs:
        properties["confidence"] = {"type": "number", "minimum": 0, "maximum": 1}
    if Output.INTERVAL in outputs:
        properties["interval"] = {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 2,
            "description": "[low, high] of the prediction interval.",
        }
        properties["coverage"] = {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 1,
            "description": "Nominal share of outcomes the interval contains.",
        }
    if Output.LEVEL in outputs:
        properties["level"] = {"enum": list(model_type.levels)}
    if Output.FACTORS in outputs:
        properties["factors"] = {
            "type": "array",
            "items": ref("Factor"),
            "maxItems": 5,
        }
    properties["model"] = ref("ModelRef")
    properties["fallback"] = {
        "type": "boolean",
        "description": "True when no version could serve and the type's "
        "rule-based fallback answered.",
    }
    properties["fallback_reason"] = {"type": ["string", "null"]}
    extra = {"description": model_type.description} if model_type.description else {}
    return closed(properties, **extra)


def schemas(types: InstalledTypes) -> dict[str, Any]:
    """Return the component schemas of every declared pair type."""
    return {schema_name(t): prediction_schema(t) for t in pair_types(types)}


def paths(types: InstalledTypes, operation, ok, predict_errors, trend_parameters):
    """Return the declared path items (the builders come from ``openapi``)."""
    items: dict[str, Any] = {}
    for model_type in pair_types(types):
        items[f"/predict/{model_type.name}"] = {
            "post": operation(
                f"predict_{model_type.name}",
                f"Predict {model_type.title or model_type.name} for one "
                "influencer-company pair.",
                ok(schema_name(model_type), "The prediction (logged)."),
                (*predict_errors, "503"),
                body="PredictRequest",
                description=model_type.description or None,
            )
        }
    for model_type in series_types(types):
        items[f"/forecasts/{model_type.name}"] = {
            "get": operation(
                f"forecasts_{model_type.name}",
                f"Forecast every series of {model_type.title or model_type.name}, "
                "with intervals.",
                ok("Trends", "Every series' forecast (logged)."),
                ("400",),
                parameters=trend_parameters,
            )
        }
    return items

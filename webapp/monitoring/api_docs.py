"""The OpenAPI description of the monitoring route and its response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

NUMBER_OR_NULL = {"type": ["number", "null"]}
FIGURES = {
    "type": ["object", "null"],
    "description": "Realised figures on the joined pairs (null: none joined). "
    "binary: pairs, roc_auc, brier, calibration [{predicted, observed}], "
    "calibration_gap, success_rate, mean_predicted, mean_rating; risk: pairs, "
    "roc_auc, failure_rate, mean_rating; value (roi): pairs, mae, coverage, "
    "nominal_coverage, mean_width, mean_actual; forecast: pairs, mae, mape, "
    "coverage. A figure that an empty or one-class window cannot give is null.",
}
ALERT = {
    "type": "object",
    "required": ["metric", "value", "threshold", "message"],
    "properties": {
        "metric": {"type": "string"},
        "value": {"type": "number"},
        "threshold": {"type": "number"},
        "message": {"type": "string"},
        "feature": {"type": "string"},
        "version": {"type": "string"},
    },
}
VERSION = {
    "type": "object",
    "required": [
        *("key", "version", "label", "status", "predictions", "volume"),
        *("overall", "windows", "drift", "drift_note", "alerts"),
    ],
    "properties": {
        "key": {"type": "integer", "description": "Version id; 0 is the fallback."},
        "version": {"type": ["integer", "null"]},
        "label": {"type": "string"},
        "status": {"type": "string"},
        "predictions": {"type": "integer"},
        "first_served_at": {"type": ["string", "null"]},
        "volume": {"type": "array", "items": {"type": "integer"}},
        "overall": FIGURES,
        "windows": {"type": "array", "items": FIGURES},
        "drift": {
            "type": "object",
            "description": "Per input feature: kind, psi, test (ks | chi2), "
            "statistic, p_value, live_n, reference_n, bins, reference_share, "
            "live_share.",
            "additionalProperties": {"type": "object"},
        },
        "drift_note": {"type": ["string", "null"]},
        "alerts": {"type": "array", "items": ALERT},
    },
}
SHADOW = {
    "type": "object",
    "required": [
        *("key", "version", "label", "status", "scored", "served_by"),
        *("period", "shadow", "serving"),
    ],
    "properties": {
        "key": {"type": "integer", "description": "The shadow version's id."},
        "version": {"type": "integer"},
        "label": {"type": "string"},
        "status": {"type": "string"},
        "scored": {
            "type": "integer",
            "description": "Served requests this version scored in shadow.",
        },
        "served_by": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "Keys of the versions that served those requests "
            "(0: the fallback).",
        },
        "period": {
            "type": ["object", "null"],
            "description": "Its latest shadow period: running, started_at, "
            "stopped_at, minutes (all periods), last_pass_at, last_pass_status "
            "(succeeded | failed), last_pass_error.",
        },
        "shadow": FIGURES,
        "serving": {
            **FIGURES,
            "description": "The same figures for what served the same requests.",
        },
    },
}
SCHEMAS: dict[str, Any] = {
    "Monitoring": {
        "type": "object",
        "required": [
            *("model_type", "title", "target", "kind", "generated_at"),
            *("window_days", "windows", "error_rates", "versions", "alerts"),
            *("thresholds", "shadow"),
        ],
        "properties": {
            "model_type": {"type": "string"},
            "title": {"type": "string"},
            "target": {"type": "string"},
            "kind": {
                "type": ["string", "null"],
                "enum": ["binary", "risk", "value", "forecast", None],
            },
            "generated_at": {"type": "string"},
            "window_days": {"type": "integer"},
            "windows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "start": {"type": "string"},
                        "end": {"type": "string"},
                    },
                },
            },
            "error_rates": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "predictions": {"type": "integer"},
                        "fallbacks": {"type": "integer"},
                        "error_rate": NUMBER_OR_NULL,
                    },
                },
            },
            "versions": {"type": "array", "items": VERSION},
            "alerts": {"type": "array", "items": ALERT},
            "thresholds": {"type": "object"},
            "shadow": {
                "type": "array",
                "items": SHADOW,
                "description": "Shadow versions against serving on the same "
                "requests and the outcomes rated after them; shadow scores were "
                "never shown and are left out of every figure above.",
            },
        },
    }
}


def paths(operation: Callable, ok: Callable, path_param: Callable) -> dict[str, Any]:
    """Return the path item of the monitoring route."""
    return {
        "/monitoring/{model_type}": {
            "get": operation(
                "monitoring",
                "Live figures of a model type per version and window, input drift "
                "and alerts (admin).",
                ok("Monitoring", "The dashboard's figures."),
                ("403", "404"),
                parameters=[path_param("model_type", {"type": "string"})],
                description="Predictions are joined with outcomes that became "
                "known after them (point in time); windows are "
                "MONITORING_WINDOW_DAYS long, the newest ending now. Reused for "
                "at most MONITORING_CACHE_SECONDS, never across a version change, "
                "and at most MONITORING_MAX_LAG_SECONDS behind new predictions "
                "and outcomes.",
            )
        }
    }

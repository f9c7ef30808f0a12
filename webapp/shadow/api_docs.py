"""The shadow routes in the OpenAPI document: the period schema and path items.

Kept apart from the routes (``webapp.shadow.api``) so that building the
document needs no views; ``webapp.views.api.openapi`` merges both in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.views.api.schemas import NULLABLE_TIMESTAMP, TIMESTAMP, closed, ref

NULLABLE_STRING = {"type": ["string", "null"]}
SCHEMAS: dict[str, Any] = {
    "ShadowPeriod": closed(
        {
            "id": {"type": "integer"},
            "model_type": {"type": "string"},
            "version": {"type": "integer", "description": "The shadowing version."},
            "running": {"type": "boolean"},
            "started_at": TIMESTAMP,
            "stopped_at": NULLABLE_TIMESTAMP,
            "minutes": {
                "type": "number",
                "description": "How long this period has lasted (or lasted).",
            },
            "started_by": NULLABLE_STRING,
            "stopped_by": NULLABLE_STRING,
            "scored": {
                "type": "integer",
                "description": "Served requests scored in shadow in this period.",
            },
            "last_pass_at": NULLABLE_TIMESTAMP,
            "last_pass_status": {
                "type": ["string", "null"],
                "enum": ["succeeded", "failed", None],
            },
            "last_pass_error": {
                **NULLABLE_STRING,
                "description": "Why the last pass failed (a refused artifact, a "
                "model error); serving is not affected.",
            },
        }
    ),
    "ShadowPeriodList": closed(
        {"periods": {"type": "array", "items": ref("ShadowPeriod")}}
    ),
}
SHADOW_NOTE = (
    "A shadow version scores the requests serving answered from then on, off the "
    "request path: every SHADOW_INTERVAL seconds a job rebuilds each served "
    "pair's features as of when it was served and logs the shadow score with "
    "source 'shadow'. Shadow scores are never shown and never count as served "
    "predictions or rollout evidence; GET /monitoring/{model_type} compares them "
    "with serving on the outcomes rated later. One version per pair type shadows "
    "at a time."
)


def paths(operation: Callable, ok: Callable, path_param: Callable) -> dict[str, Any]:
    """Return the path items of the shadow routes."""
    type_param = path_param("model_type", {"type": "string"})
    version_param = path_param("version", {"type": "integer", "minimum": 1})
    return {
        "/models/{model_type}/shadow": {
            "get": operation(
                "shadowPeriods",
                "List a model type's latest shadow periods, newest first (admin).",
                ok("ShadowPeriodList", "The periods."),
                ("403", "404"),
                parameters=[type_param],
            )
        },
        "/models/{model_type}/versions/{version}/shadow/start": {
            "post": operation(
                "shadowStart",
                "Start shadowing serving with a version (admin).",
                ok("ShadowPeriod", "The open shadow period.", status="201"),
                ("403", "404", "409"),
                parameters=[type_param, version_param],
                description=SHADOW_NOTE + " 409 when the version is active, its "
                "artifact is refused, its type is not a pair type, or another "
                "version of the type is shadowing.",
            )
        },
        "/models/{model_type}/versions/{version}/shadow/stop": {
            "post": operation(
                "shadowStop",
                "Stop a version's shadow period (admin).",
                ok("ShadowPeriod", "The closed period."),
                ("403", "404", "409"),
                parameters=[type_param, version_param],
                description="409 when the version is not shadowing.",
            )
        },
    }

"""The rollouts API in the OpenAPI document: its schemas and path items.

Kept apart from the routes (``webapp.rollouts.api``) so that building the
document needs no views; ``webapp.views.api.openapi`` merges both in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.models.rollouts import BREACH_ACTIONS, ROLLOUT_STATUSES, ROLLOUT_UNITS
from webapp.rollouts.store import MAX_HOLD_MINUTES, MAX_MIN_OUTCOMES, MAX_STEPS
from webapp.views.api.schemas import NULLABLE_TIMESTAMP, TIMESTAMP, closed, ref

VERSION_NUMBER = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
PERCENT = {"type": "number", "exclusiveMinimum": 0, "maximum": 100}
NULLABLE_PERCENT = {"type": ["number", "null"], "minimum": 0, "maximum": 100}

SCHEMAS: dict[str, Any] = {
    "RolloutCreate": closed(
        {
            "model_type": {"type": "string", "minLength": 1, "maxLength": 64},
            "candidate_version": {
                **VERSION_NUMBER,
                "description": "The version number (of the model type) to roll out.",
            },
            "baseline_version": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": 2**31 - 1,
                "description": "The version the other units get; default the active.",
            },
            "unit": {"type": "string", "enum": list(ROLLOUT_UNITS)},
            "steps": {
                "type": "array",
                "items": PERCENT,
                "minItems": 2,
                "maxItems": MAX_STEPS,
                "description": "Percentages of units on the candidate, increasing, "
                "ending at 100; default 1, 5, 10, 25, 50, 100.",
            },
            "hold_minutes": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_HOLD_MINUTES,
            },
            "min_outcomes": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_MIN_OUTCOMES,
            },
            "guardrails": closed(
                {
                    "tolerance": {"type": "number", "minimum": 0, "maximum": 1},
                    "alpha": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.5},
                    "calibration_tolerance": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": 1,
                        "description": "The expected calibration error the "
                        "estimated (CBPE) gate allows before it stops being used.",
                    },
                    "prove_before_promoting": {
                        "type": "boolean",
                        "description": "If true, the last step (to 100 %) "
                        "waits until the candidate's realised success rate is shown "
                        "no worse than the baseline's by more than the tolerance "
                        "(the lower end of its always-valid interval), instead of "
                        "going ahead when no breach is significant (the default). "
                        "Showing it takes many outcomes: a candidate as good as the "
                        "baseline needs an interval narrower than the tolerance.",
                    },
                },
                required=[],
            ),
            "on_breach": {"type": "string", "enum": list(BREACH_ACTIONS)},
            "shadow_minutes": {
                "type": ["integer", "null"],
                "minimum": 0,
                "maximum": MAX_HOLD_MINUTES,
                "description": "If given, the rollout cannot start until the "
                "candidate has shadowed serving this many minutes in all "
                "(POST /models/{model_type}/versions/{version}/shadow/start); "
                "start answers 409 until then.",
            },
        },
        required=["model_type", "candidate_version"],
    ),
    "Rollout": closed(
        {
            "id": {"type": "integer"},
            "model_type": {"type": "string"},
            "candidate_version": {"type": "integer"},
            "baseline_version": {"type": "integer"},
            "unit": {"type": "string", "enum": list(ROLLOUT_UNITS)},
            "status": {"type": "string", "enum": list(ROLLOUT_STATUSES)},
            "current_percent": {"type": "number", "minimum": 0, "maximum": 100},
            "steps": {"type": "array", "items": {"type": "number"}},
            "step_index": {"type": "integer", "minimum": 0},
            "hold_minutes": {"type": "integer"},
            "min_outcomes": {"type": "integer"},
            "guardrails": {"type": "object"},
            "on_breach": {"type": "string", "enum": list(BREACH_ACTIONS)},
            "shadow_minutes": {"type": ["integer", "null"]},
            "seed": {"type": "string", "description": "The bucketing hash seed."},
            "created_at": TIMESTAMP,
            "started_at": NULLABLE_TIMESTAMP,
            "step_started_at": NULLABLE_TIMESTAMP,
            "finished_at": NULLABLE_TIMESTAMP,
            "timeline": {"type": "array", "items": ref("RolloutEvent")},
        }
    ),
    "RolloutEvent": closed(
        {
            "action": {"type": "string"},
            "actor": {
                "type": ["string", "null"],
                "description": "Who did it; null for the periodic job.",
            },
            "from_percent": NULLABLE_PERCENT,
            "to_percent": NULLABLE_PERCENT,
            "reason": {"type": "string"},
            "numbers": {
                "type": "object",
                "description": "The evidence the decision read: per-arm figures, "
                "guardrail comparisons, hold and sample counts.",
            },
            "created_at": TIMESTAMP,
        }
    ),
    "RolloutList": closed(
        {
            "rollouts": {"type": "array", "items": ref("Rollout")},
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 0},
            "total": {"type": "integer", "minimum": 0},
        }
    ),
}

ROLLOUT_ID = {
    "name": "rollout_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
ACTIONS = {
    "start": "Start a pending rollout at its first step (admin).",
    "pause": "Pause a running rollout: every unit gets the baseline (admin).",
    "resume": "Resume a paused rollout; the step's hold starts again (admin).",
    "advance": "Move to the next step now; the last one promotes (admin).",
    "rollback": "End the rollout: archive the candidate, the baseline serves (admin).",
}


def paths(operation: Callable, ok: Callable, page_parameters: list) -> dict[str, Any]:
    """Return the path items of the rollout routes."""
    items: dict[str, Any] = {
        "/rollouts": {
            "get": operation(
                "rollouts",
                "List rollouts, newest first (admin).",
                ok("RolloutList", "One page of rollouts."),
                ("403", "422"),
                parameters=page_parameters,
            ),
            "post": operation(
                "rolloutCreate",
                "Set up a staged rollout of a candidate version as pending (admin).",
                ok("Rollout", "The pending rollout.", status="201"),
                ("400", "403", "413", "422"),
                body="RolloutCreate",
                description="Semantic problems (an unknown version number, a "
                "candidate that is not a candidate, steps not ending at 100, an "
                "open rollout of the type) are 422 with one {path, message} each.",
            ),
        },
        "/rollouts/{rollout_id}": {
            "get": operation(
                "rollout",
                "Show a rollout: status, current percentage, timeline with numbers.",
                ok("Rollout", "The rollout."),
                ("403", "404"),
                parameters=[ROLLOUT_ID],
            )
        },
    }
    for action, summary in ACTIONS.items():
        items[f"/rollouts/{{rollout_id}}/{action}"] = {
            "post": operation(
                f"rollout_{action}",
                summary,
                ok("Rollout", "The rollout as it is now."),
                ("403", "404", "409"),
                parameters=[ROLLOUT_ID],
            )
        }
    return items

"""The experiments API in the OpenAPI document: its schemas and path items.

Kept apart from the routes (``webapp.experiments.api``) so that building the
document needs no views; ``webapp.views.api.openapi`` merges both in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.core.pagination import API_PAGE_PARAMETERS
from webapp.experiments.results import METRICS
from webapp.experiments.store import MAX_VARIANTS, MIN_VARIANTS
from webapp.models.experiments import (
    EVENT_TYPES,
    EXPERIMENT_KINDS,
    EXPERIMENT_STATUSES,
    EXPERIMENT_UNITS,
)
from webapp.views.api.schemas import NULLABLE_TIMESTAMP, TIMESTAMP, closed, ref

SLUG = {
    "type": "string",
    "pattern": "^[a-z0-9][a-z0-9_-]{1,63}$",
    "description": "2-64 lower-case letters, digits, - or _.",
}
UNIT_ID = {"type": "string", "minLength": 1, "maxLength": 100}
FRACTION = {"type": "number", "minimum": 0, "maximum": 1}
VERSION_ID = {
    "type": ["integer", "null"],
    "minimum": 1,
    "maximum": 2**31 - 1,
    "description": "A model version of the experiment's type; null serves the "
    "rule-based scorer.",
}
NUMBER = {"type": ["number", "null"]}
INTERVAL = {
    "oneOf": [
        {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        {"type": "null"},
    ]
}
METRIC = {"type": "string", "enum": list(METRICS)}
NAMESPACE = {
    "oneOf": [
        {"type": "null"},
        closed(
            {
                "id": {"type": "string", "minLength": 1, "maxLength": 64},
                "start": FRACTION,
                "end": FRACTION,
            }
        ),
    ],
    "description": "A range of a namespace for mutually exclusive experiments "
    "(GrowthBook's [id, start, end]).",
}

SCHEMAS: dict[str, Any] = {
    "ExperimentCreate": closed(
        {
            "key": SLUG,
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "hypothesis": {"type": "string", "maxLength": 5000},
            "model_type": {"type": "string", "minLength": 1, "maxLength": 64},
            "unit": {"type": "string", "enum": list(EXPERIMENT_UNITS)},
            "coverage": FRACTION,
            "metric": METRIC,
            "guardrails": {
                "type": "array",
                "items": METRIC,
                "maxItems": len(METRICS),
                "uniqueItems": True,
            },
            "namespace": NAMESPACE,
            "kind": {
                "type": "string",
                "enum": list(EXPERIMENT_KINDS),
                "description": "ab (default) splits units between variants; "
                "interleaving mixes two match_success versions' rankings in the "
                "lists each covered unit sees (team draft) and credits each pick.",
            },
            "sequential": {
                "type": "boolean",
                "description": "Always-valid p-values and confidence sequences, "
                "so looking early is safe (default false).",
            },
            "mde": {
                "type": ["number", "null"],
                "exclusiveMinimum": 0,
                "maximum": 10,
                "description": "Relative minimum detectable effect (0.1 = +10 %), "
                "default 0.1; sets the sample size (power 0.8, alpha 0.05).",
            },
            "baseline": {
                "type": ["number", "null"],
                "minimum": -1e6,
                "maximum": 1e6,
                "description": "The metric's current level; default: the app's data.",
            },
            "variants": {
                "type": "array",
                "minItems": MIN_VARIANTS,
                "maxItems": MAX_VARIANTS,
                "items": closed(
                    {
                        "key": SLUG,
                        "name": {"type": "string", "maxLength": 200},
                        "weight": FRACTION,
                        "model_version_id": VERSION_ID,
                    },
                    required=["key"],
                ),
                "description": "The first variant is the control; weights sum to 1 "
                "(an A/B test needs them; interleaving ignores them).",
            },
        },
        required=["key", "model_type", "unit", "metric", "variants"],
    ),
    "ExperimentChange": closed(
        {
            "variants": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_VARIANTS,
                "items": closed({"key": SLUG, "weight": FRACTION}),
            },
            "coverage": FRACTION,
        },
        required=[],
        minProperties=1,
    ),
    "ConcludeRequest": closed({"ship": {"type": "boolean"}}, required=[]),
    "AssignRequest": closed({"unit_id": UNIT_ID}),
    "EventRequest": closed(
        {
            "unit_id": UNIT_ID,
            "type": {"type": "string", "enum": list(EVENT_TYPES)},
            "value": {
                "type": ["number", "null"],
                "description": "Required for rating (1-5) and roi (a fraction of "
                "the spend, -1 to 1000); none for the others.",
            },
        },
        required=["unit_id", "type"],
    ),
    "Experiment": closed(
        {
            "key": {"type": "string"},
            "name": {"type": "string"},
            "hypothesis": {"type": "string"},
            "model_type": {"type": "string"},
            "unit": {"type": "string", "enum": list(EXPERIMENT_UNITS)},
            "kind": {"type": "string", "enum": list(EXPERIMENT_KINDS)},
            "sequential": {"type": "boolean"},
            "status": {"type": "string", "enum": list(EXPERIMENT_STATUSES)},
            "coverage": FRACTION,
            "metric": METRIC,
            "guardrails": {"type": "array", "items": METRIC},
            "namespace": NAMESPACE,
            "mde": NUMBER,
            "baseline": NUMBER,
            "required_sample_size": {"type": ["integer", "null"]},
            "variants": {
                "type": "array",
                "items": closed(
                    {
                        "key": {"type": "string"},
                        "name": {"type": "string"},
                        "weight": FRACTION,
                        "model_version_id": {"type": ["integer", "null"]},
                        "serves": {
                            "type": "string",
                            "description": "'match_success v3', or 'rule-based scorer'.",
                        },
                    }
                ),
            },
            "shipped_variant": {"type": ["string", "null"]},
            "created_at": TIMESTAMP,
            "started_at": NULLABLE_TIMESTAMP,
            "stopped_at": NULLABLE_TIMESTAMP,
            "concluded_at": NULLABLE_TIMESTAMP,
            "history": {"type": "array", "items": ref("ExperimentHistoryEntry")},
            "links": closed(
                {"self": {"type": "string"}, "results": {"type": "string"}}
            ),
        }
    ),
    "ExperimentHistoryEntry": closed(
        {
            "action": {"type": "string"},
            "actor": {"type": ["string", "null"]},
            "changes": {"type": "object"},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "created_at": TIMESTAMP,
        }
    ),
    "ExperimentList": closed(
        {
            "experiments": {"type": "array", "items": ref("Experiment")},
            "page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 0},
            "total": {"type": "integer", "minimum": 0},
        }
    ),
    "ExperimentChanged": closed(
        {"experiment": ref("Experiment"), "warnings": {"type": "array"}}
    ),
    "ExperimentConcluded": closed(
        {"experiment": ref("Experiment"), "message": {"type": "string"}}
    ),
    "ExperimentResults": closed(
        {
            "key": {"type": "string"},
            "status": {"type": "string", "enum": list(EXPERIMENT_STATUSES)},
            "kind": {"type": "string", "enum": list(EXPERIMENT_KINDS)},
            "sequential": {
                "type": "boolean",
                "description": "True: p_value and the lift intervals are "
                "always-valid (null until every variant has enough units).",
            },
            "metric": METRIC,
            "srm_p_value": NUMBER,
            "srm_flag": {"type": "boolean"},
            "winner": {"type": ["string", "null"]},
            "variants": {
                "type": "array",
                "items": closed(
                    {
                        "key": {"type": "string"},
                        "units": {"type": "integer", "minimum": 0},
                        "exposures": {"type": "integer", "minimum": 0},
                        "conversions": {"type": "integer", "minimum": 0},
                        "sum": {"type": "number"},
                        "mean": NUMBER,
                        "ci": INTERVAL,
                        "lift_abs": NUMBER,
                        "lift_abs_ci": INTERVAL,
                        "lift_rel": NUMBER,
                        "lift_rel_ci": INTERVAL,
                        "p_value": NUMBER,
                        "chance_to_beat_control": NUMBER,
                        "expected_loss": NUMBER,
                        "wins": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "Interleaving: units preferring it.",
                        },
                    },
                    required=["key", "units", "exposures", "mean", "ci"],
                ),
                "description": "In set-up order, control first; comparisons "
                "(lift, p_value, Bayesian) on the other variants only. For "
                "interleaving, mean and ci are the preference share and its exact "
                "interval, conversions the credited events.",
            },
            "cuped": {
                "type": ["object", "null"],
                "description": "The primary metric adjusted by CUPED (each unit's "
                "pre-experiment value of the metric as covariate): theta, "
                "variance_reduction, and per variant the unadjusted and adjusted "
                "comparison; null when a variant has fewer than 2 units.",
            },
            "interleaving": {
                "type": "object",
                "description": "Interleaving only: units, units_with_preference, "
                "ties, p_value (sign test), and by_event (proposals, acceptances, "
                "successes) the same per event with each variant's share.",
            },
        },
        required=[
            "key",
            "status",
            "kind",
            "sequential",
            "metric",
            "srm_p_value",
            "srm_flag",
            "winner",
            "variants",
            "cuped",
        ],
    ),
    "Assignment": closed(
        {
            "variant": {"type": ["string", "null"]},
            "in_experiment": {"type": "boolean"},
        }
    ),
    "EventRecorded": closed(
        {
            "recorded": {
                "type": "boolean",
                "description": "False for a repeated exposure (the first one counts).",
            },
            "unit_id": {"type": "string"},
            "type": {"type": "string", "enum": list(EVENT_TYPES)},
        }
    ),
}

KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
PAGE_PARAMETERS = API_PAGE_PARAMETERS


def paths(operation: Callable, ok: Callable) -> dict[str, Any]:
    """Return the path items of the experiment routes."""
    key = [KEY]
    items: dict[str, Any] = {
        "/experiments": {
            "get": operation(
                "experiments",
                "List experiments, newest first (admin).",
                ok("ExperimentList", "One page of experiments."),
                ("403", "422"),
                parameters=PAGE_PARAMETERS,
            ),
            "post": operation(
                "experimentCreate",
                "Set up an A/B or interleaving experiment as a draft (admin).",
                ok("Experiment", "The draft experiment.", status="201"),
                ("400", "403", "413", "422"),
                body="ExperimentCreate",
                description="Semantic problems (weights not summing to 1, an "
                "unknown or wrong-type model version, a key in use) are 422 with "
                "one {path, message} per problem.",
            ),
        },
        "/experiments/{key}": {
            "get": operation(
                "experiment",
                "Show an experiment's set-up and history (admin).",
                ok("Experiment", "The experiment."),
                ("403", "404"),
                parameters=key,
            ),
            "patch": operation(
                "experimentChange",
                "Change variant weights and/or coverage (admin).",
                ok(
                    "ExperimentChanged",
                    "Changed; on a running experiment, the warnings recorded in "
                    "its history.",
                ),
                ("400", "403", "404", "409", "413", "422"),
                body="ExperimentChange",
                parameters=key,
                description="Draft and running experiments only (else 409). "
                "Assigned units keep their variant.",
            ),
        },
        "/experiments/{key}/results": {
            "get": operation(
                "experimentResults",
                "Per-variant statistics, the sample-ratio check and the winner (admin).",
                ok("ExperimentResults", "The results."),
                ("403", "404"),
                parameters=key,
            )
        },
        "/experiments/{key}/assign": {
            "post": operation(
                "experimentAssign",
                "Return a unit's variant (sticky once stored); any token.",
                ok("Assignment", "The variant, or null when the unit is not in it."),
                ("400", "404", "413", "422"),
                body="AssignRequest",
                parameters=key,
                description="Deterministic and GrowthBook-compatible; the first "
                "assignment of a unit in a running experiment is stored and kept. "
                "An experiment that is not running assigns nobody.",
            ),
        },
        "/experiments/{key}/events": {
            "post": operation(
                "experimentEvent",
                "Record an exposure or a conversion of an assigned unit.",
                ok("EventRecorded", "Recorded."),
                ("400", "403", "404", "409", "413", "422"),
                body="EventRequest",
                parameters=key,
                description="Admins may send events of any unit, members only "
                "of their own company or influencer (else 403). The unit must "
                "have been assigned and the experiment running or stopped (else "
                "409). A conversion counts only after the unit's exposure.",
            ),
        },
    }
    for action, summary in (
        ("start", "Start a draft experiment: it routes the units it covers (admin)."),
        ("stop", "Stop a running experiment: units go back to the active version."),
    ):
        items[f"/experiments/{{key}}/{action}"] = {
            "post": operation(
                f"experiment_{action}",
                summary,
                ok("Experiment", "The experiment as it is now."),
                ("403", "404", "409"),
                parameters=key,
            )
        }
    conclude = operation(
        "experiment_conclude",
        "Conclude a running or stopped experiment; with ship, promote the "
        "winner's model version (admin).",
        ok("ExperimentConcluded", "Concluded (and shipped)."),
        ("400", "403", "404", "409", "413", "422"),
        body="ConcludeRequest",
        parameters=key,
        description="Shipping needs a winner serving a model version; otherwise "
        "409 and nothing changes.",
    )
    conclude["requestBody"]["required"] = False
    items["/experiments/{key}/conclude"] = {"post": conclude}
    return items

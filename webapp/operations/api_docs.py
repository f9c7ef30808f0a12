"""The OpenAPI description of the audit route: its filters and its page of entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webapp.operations.audit import ACTIONS, MAX_ACTOR

DAY = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "maxLength": 10}
PARAMETERS = [
    {
        "name": "action",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": list(ACTIONS)},
        "description": "Only this action.",
    },
    {
        "name": "actor",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ACTOR},
        "description": "Only this actor: a user's e-mail, or cli / system.",
    },
    {
        "name": "since",
        "in": "query",
        "required": False,
        "schema": DAY,
        "description": "Only entries on or after this day (UTC, YYYY-MM-DD).",
    },
    {
        "name": "until",
        "in": "query",
        "required": False,
        "schema": DAY,
        "description": "Only entries on or before this day (UTC, YYYY-MM-DD).",
    },
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1},
    },
]
SCHEMAS: dict[str, Any] = {
    "AuditEntry": {
        "type": "object",
        "required": ["id", "actor", "action", "target_type", "target_id"]
        + ["details", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "actor": {"type": "string"},
            "action": {"type": "string", "enum": list(ACTIONS)},
            "target_type": {"type": "string"},
            "target_id": {"type": ["string", "null"]},
            "details": {"type": "object"},
            "created_at": {"type": "string"},
        },
    },
    "AuditList": {
        "type": "object",
        "required": ["entries", "page", "pages", "total"],
        "properties": {
            "entries": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/AuditEntry"},
            },
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "total": {"type": "integer"},
        },
    },
}


def paths(operation: Callable, ok: Callable) -> dict[str, Any]:
    """Return the path item of the audit route."""
    return {
        "/audit": {
            "get": operation(
                "audit",
                "List admin actions, newest first, a page at a time (admin).",
                ok("AuditList", "One page of audit entries."),
                ("400", "403", "422"),
                parameters=PARAMETERS,
                description="Promotions, rollbacks, archives, experiment and rollout "
                "changes, API token creation and revocation, imports and queue "
                "actions. A bad filter (unknown action, malformed day, until before "
                "since) is 422 with one {path, message} per problem.",
            )
        }
    }

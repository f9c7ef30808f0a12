"""What a collaboration's page and its API answer show: history, ratings, match.

One description for both, so the page and ``GET /api/v1/collaborations/<id>``
say the same thing about who did what when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webapp.marketplace.lifecycle import side_of
from webapp.models import Collaboration, StatusChange, User

SIDE_NAMES = {"company": "brand", "influencer": "influencer", "admin": "admin"}


@dataclass
class Step:
    """One history row with the side its actor acted for."""

    change: StatusChange
    by: str | None  # company, influencer, admin, or None (imported, seeded)

    @property
    def at(self) -> datetime:
        """When it happened (UTC)."""
        return self.change.created_at


def actor_side(actor: User | None, collaboration: Collaboration) -> str | None:
    """Return which side ``actor`` acted for: company, influencer, admin or None."""
    if actor is None:
        return None
    if actor.is_admin:
        return "admin"
    return side_of(actor, collaboration)


def steps(collaboration: Collaboration) -> list[Step]:
    """Return the status history, oldest first, with each actor's side."""
    return [
        Step(change, actor_side(change.actor, collaboration))
        for change in collaboration.status_changes
    ]


def party_name(collaboration: Collaboration, side: str | None) -> str:
    """Return how a page names a step's actor: the brand, @handle, an admin."""
    if side == "company":
        return collaboration.company.name
    if side == "influencer":
        return f"@{collaboration.influencer.handle}"
    if side == "admin":
        return "a Matchloop admin"
    return "a member who no longer acts for either side"


def match_summary(collaboration: Collaboration) -> dict[str, Any] | None:
    """Return the prediction stored at proposal, or None when there is none.

    ``factors`` are the top reasons (signed contributions) as they stood then;
    snapshots stored before reasons were kept have an empty list.
    """
    snapshot = collaboration.match_snapshot or {}
    if "success_probability" not in snapshot:
        return None
    return {
        "success_probability": float(snapshot["success_probability"]),
        "model_type": snapshot.get("model_type"),
        "model_version": snapshot.get("model_version"),
        "fallback": bool(snapshot.get("fallback")),
        "factors": list(snapshot.get("factors") or []),
    }

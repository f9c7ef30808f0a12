"""The prediction log: one row per served prediction, of any model type.

Every serving path writes through here, so each row says the same things the
same way: which type and version answered (none: the fallback), for whom, the
score and, as the type's outputs fill them, confidence, the interval with its
nominal level, the level, and for series types the forecast points. Monitoring
joins these rows with outcomes rated later.

A shadow version's scores live in the same table with source ``SHADOW_SOURCE``
(and ``shadow_of_id``, the served row they scored again); they were never
shown, so every reader of served predictions filters with ``served()``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, insert

from webapp.extensions import db
from webapp.models import PredictionLog
from webapp.serving.routing import ServedVersion

# The source of a shadow version's score: logged, never shown, never evidence.
SHADOW_SOURCE = "shadow"


def served() -> ColumnElement[bool]:
    """Return the clause that keeps served predictions (leaves shadow scores out)."""
    return PredictionLog.source != SHADOW_SOURCE


def entry(
    model_type: str,
    version: ServedVersion | None,
    subject: str,
    source: str,
    *,
    score: float,
    variant: str | None = None,
    rollout_id: int | None = None,
    influencer_id: int | None = None,
    company_id: int | None = None,
    confidence: float | None = None,
    interval: tuple[float, float, float] | None = None,
    level: str | None = None,
    forecast: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return one log row's values.

    :param rollout_id: the staged rollout that routed it (``variant``: its arm).
    :param interval: ``(low, high, nominal level)`` when the prediction has one.
    :param forecast: ``[{"period_start", "value", "lower", "upper"}, ...]``.
    """
    low, high, nominal = interval if interval is not None else (None, None, None)
    return {
        "model_type": model_type,
        "version_id": version.id if version else None,
        "fallback": version is None,
        "subject": subject[:100],
        "influencer_id": influencer_id,
        "company_id": company_id,
        "score": float(score),
        "confidence": confidence,
        "interval_low": low,
        "interval_high": high,
        "interval_level": nominal,
        "level": level[:16] if level is not None else None,
        "forecast": forecast,
        "variant": variant,
        "rollout_id": rollout_id,
        "source": source,
    }


def write(entries: list[dict[str, Any]]) -> None:
    """Insert ``entries`` (from ``entry``) in one statement and commit."""
    if entries:
        db.session.execute(insert(PredictionLog), entries)
        db.session.commit()

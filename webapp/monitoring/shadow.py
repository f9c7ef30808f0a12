"""Shadow versions against serving, on the same requests and the outcomes rated later.

Each shadow score (prediction log source "shadow") re-scores one served row:
same pair, same moment (``created_at`` is the served one). Both sides go
through the same point-in-time join (``joins.join``) and the same figures, so
a shadow version and what served those very requests are compared on the
same collaborations. Shadow scores were never shown to anyone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import ModelVersion, PredictionLog
from webapp.monitoring import joins, outcomes
from webapp.registry.contract import ModelType
from webapp.serving.prediction_log import SHADOW_SOURCE
from webapp.shadow import store

SIDES = ("shadow", "serving")


def paired_rows(model_type: str) -> list[Any]:
    """Return each shadow score of the type with the served row it re-scored."""
    served = aliased(PredictionLog)
    shadow = PredictionLog
    return db.session.execute(
        select(
            shadow.version_id,
            shadow.influencer_id,
            shadow.company_id,
            shadow.score,
            shadow.interval_low,
            shadow.interval_high,
            shadow.interval_level,
            served.created_at,
            served.score,
            served.interval_low,
            served.interval_high,
            served.interval_level,
            func.coalesce(served.version_id, joins.FALLBACK_KEY),
        )
        .join(served, served.id == shadow.shadow_of_id)
        .where(shadow.model_type == model_type, shadow.source == SHADOW_SOURCE)
        .order_by(served.created_at, served.id)
    ).all()


def side_logs(rows: list[Any], side: str) -> pd.DataFrame:
    """Return one side's scores as a log frame (``joins.LOG_COLUMNS``), keyed by shadow version."""
    if side == "shadow":
        picked = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows]
    else:
        picked = [(r[0], r[1], r[2], r[8], r[9], r[10], r[11], r[7]) for r in rows]
    return joins.log_frame(picked)


def period_facts(version_id: int, model_type: str) -> dict[str, Any] | None:
    """Return the version's latest shadow period: running, since, last pass, minutes."""
    latest = next(
        (p for p in store.periods(model_type) if p.version_id == version_id), None
    )
    if latest is None:
        return None
    return {
        "running": latest.running,
        "started_at": latest.started_at.isoformat() + "Z",
        "stopped_at": latest.stopped_at.isoformat() + "Z"
        if latest.stopped_at
        else None,
        "minutes": round(store.shadowed_minutes(version_id, utcnow()), 1),
        "last_pass_at": latest.last_pass_at.isoformat() + "Z"
        if latest.last_pass_at
        else None,
        "last_pass_status": latest.last_pass_status,
        "last_pass_error": latest.last_pass_error,
    }


def comparison(
    plugin: ModelType, kind: str | None, figures: Callable[[str, pd.DataFrame], dict]
) -> list[dict[str, Any]]:
    """Return, per shadow version of the type, its figures and serving's on the same requests.

    :param figures: ``report.figures`` (the dashboard's own figures per kind).
    """
    rows = paired_rows(plugin.name)
    keys = {int(r[0]) for r in rows} | {
        p.version_id for p in store.periods(plugin.name)
    }
    if not keys:
        return []
    versions = {
        v.id: v
        for v in db.session.scalars(
            select(ModelVersion).where(ModelVersion.id.in_(keys))
        )
    }
    joined = {}
    if rows and kind in outcomes.TARGET_KINDS.values():
        realised = outcomes.realised(plugin.target, current_app.config)
        joined = {side: joins.join(realised, side_logs(rows, side)) for side in SIDES}
    found = []
    for key in sorted(keys, key=lambda k: -versions[k].version):
        mine = [r for r in rows if int(r[0]) == key]
        entry = {
            "key": key,
            "version": versions[key].version,
            "label": f"{versions[key].label} (shadow)",
            "status": versions[key].status,
            "scored": len(mine),
            "served_by": sorted({int(r[12]) for r in mine}),
            "period": period_facts(key, plugin.name),
        }
        for side in SIDES:
            frame = joined.get(side)
            picked = frame[frame["version_key"] == key] if frame is not None else None
            entry[side] = (
                figures(kind, picked)
                if picked is not None and not picked.empty
                else None
            )
        found.append(entry)
    return found

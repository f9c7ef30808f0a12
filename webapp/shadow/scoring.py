"""One shadow pass: score the requests served since the last pass with the shadow version.

The pass takes the type's served pair predictions above the period's
watermark (at most SHADOW_BATCH_SIZE, oldest first; the version's own served
rows are left out), rebuilds each pair's features as of the day it was served
with monitoring's ``live_features`` (serving's own feature code: one feature
path), scores them with the version's artifact once its sha256 and feature
names verify (``serving.predict.loaded_artifact``), and bulk-inserts the
scores as prediction log rows with source "shadow", ``shadow_of_id`` the
served row and ``created_at`` the served moment, so monitoring's point-in-time
join treats both alike. The watermark moves in the same transaction as the
inserts, conditionally: a pass that lost the race to another writes nothing,
and the unique (shadow_of_id, version_id) index refuses a second score.
A refused artifact or a failing model marks the pass failed with the reason
and raises; serving never reads any of this.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning import feature_sets
from webapp.models import PredictionLog, ShadowPeriod
from webapp.monitoring import live_features
from webapp.registry.contract import ModelType
from webapp.registry.plugins import installed_types
from webapp.serving import prediction_log
from webapp.serving.pair_types import TypedScored, check_predictions, typed_fields
from webapp.serving.predict import loaded_artifact
from webapp.serving.routing import ServedVersion


class ShadowPassFailed(RuntimeError):
    """A shadow pass could not score (refused artifact, failing model, type gone)."""


def due_rows(period: ShadowPeriod, limit: int) -> list[Any]:
    """Return the served pair predictions the period has not considered, oldest first."""
    return db.session.execute(
        select(
            PredictionLog.id,
            PredictionLog.subject,
            PredictionLog.influencer_id,
            PredictionLog.company_id,
            PredictionLog.created_at,
        )
        .where(
            PredictionLog.model_type == period.model_type,
            PredictionLog.id > period.watermark,
            PredictionLog.influencer_id.is_not(None),
            PredictionLog.company_id.is_not(None),
            prediction_log.served(),
            or_(
                PredictionLog.version_id.is_(None),
                PredictionLog.version_id != period.version_id,
            ),
        )
        .order_by(PredictionLog.id)
        .limit(limit)
    ).all()


def rebuilt_rows(rows: list[Any], feature_set: str) -> np.ndarray:
    """Return the feature rows serving computed for ``rows``, as of each one's day."""
    frame = pd.DataFrame(
        {
            "influencer_id": [row.influencer_id for row in rows],
            "company_id": [row.company_id for row in rows],
            "day": pd.to_datetime([row.created_at for row in rows])
            .astype("datetime64[s]")
            .floor("D"),
        }
    )
    unique = frame.drop_duplicates().reset_index(drop=True)
    columns = live_features.pair_rows(
        unique, feature_set, int(current_app.config["SUCCESS_MIN_RATING"])
    )
    matrix = np.column_stack(
        [columns[name] for name in feature_sets.names(feature_set)]
    )
    position = frame.merge(
        unique.reset_index(names="position"), on=list(frame.columns), how="left"
    )["position"]
    return matrix[position.to_numpy(np.int64)]


def plugin_of(model_type: str) -> ModelType:
    """Return the installed pair type, else ShadowPassFailed."""
    types = installed_types(current_app)
    if model_type not in types:
        raise ShadowPassFailed(f"{model_type} is no longer installed")
    return types.get(model_type)


def score(period: ShadowPeriod, rows: list[Any]) -> TypedScored:
    """Score ``rows`` with the period's version; ShadowPassFailed when it cannot."""
    plugin = plugin_of(period.model_type)
    version = ServedVersion.of(period.version)
    artifact, reason = loaded_artifact(version, feature_sets.names(plugin.features))
    if artifact is None:
        raise ShadowPassFailed(reason)
    matrix = rebuilt_rows(rows, plugin.features)
    try:
        predictions = plugin.predict(artifact, matrix)
        check_predictions(plugin, predictions, len(rows))
    except Exception as error:  # any model failure fails the pass, not serving
        raise ShadowPassFailed(
            f"{version.label} failed in shadow: {type(error).__name__}: {error}"
        ) from error
    return TypedScored(plugin, predictions, version, None, None)


def entries(scored: TypedScored, rows: list[Any]) -> list[dict[str, Any]]:
    """Return the shadow log rows of ``scored``: one per served row, at its moment."""
    return [
        prediction_log.entry(
            scored.plugin.name,
            scored.version,
            row.subject,
            prediction_log.SHADOW_SOURCE,
            score=float(scored.predictions.score[i]),
            influencer_id=row.influencer_id,
            company_id=row.company_id,
            **typed_fields(scored, i),
        )
        | {"shadow_of_id": row.id, "created_at": row.created_at}
        for i, row in enumerate(rows)
    ]


def mark_failed(period_id: int, reason: str) -> None:
    """Record a failed pass on the period (the watermark stays); commit."""
    db.session.rollback()
    db.session.execute(
        update(ShadowPeriod)
        .where(ShadowPeriod.id == period_id)
        .values(
            last_pass_at=utcnow(),
            last_pass_status="failed",
            last_pass_error=reason[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_pass(period_id: int) -> int:
    """Score what the open period ``period_id`` has not scored yet; return how many.

    :raises ShadowPassFailed: after marking the pass failed with the reason.
    """
    period = db.session.get(ShadowPeriod, period_id)
    if period is None or not period.running:
        return 0
    watermark, version_id = period.watermark, period.version_id
    rows = due_rows(period, int(current_app.config["SHADOW_BATCH_SIZE"]))
    written = []
    if rows:
        try:
            written = entries(score(period, rows), rows)
        except ShadowPassFailed as error:
            mark_failed(period_id, str(error))
            raise
    # Claim the rows first: a concurrent pass waits on this row, then finds the
    # watermark moved and writes nothing.
    claimed = db.session.execute(
        update(ShadowPeriod)
        .where(
            ShadowPeriod.id == period_id,
            ShadowPeriod.watermark == watermark,
            ShadowPeriod.version_id == version_id,
            ShadowPeriod.stopped_at.is_(None),
        )
        .values(
            watermark=rows[-1].id if rows else watermark,
            scored=ShadowPeriod.scored + len(written),
            last_pass_at=utcnow(),
            last_pass_status="succeeded",
            last_pass_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # another pass got there first, or it was stopped
        db.session.rollback()
        return 0
    try:
        if written:
            db.session.execute(insert(PredictionLog), written)
        db.session.commit()
    except IntegrityError:  # these rows were scored already (the index says so)
        db.session.rollback()
        return 0
    return len(written)


def open_period_ids() -> list[int]:
    """Return the ids of every open shadow period, oldest first."""
    return list(
        db.session.scalars(
            select(ShadowPeriod.id)
            .where(ShadowPeriod.stopped_at.is_(None))
            .order_by(ShadowPeriod.id)
        )
    )

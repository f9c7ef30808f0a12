"""The prediction log joined with outcomes that became known after each prediction.

Point in time: a logged prediction of a pair is compared only with a
collaboration of that pair whose label became known strictly after the
prediction was made; a rating given before it never counts (the model may
have seen it). Per version (the rule-based fallback is a version of its own,
key 0) each collaboration is compared with the latest prediction that version
made for its pair before the label was known, so a pair scored on every page
view still counts once. ``join`` is pure (pandas ``merge_asof``); ``pair_logs``
reads the log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import PredictionLog
from webapp.monitoring.outcomes import Realised
from webapp.serving.prediction_log import served

FALLBACK_KEY = 0
LOG_COLUMNS = (
    "version_key",
    "influencer_id",
    "company_id",
    "score",
    "interval_low",
    "interval_high",
    "interval_level",
    "created_at",
)


def pair_logs(model_type: str) -> pd.DataFrame:
    """Return the type's served pair predictions (LOG_COLUMNS), oldest first.

    Shadow scores are left out (``monitoring.shadow`` compares them apart).
    """
    rows = db.session.execute(
        select(
            func.coalesce(PredictionLog.version_id, FALLBACK_KEY),
            PredictionLog.influencer_id,
            PredictionLog.company_id,
            PredictionLog.score,
            PredictionLog.interval_low,
            PredictionLog.interval_high,
            PredictionLog.interval_level,
            PredictionLog.created_at,
        )
        .where(
            PredictionLog.model_type == model_type,
            PredictionLog.influencer_id.is_not(None),
            PredictionLog.company_id.is_not(None),
            served(),
        )
        .order_by(PredictionLog.created_at, PredictionLog.id)
    ).all()
    return log_frame(rows)


def log_frame(rows) -> pd.DataFrame:
    """Return log rows (tuples in LOG_COLUMNS order) as a typed frame."""
    frame = pd.DataFrame(list(rows), columns=list(LOG_COLUMNS))
    frame["created_at"] = pd.to_datetime(frame["created_at"]).astype("datetime64[s]")
    for name in ("version_key", "influencer_id", "company_id"):
        frame[name] = frame[name].astype(np.int64)
    for name in ("score", "interval_low", "interval_high", "interval_level"):
        frame[name] = frame[name].astype(float)
    return frame


def realised_frame(realised: Realised) -> pd.DataFrame:
    """Return realised labels as a frame sorted by when they became known."""
    frame = pd.DataFrame(
        {
            "collaboration_id": realised.collaboration,
            "influencer_id": realised.influencer,
            "company_id": realised.company,
            "known_at": realised.known_at.astype("datetime64[s]"),
            "label": realised.label,
            "rating": realised.rating,
        }
    )
    return frame.sort_values("known_at", kind="stable").reset_index(drop=True)


def join(realised: Realised, logs: pd.DataFrame) -> pd.DataFrame:
    """Return one row per (version, collaboration) with the prediction made before its label.

    Columns: the realised frame's, then version_key, score, interval bounds and
    level, created_at (the prediction's time, strictly before known_at).
    """
    labels = realised_frame(realised)
    parts = []
    for key, group in logs.groupby("version_key", sort=True):
        merged = pd.merge_asof(
            labels,
            group.drop(columns="version_key").sort_values("created_at"),
            left_on="known_at",
            right_on="created_at",
            by=["influencer_id", "company_id"],
            direction="backward",
            allow_exact_matches=False,
        )
        merged = merged[merged["created_at"].notna()].copy()
        merged["version_key"] = int(key)
        parts.append(merged)
    if not parts:
        columns = [*labels.columns, *LOG_COLUMNS[3:], "version_key"]
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)

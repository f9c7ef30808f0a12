"""Helpers for monitoring tests: serve real predictions, then date them back in time."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from flask import current_app
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.learning.training_data import success_labels
from webapp.models import Collaboration, PredictionLog
from webapp.serving import predict_pairs


def labelled_collaborations(
    count: int,
) -> list[tuple[Collaboration, np.datetime64, int]]:
    """Return the latest ``count`` labelled collaborations with label time and label."""
    rows, y, known = success_labels(int(current_app.config["SUCCESS_MIN_RATING"]))
    order = np.argsort(known)[::-1][:count]
    found = []
    for i in order:
        collaboration = db.session.get(Collaboration, rows[i].id)
        found.append((collaboration, known[i], int(y[i])))
    return found


def serve_before(items, hours_before: float = 24.0) -> list[int]:
    """Serve each collaboration's pair now, then date its log row before the label.

    Returns the ids of the log rows written. A negative ``hours_before`` dates
    the prediction after its label became known (it must not count).
    """
    ids = []
    for collaboration, known, _ in items:
        predict_pairs([(collaboration.influencer, collaboration.company)])
        log_id = db.session.scalar(
            select(PredictionLog.id).order_by(PredictionLog.id.desc())
        )
        served_at = known.astype("datetime64[s]").item() - timedelta(hours=hours_before)
        db.session.execute(
            update(PredictionLog)
            .where(PredictionLog.id == log_id)
            .values(created_at=served_at)
        )
        ids.append(log_id)
    db.session.commit()
    return ids

"""The ``risk`` target: did a finished collaboration fail, and what was known before it.

Rows are finished collaborations (completed or cancelled) in proposal order with
the point-in-time pair features and profile checks (feature set
``pair_checks``). A collaboration failed (y = 1) when it was cancelled, when
its brand's rating says it was disputed, or when the brand rated it at or
below RISK_FAILURE_MAX_RATING; it went well (y = 0) when the brand rated it
above that and did not dispute it. Completed collaborations nobody rated are
kept as unlabelled rows (``labelled`` False): the anomaly model may use them,
no metric does. A label became known when the collaboration was cancelled or
when its brand rating last changed, never earlier. Collaborations of opted-out
members are left out (``consent``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.learning import feature_sets, loaders
from webapp.learning.consent import excluded_collaborations
from webapp.learning.training_data import pair_features_at_proposal
from webapp.models import Collaboration, Outcome
from webapp.registry.contract import TrainingData, TrainingFailed

FEATURE_SET = "pair_checks"


def failed(status: str, rating: int | None, completion: str | None, max_rating: int):
    """Return 1 (failed), 0 (went well) or None (unknown) for one collaboration."""
    if status == "cancelled" or completion == "disputed":
        return 1
    if rating is None:
        return None
    return 1 if rating <= max_rating else 0


def risk_data(config: Mapping[str, Any]) -> TrainingData:
    """Label finished collaborations as failed (1) or not (0), unrated ones unlabelled."""
    max_rating = int(config["RISK_FAILURE_MAX_RATING"])
    rows, labels, known = risk_labels(max_rating)
    if not rows:
        raise TrainingFailed("There are no finished collaborations to learn from yet.")
    labelled = np.array([label is not None for label in labels], dtype=bool)
    if not labelled.any():
        raise TrainingFailed("No finished collaboration is rated or cancelled yet.")
    X = pair_features_at_proposal(rows, int(config["SUCCESS_MIN_RATING"]))
    X = feature_sets.extend(
        FEATURE_SET,
        X,
        np.array([r.influencer_id for r in rows], dtype=np.int64),
        loaders.days(r.proposed_on for r in rows),
    )
    return TrainingData(
        X=X,
        y=np.array([label or 0 for label in labels], dtype=np.int64),
        feature_names=feature_sets.names(FEATURE_SET),
        times=np.array([r.proposed_on for r in rows], dtype="datetime64[D]"),
        target="risk",
        label_times=known,
        row_ids=np.array([r.id for r in rows], dtype=np.int64),
        labelled=labelled,
        meta={
            "label": "cancelled, disputed, or brand rating <= "
            f"{max_rating} (latest revision)",
            "unlabelled": int((~labelled).sum()),
        },
    )


def risk_labels(max_rating: int) -> tuple[list, list, np.ndarray]:
    """Return (rows, failed 1/0/None, label known at) of finished collaborations.

    Rows in proposal order (id, influencer_id, company_id, proposed_on, budget,
    status, cancelled_at, match_snapshot, the brand's success_rating and
    completion_status, rated_at); training and live monitoring both read them here.
    """
    brand = aliased(Outcome)
    rows = db.session.execute(
        select(
            Collaboration.id,
            Collaboration.influencer_id,
            Collaboration.company_id,
            Collaboration.proposed_on,
            Collaboration.budget,
            Collaboration.status,
            Collaboration.cancelled_at,
            Collaboration.match_snapshot,
            brand.success_rating,
            brand.completion_status,
            loaders.rating_known_at(brand).label("rated_at"),
        )
        .outerjoin(
            brand,
            and_(
                brand.collaboration_id == Collaboration.id,
                brand.rater_side == "company",
            ),
        )
        .where(
            Collaboration.status.in_(("completed", "cancelled")),
            Collaboration.id.not_in(excluded_collaborations()),
        )
        .order_by(Collaboration.proposed_on, Collaboration.id)
    ).all()
    labels = [
        failed(r.status, r.success_rating, r.completion_status, max_rating)
        for r in rows
    ]
    known = np.array(
        [_known_at(r, label) for r, label in zip(rows, labels, strict=True)],
        dtype="datetime64[s]",
    )
    return rows, labels, known


def _known_at(row, label) -> Any:
    """Return when the row's label became known (NaT when nobody knows it)."""
    if label is None:
        return np.datetime64("NaT")
    if row.status == "cancelled" and row.cancelled_at is not None:
        return loaders.naive_datetime(row.cancelled_at)
    if row.rated_at is not None:
        return loaders.naive_datetime(row.rated_at)
    return np.datetime64("NaT")

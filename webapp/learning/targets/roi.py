"""The ``roi`` target: the ROI the brand reported for a finished collaboration.

Rows are finished collaborations whose brand-side rating states ``roi_achieved``,
in proposal order, with the same point-in-time pair features as ``success``
(``training_data.pair_features_at_proposal``). A row's label became known when
its brand rating last changed (its latest revision), never earlier, so
time-ordered validation trains only on ROIs known before each window.
Collaborations of opted-out members are left out (``consent``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.learning import features, loaders
from webapp.learning.consent import excluded_collaborations
from webapp.learning.training_data import pair_features_at_proposal
from webapp.models import Collaboration, Outcome
from webapp.registry.contract import TrainingData, TrainingFailed


def roi_data(config: Mapping[str, Any]) -> TrainingData:
    """Label finished collaborations with the ROI their brand reported (0.25 = +25 %)."""
    rows, known = roi_labels()
    if not rows:
        raise TrainingFailed(
            "No finished collaboration has a brand rating with a reported ROI yet."
        )
    return TrainingData(
        X=pair_features_at_proposal(rows, int(config["SUCCESS_MIN_RATING"])),
        y=np.array([r.roi_achieved for r in rows], dtype=float),
        feature_names=list(features.FEATURE_NAMES),
        times=np.array([r.proposed_on for r in rows], dtype="datetime64[D]"),
        target="roi",
        label_times=known,
        row_ids=np.array([r.id for r in rows], dtype=np.int64),
        meta={"label": "roi_achieved of the brand's rating (latest revision)"},
    )


def roi_labels() -> tuple[list, np.ndarray]:
    """Return (rows, label known at) of finished collaborations with a brand-reported ROI.

    Rows in proposal order (id, influencer_id, company_id, proposed_on, budget,
    match_snapshot, roi_achieved); training and live monitoring both read them here.
    """
    brand = aliased(Outcome)
    rows = db.session.execute(
        select(
            Collaboration.id,
            Collaboration.influencer_id,
            Collaboration.company_id,
            Collaboration.proposed_on,
            Collaboration.budget,
            Collaboration.match_snapshot,
            brand.roi_achieved,
            loaders.rating_known_at(brand).label("known_at"),
        )
        .join(
            brand,
            and_(
                brand.collaboration_id == Collaboration.id,
                brand.rater_side == "company",
            ),
        )
        .where(
            Collaboration.status.in_(("completed", "cancelled")),
            brand.roi_achieved.is_not(None),
            Collaboration.id.not_in(excluded_collaborations()),
        )
        .order_by(Collaboration.proposed_on, Collaboration.id)
    ).all()
    known = [loaders.naive_datetime(r.known_at) for r in rows]
    return rows, np.array(known, dtype="datetime64[s]")

"""Turn the marketplace's history into ``TrainingData`` for a model type's target.

Rows are collaborations in time order. Features come from the snapshot stored
when the collaboration was proposed through Matchloop, or are recomputed point
in time (see ``webapp.learning.features``). Collaborations of users who opted out of
training, and outcomes they rated, are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from webapp.extensions import db
from webapp.learning import features, loaders, targets
from webapp.learning.consent import excluded_collaborations
from webapp.learning.history import HistoryIndex
from webapp.learning.labels import success_label
from webapp.models import Collaboration, Outcome
from webapp.registry.contract import TrainingData, TrainingFailed

Builder = Callable[[Mapping[str, Any]], TrainingData]


def success_data(config: Mapping[str, Any]) -> TrainingData:
    """Label finished collaborations: 1 when the brand rated >= SUCCESS_MIN_RATING and it completed.

    Rows: finished collaborations with a brand-side rating, plus cancellations
    (failures whether or not anyone rated them).
    """
    min_rating = int(config["SUCCESS_MIN_RATING"])
    brand = aliased(Outcome)
    rows = db.session.execute(
        select(
            Collaboration.id,
            Collaboration.influencer_id,
            Collaboration.company_id,
            Collaboration.proposed_on,
            Collaboration.completed_on,
            Collaboration.budget,
            Collaboration.status,
            Collaboration.match_snapshot,
            brand.success_rating,
            brand.completion_status,
            brand.rated_at,
            success_label(min_rating, brand).label("success"),
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
            or_(brand.id.is_not(None), Collaboration.status == "cancelled"),
            Collaboration.id.not_in(excluded_collaborations()),
        )
        .order_by(Collaboration.proposed_on, Collaboration.id)
    ).all()
    if not rows:
        raise TrainingFailed(
            "There are no rated, finished collaborations to learn from yet."
        )
    y = np.array([r.success for r in rows], dtype=np.int64)
    # When the label became known: the brand's rating, or the end of a cancellation.
    label_times = np.array(
        [r.rated_at or (r.completed_on or r.proposed_on) for r in rows],
        dtype="datetime64[s]",
    )
    X = pair_features_at_proposal(rows, min_rating)
    return TrainingData(
        X=X,
        y=y,
        feature_names=list(features.FEATURE_NAMES),
        times=np.array([r.proposed_on for r in rows], dtype="datetime64[D]"),
        target="success",
        label_times=label_times,
        row_ids=np.array([r.id for r in rows], dtype=np.int64),
        meta={
            "label": f"brand rating >= {min_rating} and completed",
            "snapshots_used": int(
                sum(
                    1
                    for r in rows
                    if features.from_snapshot(
                        (r.match_snapshot or {}).get("features", {})
                    )
                    is not None
                )
            ),
        },
    )


def pair_features_at_proposal(rows, min_rating: int) -> np.ndarray:
    """Return feature rows as of each collaboration's proposal day.

    Stored snapshots win; the rest are recomputed from point-in-time profiles and
    history. Collaborations without a stored snapshot are computed in one batch.
    """
    X = np.zeros((len(rows), len(features.FEATURE_NAMES)))
    missing = []
    for i, r in enumerate(rows):
        stored = features.from_snapshot((r.match_snapshot or {}).get("features", {}))
        if stored is None:
            missing.append(i)
        else:
            X[i] = stored
    if missing:
        sub = [rows[i] for i in missing]
        inf_ids = np.array([r.influencer_id for r in sub], dtype=np.int64)
        co_ids = np.array([r.company_id for r in sub], dtype=np.int64)
        day = loaders.days(r.proposed_on for r in sub)
        inf = features.encode_influencers(
            loaders.profiles_as_of("influencer", inf_ids, day)
        )
        co = features.encode_companies(loaders.profiles_as_of("company", co_ids, day))
        history = HistoryIndex(loaders.load_events(min_rating)).stats(
            inf_ids, co_ids, day
        )
        budget = np.array([r.budget for r in sub], dtype=float)
        X[missing] = features.pair_matrix(inf, co, history, day.astype(float), budget)
    return X


BUILDERS: dict[str, Builder] = {"success": success_data}


def build(target: str, config: Mapping[str, Any]) -> TrainingData:
    """Return the training data for ``target``: core's own, else a declared builder.

    Targets other than core's (``roi``, a third party's) are found through the
    entry-point group ``matchloop.targets`` (``webapp.learning.targets``).
    """
    builder = BUILDERS.get(target)
    if builder is None:
        return targets.build(target, config)
    return builder(config)

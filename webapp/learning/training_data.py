"""Turn the marketplace's history into ``TrainingData`` for a model type's target.

Rows are collaborations in time order. Profile and terms features come from the
snapshot stored when the collaboration was proposed through Matchloop, or are
recomputed point in time (see ``webapp.learning.features``); history features
are always recomputed point in time. Labels and their times follow
``webapp.learning.labels``. Collaborations of users who opted out of training,
and outcomes they rated, are left out of the rows and of every row's history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sqlalchemy import select

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning import features, labels, loaders, targets
from webapp.learning.consent import excluded_collaborations
from webapp.learning.history import HistoryIndex
from webapp.models import Collaboration
from webapp.registry.contract import SeriesData, TrainingData, TrainingFailed


def success_data(config: Mapping[str, Any]) -> TrainingData:
    """Label finished collaborations: 1 when the brand rated >= SUCCESS_MIN_RATING and it completed.

    Rows: finished collaborations with a brand-side rating, plus cancellations
    (failures whether or not anyone rated them). The label and its time follow
    ``webapp.learning.labels``: the latest rating revision gives the label, known
    from the revision that first gave it; a cancellation from ``cancelled_at``.
    """
    min_rating = int(config["SUCCESS_MIN_RATING"])
    rows, y, label_times = success_labels(min_rating)
    if not rows:
        raise TrainingFailed(
            "There are no rated, finished collaborations to learn from yet."
        )
    X, approximated = pair_features_and_approximations(rows, min_rating)
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
            # Rows whose influencer or company profile was first recorded after the
            # proposal (no dated history): features describe the later profile.
            "profiles_approximated": approximated,
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


def success_labels(min_rating: int) -> tuple[list, np.ndarray, np.ndarray]:
    """Return (rows, success label, label known at) of labelled finished collaborations.

    Rows are finished collaborations with a brand-side rating, plus
    cancellations, in proposal order (id, influencer_id, company_id,
    proposed_on, budget, status, cancelled_at, match_snapshot). The label and
    its time follow ``webapp.learning.labels``; training and live monitoring
    both read them here.
    """
    finished = select(Collaboration.id).where(
        Collaboration.status.in_(("completed", "cancelled")),
        Collaboration.id.not_in(excluded_collaborations()),
    )
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
        )
        .where(Collaboration.id.in_(finished))
        .order_by(Collaboration.proposed_on, Collaboration.id)
    ).all()
    rated_ids, rated_label, rated_since = labels.latest_labels(
        *loaders.brand_label_revisions(min_rating, finished)
    )
    rated, at = loaders.find_sorted(
        rated_ids, np.array([r.id for r in rows], dtype=np.int64)
    )
    cancelled = np.array([r.status == "cancelled" for r in rows], dtype=bool)
    keep = rated | cancelled
    rows = [r for r, k in zip(rows, keep.tolist(), strict=True) if k]
    rated, at, cancelled = rated[keep], at[keep], cancelled[keep]
    y = np.zeros(len(rows), dtype=np.int64)
    y[rated] = rated_label[at[rated]]
    since = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[s]")
    since[rated] = rated_since[at[rated]]
    label_times = labels.label_times(
        cancelled,
        [r.cancelled_at for r in rows],
        since,
        np.datetime64(utcnow(), "s"),
    )
    return rows, y, label_times


def pair_features_at_proposal(rows, min_rating: int) -> np.ndarray:
    """Return feature rows as of each collaboration's proposal day."""
    return pair_features_and_approximations(rows, min_rating)[0]


def pair_features_and_approximations(rows, min_rating: int) -> tuple[np.ndarray, int]:
    """Return feature rows as of each collaboration's proposal day, and the approximated count.

    Stored snapshots give the profile and terms features as they stood at
    proposal; the rest are recomputed from point-in-time profiles. History
    features are always recomputed point in time for every row, so data of
    members who opted out since and rating edits made since never reach them.
    The count is of recomputed rows for which either party had no profile
    revision before the proposal day (``loaders.profiles_as_of``).
    """
    X = np.zeros((len(rows), len(features.FEATURE_NAMES)))
    missing = []
    for i, r in enumerate(rows):
        stored = features.from_snapshot((r.match_snapshot or {}).get("features", {}))
        if stored is None:
            missing.append(i)
        else:
            X[i] = stored
    inf_ids = np.array([r.influencer_id for r in rows], dtype=np.int64)
    co_ids = np.array([r.company_id for r in rows], dtype=np.int64)
    day = loaders.days(r.proposed_on for r in rows)
    # Every row's profiles as of its day: the niche pair of its track record, and
    # the profile features of rows without a snapshot.
    inf_profiles, inf_later = loaders.profiles_as_of("influencer", inf_ids, day)
    co_profiles, co_later = loaders.profiles_as_of("company", co_ids, day)
    inf = features.encode_influencers(inf_profiles)
    co = features.encode_companies(co_profiles)
    history = HistoryIndex(loaders.load_events(min_rating)).stats(
        inf_ids, co_ids, day, features.niche_pairs(inf, co)
    )
    approximated = 0
    if missing:
        sub = np.array(missing, dtype=np.int64)
        approximated = int(np.count_nonzero(inf_later[sub] | co_later[sub]))
        budget = np.array([rows[i].budget for i in missing], dtype=float)
        X[sub] = features.pair_matrix(
            inf.take(sub),
            co.take(sub),
            history.take(sub),
            day[sub].astype(float),
            budget,
        )
    for name, values in features.history_columns(history).items():
        X[:, features.FEATURE_NAMES.index(name)] = values
    return X, approximated


def build(target: str, config: Mapping[str, Any]) -> TrainingData | SeriesData:
    """Return the training data for ``target`` from its declared builder.

    Builders are found through the entry-point group ``matchloop.targets``
    (``webapp.learning.targets``), ``success`` among them.
    """
    return targets.build(target, config)

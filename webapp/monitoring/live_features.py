"""Live input values: features of logged predictions, rebuilt as of the moment they were served.

The log keeps who was scored and when, not the feature row (logging 25+
floats per ranked candidate would multiply the log's size on the hottest
path). The rows are rebuilt with serving's own code (``features.pair_matrix``
on profiles and history as of the prediction's day, the default budget,
``feature_sets.extend``) for the most recent MONITORING_DRIFT_SAMPLE distinct
(pair, day) of a version: one history load per dashboard computation, cached.
One approximation, said on the page: a budget given in the request is not
logged, so the budget features use the default budget serving assumes when
none is given. Series types' live values are the niche-activity rows imported
after the version's training run (``series_values``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select

from webapp.extensions import db
from webapp.learning import feature_sets, features, loaders
from webapp.learning.history import HistoryIndex
from webapp.models import ModelVersion, NicheActivity


def recent_pairs(logs: pd.DataFrame, version_key: int, limit: int) -> pd.DataFrame:
    """Return the latest ``limit`` distinct (influencer, company, day) a version scored."""
    mine = logs[logs["version_key"] == version_key]
    if mine.empty:
        return mine.assign(day=pd.Series(dtype="datetime64[s]"))
    mine = mine.assign(day=mine["created_at"].dt.floor("D"))
    mine = mine.drop_duplicates(["influencer_id", "company_id", "day"], keep="last")
    return mine.tail(limit)


def rows_by_version(
    logs: pd.DataFrame,
    version_keys: list[int],
    limit: int,
    feature_set: str,
    min_rating: int,
) -> dict[int, dict[str, np.ndarray]]:
    """Return each version's rebuilt feature columns (``recent_pairs``), rebuilt at once.

    The history and profiles are loaded once for all versions together: the
    costly part of a rebuild is loading them, not the rows asked for.
    """
    samples = {key: recent_pairs(logs, key, limit) for key in version_keys}
    taken = [sample.assign(version_key=key) for key, sample in samples.items()]
    taken = [sample for sample in taken if not sample.empty]
    if not taken:
        return {
            key: pair_rows(sample, feature_set, min_rating)
            for key, sample in samples.items()
        }
    together = pd.concat(taken, ignore_index=True)
    unique = together.drop_duplicates(["influencer_id", "company_id", "day"])
    unique = unique.reset_index(drop=True)
    columns = pair_rows(unique, feature_set, min_rating)
    position = together.merge(
        unique[["influencer_id", "company_id", "day"]].reset_index(names="row"),
        on=["influencer_id", "company_id", "day"],
        how="left",
    )
    found = {}
    for key in version_keys:
        rows = position.loc[position["version_key"] == key, "row"].to_numpy(np.int64)
        found[key] = {name: values[rows] for name, values in columns.items()}
    return found


def pair_rows(
    pairs: pd.DataFrame, feature_set: str, min_rating: int
) -> dict[str, np.ndarray]:
    """Return the feature columns of ``pairs`` as of each one's day, by feature name."""
    names = feature_sets.names(feature_set)
    if pairs.empty:
        return {name: np.zeros(0) for name in names}
    inf_ids = pairs["influencer_id"].to_numpy(np.int64)
    co_ids = pairs["company_id"].to_numpy(np.int64)
    day = loaders.days(pairs["day"].dt.date)
    inf_profiles, _ = loaders.profiles_as_of("influencer", inf_ids, day)
    co_profiles, _ = loaders.profiles_as_of("company", co_ids, day)
    inf = features.encode_influencers(inf_profiles)
    co = features.encode_companies(co_profiles)
    history = HistoryIndex(loaders.load_events(min_rating)).stats(
        inf_ids, co_ids, day, features.niche_pairs(inf, co)
    )
    budget = features.default_budget(inf.rate, co.budget)
    X = features.pair_matrix(inf, co, history, day.astype(float), budget)
    X = feature_sets.extend(feature_set, X, inf_ids, day)
    return {name: X[:, j] for j, name in enumerate(names)}


def series_values(version: ModelVersion) -> dict[str, np.ndarray]:
    """Return the activity values imported after ``version``'s training run started."""
    watermark = version.run.activity_watermark if version.run is not None else None
    if watermark is None:
        return {"value": np.zeros(0)}
    values = db.session.scalars(
        select(NicheActivity.value).where(NicheActivity.id > watermark)
    ).all()
    return {"value": np.array(values, dtype=float)}

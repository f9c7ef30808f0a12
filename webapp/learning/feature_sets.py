"""Feature sets: which columns a pair type's rows hold, by the name it declares.

``pair`` is the pair features (``features.FEATURE_NAMES``); ``pair_checks`` adds
the profile checks (``profile_checks.CHECK_NAMES``) after them. Training and
serving both build a set's rows here, so the columns a model was fitted on are
the columns it is served.
"""

from __future__ import annotations

import numpy as np

from webapp.learning import features, profile_checks

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "pair": features.FEATURE_NAMES,
    "pair_checks": features.FEATURE_NAMES + profile_checks.CHECK_NAMES,
}


def names(feature_set: str) -> list[str]:
    """Return the column names of ``feature_set``; KeyError names the known sets."""
    try:
        return list(FEATURE_SETS[feature_set])
    except KeyError:
        raise KeyError(
            f"unknown feature set {feature_set!r}; known: {sorted(FEATURE_SETS)}"
        ) from None


def extend(
    feature_set: str, pair_rows: np.ndarray, influencer_ids: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Return ``pair_rows`` (pair features) with the set's extra columns appended.

    :param day: the moment of each row as ``features.day_number``.
    """
    names(feature_set)
    if feature_set == "pair":
        return pair_rows
    checks = profile_checks.check_columns(influencer_ids, day)
    return np.hstack([pair_rows, checks])

"""Profile checks: signs that a creator's profile may not be what it seems, point in time.

Pair features describe one profile as it stood; some warning signs live between
profiles. ``follower_growth`` is the log ratio of the followers in the profile
revision valid before a moment to those of the revision before it: a large
jump (bought followers) shows up here and nowhere else. Only revisions that
started strictly before the moment count, as for every other feature, so a
row never sees a later edit. Without two such revisions the growth is 0. The
rule itself is ``profile_signals.ProfileRevisions.follower_growth``, which the
pair feature ``follower_growth`` uses too.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from webapp.extensions import db
from webapp.learning.loaders import seconds, stated_number
from webapp.learning.profile_signals import ProfileRevisions
from webapp.models import ProfileRevision

CHECK_NAMES: tuple[str, ...] = ("log_follower_growth",)

CHECK_LABELS: dict[str, str] = {
    "log_follower_growth": "Follower growth since the previous profile",
}


def follower_growth(influencer_ids: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Return log(followers now / followers one revision earlier) per query, as of ``day``.

    :param influencer_ids: influencer row ids, one per query.
    :param day: the moment of each query as ``features.day_number``; revisions
        that started on that day or later are not seen.
    """
    influencer_ids = np.asarray(influencer_ids, dtype=np.int64)
    growth = np.zeros(len(influencer_ids))
    if len(influencer_ids) == 0:
        return growth
    revisions = db.session.execute(
        select(
            ProfileRevision.entity_id,
            ProfileRevision.valid_from,
            ProfileRevision.attributes,
        )
        .where(
            ProfileRevision.kind == "influencer",
            ProfileRevision.entity_id.in_(np.unique(influencer_ids).tolist()),
        )
        .order_by(
            ProfileRevision.entity_id, ProfileRevision.valid_from, ProfileRevision.id
        )
    ).all()
    signals = ProfileRevisions.sorted(
        [r[0] for r in revisions],
        seconds(r[1] for r in revisions),
        [stated_number((r[2] or {}).get("followers")) for r in revisions],
        np.full(len(revisions), np.nan),
    )
    return signals.follower_growth(influencer_ids, day)


def check_columns(influencer_ids: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Return the (n, len(CHECK_NAMES)) profile-check matrix, as of each ``day``."""
    return follower_growth(influencer_ids, day)[:, None]

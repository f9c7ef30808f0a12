"""What really happened to collaborations, per training target, and when it became known.

The rules are the learning stage's: the success label and its time
(``training_data.success_labels``), the risk target's failure rule
(``targets.risk.risk_labels``) and the ROI the brand reported
(``targets.roi.roi_labels``). Rows whose label has no known time are left out:
nothing can be compared with them point in time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from webapp.extensions import db
from webapp.learning.targets.risk import risk_labels
from webapp.learning.targets.roi import roi_labels
from webapp.learning.training_data import success_labels
from webapp.models import Outcome

# How each pair target's realised figures are computed (webapp.monitoring.quality).
TARGET_KINDS = {"success": "binary", "risk": "risk", "roi": "value"}


@dataclass
class Realised:
    """Realised labels of finished collaborations, aligned arrays."""

    collaboration: np.ndarray
    influencer: np.ndarray
    company: np.ndarray
    known_at: np.ndarray  # datetime64[s]
    label: np.ndarray  # float: 1/0 (success, failed) or the reported ROI
    rating: np.ndarray  # the brand's rating, NaN when none

    def __len__(self) -> int:
        return len(self.collaboration)


def brand_ratings(collaboration_ids: list[int]) -> dict[int, int]:
    """Return the brand's current success rating of each rated collaboration."""
    if not collaboration_ids:
        return {}
    rows = db.session.execute(
        select(Outcome.collaboration_id, Outcome.success_rating).where(
            Outcome.rater_side == "company"
        )
    ).all()
    wanted = set(collaboration_ids)
    return {c: r for c, r in rows if c in wanted}


def _realised(rows, label, known) -> Realised:
    """Return the rows as Realised, dropping those whose label or time is unknown."""
    label = np.array([np.nan if v is None else float(v) for v in label], dtype=float)
    known = np.asarray(known, dtype="datetime64[s]")
    keep = np.isfinite(label) & ~np.isnat(known)
    ids = [r.id for r in rows]
    ratings = brand_ratings(ids)
    result = Realised(
        collaboration=np.array(ids, dtype=np.int64),
        influencer=np.array([r.influencer_id for r in rows], dtype=np.int64),
        company=np.array([r.company_id for r in rows], dtype=np.int64),
        known_at=known,
        label=label,
        rating=np.array([ratings.get(i, np.nan) for i in ids], dtype=float),
    )
    return Realised(**{k: v[keep] for k, v in vars(result).items()})


def realised(target: str, config: Mapping[str, Any]) -> Realised | None:
    """Return the realised labels of ``target``, None when it is not a pair target here."""
    if target == "success":
        rows, y, known = success_labels(int(config["SUCCESS_MIN_RATING"]))
        return _realised(rows, y, known)
    if target == "risk":
        rows, failed, known = risk_labels(int(config["RISK_FAILURE_MAX_RATING"]))
        return _realised(rows, failed, known)
    if target == "roi":
        rows, known = roi_labels()
        return _realised(rows, [r.roi_achieved for r in rows], known)
    return None

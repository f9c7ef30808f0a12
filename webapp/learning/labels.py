"""The success label and when it became known, one rule each, read by training and history.

A collaboration succeeded when it completed, and the brand rated it at least
SUCCESS_MIN_RATING and said it completed. Cancellations and everything else
are failures.

A brand may edit its rating; every save is an ``OutcomeRevision`` with its own
time. The label of a collaboration is the one its latest revision gives, known
from the revision that first gave that value (an edit that keeps the label
leaves its time alone; one that flips it makes a new label from the edit on).
A cancellation is a failure from the moment it was cancelled, rated or not.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import and_, case

from webapp.models import Collaboration, Outcome


def success_label(min_rating: int, outcome=Outcome):
    """Return SQL that is 1 when ``outcome`` (a brand-side rating) marks a success, else 0.

    :param outcome: the Outcome or OutcomeRevision entity (or an alias) joined
        to Collaboration.
    """
    return case(
        (
            and_(
                outcome.success_rating >= min_rating,
                outcome.completion_status == "completed",
                Collaboration.status == "completed",
            ),
            1,
        ),
        else_=0,
    )


def latest_labels(
    collaboration: np.ndarray, second: np.ndarray, success: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (collaboration ids, label, known since) from brand rating revisions.

    :param collaboration: per revision, sorted by collaboration then revision order.
    :param second: when each revision was recorded (datetime64 or seconds).
    :param success: the label each revision gives.
    :returns: one entry per collaboration (ascending ids): the latest revision's
        label and the time of the first revision of the final run of equal labels.
    """
    n = len(collaboration)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=bool), empty
    new_collaboration = np.ones(n, dtype=bool)
    new_collaboration[1:] = collaboration[1:] != collaboration[:-1]
    run_start = new_collaboration.copy()
    run_start[1:] |= success[1:] != success[:-1]
    start_index = np.maximum.accumulate(np.where(run_start, np.arange(n), 0))
    last = np.ones(n, dtype=bool)
    last[:-1] = new_collaboration[1:]
    return collaboration[last], success[last], second[start_index[last]]


def label_times(
    cancelled: np.ndarray,
    cancelled_at: list[datetime | None],
    rated_since: np.ndarray,
    now: np.datetime64,
) -> np.ndarray:
    """Return when each row's label became known (datetime64[s]).

    A rated row: since when its brand's rating gave the label (``latest_labels``).
    A cancellation is a failure from the first sign of it: its ``cancelled_at``,
    or the brand's rating of it if that came first (an import learns of old
    cancellations late). One with neither counts as known only ``now``.

    :param rated_since: datetime64[s] per row, NaT when the brand never rated it.
    """
    stamps = np.array(cancelled_at, dtype="datetime64[s]")
    rated_since = rated_since.astype("datetime64[s]")
    latest = np.datetime64("9999-12-31T00:00:00", "s")
    first_sign = np.minimum(
        np.where(np.isnat(stamps), latest, stamps),
        np.where(np.isnat(rated_since), latest, rated_since),
    )
    at_cancel = np.where(first_sign == latest, np.datetime64(now, "s"), first_sign)
    return np.where(cancelled, at_cancel, rated_since).astype("datetime64[s]")

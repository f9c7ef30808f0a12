"""Each demo collaboration's status history, dated between its proposal and its end.

A completed collaboration was proposed, accepted, started and completed; a
cancelled one was accepted and sometimes started before it was cancelled (the
demo has no declined proposals: its brands rate their cancellations, which
only happens for collaborations that ran). A running one took the steps up to
its status. The proposal is dated at midnight of its day, the end at midnight
of the end day (ratings come after it), and the steps in between fall at
random moments between the two; for running ones the span ends now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from webapp.marketplace.demo.collaborations import Pairs
from webapp.marketplace.demo.outcomes import Results

CANCELLED_WHILE_ACTIVE = 0.6  # the rest were cancelled after acceptance, before start
CANCEL_REASONS = (
    "The brand changed its campaign plans.",
    "We could not agree on the brief.",
    "Deadlines slipped on both sides.",
    "The creator had no time after all.",
    "The budget was cut.",
)
# The steps of each path, as (action, from status, status).
PATHS: dict[str, tuple[tuple[str, str | None, str], ...]] = {
    "proposed": (("propose", None, "proposed"),),
    "accepted": (("propose", None, "proposed"), ("accept", "proposed", "accepted")),
    "active": (
        ("propose", None, "proposed"),
        ("accept", "proposed", "accepted"),
        ("start", "accepted", "active"),
    ),
    "completed": (
        ("propose", None, "proposed"),
        ("accept", "proposed", "accepted"),
        ("start", "accepted", "active"),
        ("complete", "active", "completed"),
    ),
    "cancelled_active": (
        ("propose", None, "proposed"),
        ("accept", "proposed", "accepted"),
        ("start", "accepted", "active"),
        ("cancel", "active", "cancelled"),
    ),
    "cancelled_accepted": (
        ("propose", None, "proposed"),
        ("accept", "proposed", "accepted"),
        ("cancel", "accepted", "cancelled"),
    ),
}


@dataclass
class History:
    """Per collaboration: its path through the statuses and the time of each step."""

    path: list[str]  # a key of PATHS
    times: np.ndarray  # datetime64[s], shape (n, 4); unused steps are NaT
    cancelled_at: np.ndarray  # datetime64[s], NaT unless cancelled
    cancel_reason: list[str | None]


def status_history(
    rng: np.random.Generator, pairs: Pairs, results: Results, now: datetime
) -> History:
    """Draw when each collaboration took each step of its path."""
    n = len(pairs.proposed)
    status = results.status
    while_active = rng.random(n) < CANCELLED_WHILE_ACTIVE
    path = np.where(
        status == "cancelled",
        np.where(while_active, "cancelled_active", "cancelled_accepted"),
        status,
    ).tolist()
    start = pairs.proposed.astype("datetime64[s]")
    end = np.where(
        np.isnat(results.ended_on),
        np.datetime64(now, "s"),
        results.ended_on.astype("datetime64[s]"),
    )
    span = (end - start).astype(np.int64)
    # Acceptance in the first 40 % of the span, the start within half of the rest.
    accepted = start + (span * rng.uniform(0.02, 0.4, n)).astype("timedelta64[s]")
    rest = (end - accepted).astype(np.int64)
    started = accepted + (rest * rng.uniform(0.05, 0.5, n)).astype("timedelta64[s]")
    times = np.full((n, 4), np.datetime64("NaT"), dtype="datetime64[s]")
    lengths = np.array([len(PATHS[p]) for p in path])
    times[:, 0] = start
    times[lengths >= 2, 1] = accepted[lengths >= 2]
    # The third step is the start, except for a cancellation before it.
    third = np.where(np.asarray(path) == "cancelled_accepted", end, started)
    times[lengths >= 3, 2] = third[lengths >= 3]
    times[lengths == 4, 3] = end[lengths == 4]
    cancelled = status == "cancelled"
    reasons = rng.integers(0, len(CANCEL_REASONS), n).tolist()
    return History(
        path=path,
        times=times,
        cancelled_at=np.where(cancelled, end, np.datetime64("NaT")).astype(
            "datetime64[s]"
        ),
        cancel_reason=[
            CANCEL_REASONS[r] if c else None
            for r, c in zip(reasons, cancelled.tolist(), strict=True)
        ],
    )


def status_change_rows(history: History, collaboration_ids: list[int]) -> list[dict]:
    """Return one StatusChange insert row per step (no actor: nobody signed in)."""
    rows = []
    times = history.times.tolist()  # datetime objects (None for NaT)
    for k, (path, cid) in enumerate(zip(history.path, collaboration_ids, strict=True)):
        for step, (action, before, after) in enumerate(PATHS[path]):
            rows.append(
                {
                    "collaboration_id": cid,
                    "from_status": before,
                    "status": after,
                    "action": action,
                    "actor_id": None,
                    "note": history.cancel_reason[k] if action == "cancel" else None,
                    "created_at": times[k][step],
                }
            )
    return rows

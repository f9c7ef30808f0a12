"""What happened: statuses, end dates and both sides' ratings, sampled from the truth.

A finished collaboration succeeds with its hidden probability. A success is
completed and rated 4-5 by the brand with completion status ``completed`` (the
training label); a failure is either cancelled, or completed with a brand rating
of 1-3 and a completed, partially completed or disputed status. Unreliable
brands (hidden ``brand_reliability``) cancel and dispute more. The creator's
rating follows the brand's. Some finished collaborations stay unrated per side.

Ratings change after the fact, each change an OutcomeRevision at its own time:

- disputes: ``dispute_share`` of successes (more with unreliable brands) are
  first rated 2-3 as ``disputed``; the dispute is resolved 7-60 days later and
  the rating edited to the final one. A dispute not resolved by now stays as
  first rated (it reads as a failure, as it would in a real marketplace);
- edits: ``rating_edit_share`` of the other ratings, per side, were first one
  star off and corrected 1-30 days later (edits due after now never happened).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.special import expit

from webapp.core.taxonomy import SUCCESS_FACTORS
from webapp.marketplace.demo.collaborations import Pairs
from webapp.marketplace.demo.parameters import DEFAULT_PARAMETERS, WorldParameters
from webapp.marketplace.demo.truth import ROI_NOISE_SD, Truth

UNRATED_SHARE = 0.12  # per side, so demo users find collaborations left to rate
RATING_DELAY = np.timedelta64(14, "D")  # ratings arrive within two weeks of the end
DISPUTE_DAYS, EDIT_DAYS = (7, 60), (1, 30)  # how long a dispute or a correction takes
FACTOR_KEYS = tuple(SUCCESS_FACTORS)

FEEDBACK: dict[str, dict[int, tuple[str, ...]]] = {
    "company": {
        5: ("Great collaboration, we would do it again.", "Results beat our targets.",
            "Smooth from brief to delivery.", "The audience loved it."),
        4: ("Good results overall.", "Solid work, a few small delays.",
            "Worked well after some back and forth on the brief."),
        3: ("Okay, but below what we hoped.", "Mixed results.", "Fine, nothing special."),
        2: ("Deliverables came late.", "The audience barely responded.",
            "Communication was difficult."),
        1: ("Did not deliver what was agreed.", "The campaign fell apart."),
    },
    "influencer": {
        5: ("Fair pay and a clear brief.", "Lovely team to work with.",
            "My audience really liked the product."),
        4: ("Good experience overall.", "Nice brand, slow approvals."),
        3: ("It was fine.", "Too many revisions for the budget."),
        2: ("The brief kept changing.", "Payment was late."),
        1: ("Would not work with them again.", "They cancelled without notice."),
    },
}  # fmt: skip


@dataclass
class Ratings:
    """One side's outcome rows; ``collaboration`` indexes the collaborations."""

    side: str
    collaboration: np.ndarray
    rating: np.ndarray
    completion: np.ndarray
    roi: np.ndarray  # NaN where not reported (always on the creator side)
    again: np.ndarray
    factors: list[list[str]]
    feedback: list[str | None]
    rated_at: np.ndarray  # datetime64[s]
    # The first verdict and when it was replaced by the one above (NaT: never).
    first_rating: np.ndarray
    first_completion: np.ndarray
    edited_at: np.ndarray  # datetime64[s]


@dataclass
class Results:
    """Statuses and end dates of all collaborations, and the ratings of both sides."""

    status: np.ndarray
    completed_on: np.ndarray  # datetime64[D], NaT unless completed
    ended_on: np.ndarray  # datetime64[D], NaT unless completed or cancelled
    ratings: list[Ratings]


def days_between(rng: np.random.Generator, low: int, high: np.ndarray) -> np.ndarray:
    """Return uniform whole days in ``[low, high]`` per row (``high >= low``)."""
    return low + np.floor(rng.random(len(high)) * (high - low + 1)).astype(np.int64)


def pick(rng: np.random.Generator, options: np.ndarray, probs: np.ndarray):
    """Draw one option per row, each row with its own probability vector."""
    u = rng.random(len(probs))[:, None]
    index = (u > np.cumsum(probs, axis=1)).sum(axis=1)
    return options[np.minimum(index, len(options) - 1)]


def brand_verdicts(rng, success, cancelled, p, brand_reliability):
    """Return the brand's rating and completion status for finished collaborations."""
    n = len(p)
    rating = np.where(rng.random(n) < 0.3 + 0.5 * p, 5, 4)
    low = pick(rng, np.array([1, 2, 3]), np.tile([0.15, 0.35, 0.5], (n, 1)))
    rating = np.where(success, rating, low)
    rating = np.where(cancelled, np.where(rng.random(n) < 0.6, 1, 2), rating)
    # Completed / partially completed / disputed shares for brand ratings 1, 2, 3;
    # an unreliable brand disputes more (its disputed share scaled up, then renormed).
    shares = np.array([[0.1, 0.4, 0.5], [0.3, 0.5, 0.2], [0.6, 0.35, 0.05]])
    shares = np.repeat(shares[None], n, axis=0)[np.arange(n), np.clip(rating, 1, 3) - 1]
    shares[:, 2] *= np.exp(-2.0 * brand_reliability)
    shares /= shares.sum(axis=1, keepdims=True)
    statuses = np.array(["completed", "partially_completed", "disputed"])
    completion = pick(rng, statuses, shares)
    completion = np.where(success, "completed", completion)
    return rating, np.where(cancelled, "cancelled", completion)


def first_verdicts(rng, rating, completion, share, disputed):
    """Return (first rating, first completion, days until replaced; NaN: never).

    ``disputed`` rows were first rated 2-3 as disputed; of the rest, ``share``
    were first one star off.
    """
    n = len(rating)
    edited = ~disputed & (rng.random(n) < share)
    step = np.where(rng.random(n) < 0.5, -1, 1)
    off = np.clip(rating + step, 1, 5)
    off = np.where(off == rating, rating - step, off)
    first = np.where(edited, off, rating)
    first = np.where(disputed, rng.integers(2, 4, n), first)
    first_completion = np.where(disputed, "disputed", completion)
    delay = np.where(
        disputed,
        rng.uniform(*DISPUTE_DAYS, n),
        np.where(edited, rng.uniform(*EDIT_DAYS, n), np.nan),
    )
    return first, first_completion, delay


def factor_lists(rng, rating, truth: Truth, rows) -> list[list[str]]:
    """Return plausible success factors: more for good ratings, tied to the drivers."""
    base = (0.04 + 0.11 * (rating - 1))[:, None]
    lift = np.zeros((len(rows), len(FACTOR_KEYS)))
    lift[:, 0] = 0.3 * truth.fit[rows] - 0.1
    lift[:, 3] = lift[:, 4] = -0.12 * truth.z_response[rows]
    lift[:, 5] = np.clip(0.15 * truth.log_ratio[rows], -0.2, 0.2)
    lift[:, 6] = 0.12 * truth.z_engagement[rows]
    lift[:, 7] = 0.1 * truth.fit[rows] - 0.1
    chosen = rng.random(lift.shape) < np.clip(base + lift, 0.0, 0.9)
    masks = chosen @ (1 << np.arange(len(FACTOR_KEYS)))
    subsets = range(1 << len(FACTOR_KEYS))
    table = [[k for j, k in enumerate(FACTOR_KEYS) if m >> j & 1] for m in subsets]
    return [list(table[m]) for m in masks.tolist()]


def side_ratings(rng, side, rows, rating, completion, ended, now, truth, roi, first):
    """Assemble one side's rows: keep the rated ones, add factors, text and times.

    :param first: ``first_verdicts`` of the rows; an edit due after ``now``
        has not happened, so the first verdict is the current one.
    """
    n = len(rows)
    first_rating, first_completion, delay = first
    rated = rng.random(n) >= UNRATED_SHARE
    again = rng.random(n) < expit(2.2 * (rating - 3.2))
    texts = FEEDBACK[side]
    choice = rng.random(n)
    feedback = [
        None if c < 0.3 else texts[r][int(c * 1000) % len(texts[r])]
        for c, r in zip(choice.tolist(), rating.tolist(), strict=True)
    ]
    start = ended.astype("datetime64[s]")
    room = np.minimum(np.datetime64(now, "s") - start, RATING_DELAY)
    room = room.astype("timedelta64[s]").astype(np.int64)
    rated_at = start + (rng.random(n) * room).astype("timedelta64[s]")
    edited_at = rated_at + np.where(np.isnan(delay), 0, delay * 86_400).astype(
        "timedelta64[s]"
    )
    edited = ~np.isnan(delay) & (edited_at < np.datetime64(now, "s"))
    pending = ~np.isnan(delay) & ~edited
    rating = np.where(pending, first_rating, rating)
    completion = np.where(pending, first_completion, completion)
    edited_at = np.where(edited, edited_at, np.datetime64("NaT"))
    factors = factor_lists(rng, rating, truth, rows)
    return Ratings(
        side=side,
        collaboration=rows[rated],
        rating=rating[rated],
        completion=completion[rated],
        roi=roi[rated],
        again=again[rated],
        factors=[f for f, keep in zip(factors, rated, strict=True) if keep],
        feedback=[f for f, keep in zip(feedback, rated, strict=True) if keep],
        rated_at=rated_at[rated],
        first_rating=np.where(edited, first_rating, rating)[rated],
        first_completion=np.where(edited, first_completion, completion)[rated],
        edited_at=edited_at[rated].astype("datetime64[s]"),
    )


def sample_results(
    rng: np.random.Generator,
    pairs: Pairs,
    truth: Truth,
    now: datetime,
    params: WorldParameters = DEFAULT_PARAMETERS,
) -> Results:
    """Sample statuses, end dates and ratings for every finished collaboration."""
    rows = np.flatnonzero(pairs.finished)
    p, age = truth.probability[rows], pairs.age_days[rows]
    brand_rel = truth.brand_reliability[rows]
    success = rng.random(len(rows)) < p
    slow_or_short = (
        0.25 * (truth.log_ratio[rows] < 0)
        + 0.1 * truth.z_response[rows]
        - 0.3 * brand_rel
    )
    cancel = rng.random(len(rows)) < np.clip(0.35 + slow_or_short, 0.1, 0.8)
    cancelled = ~success & cancel
    duration = np.where(
        cancelled,
        days_between(rng, 3, np.minimum(40, age)),
        days_between(rng, 14, np.minimum(60, age)),
    )
    ended = pairs.proposed[rows] + duration.astype("timedelta64[D]")
    status = pairs.open_status.astype("<U9")
    status[rows] = np.where(cancelled, "cancelled", "completed")
    completed_on = np.full(len(status), np.datetime64("NaT"), dtype="datetime64[D]")
    completed_on[rows[~cancelled]] = ended[~cancelled]
    ended_on = np.full(len(status), np.datetime64("NaT"), dtype="datetime64[D]")
    ended_on[rows] = ended

    brand, completion = brand_verdicts(rng, success, cancelled, p, brand_rel)
    level = np.where(success, truth.roi_success[rows], truth.roi_failure[rows])
    roi = np.maximum(level + rng.normal(0.0, ROI_NOISE_SD, len(rows)), -1.0)
    roi = np.where(rng.random(len(rows)) < np.where(cancelled, 0.5, 0.15), np.nan, roi)
    creator = np.clip(brand + np.rint(rng.normal(0.3, 0.8, len(rows))), 1, 5)
    creator = np.where(cancelled, np.minimum(creator, 3), creator).astype(np.int64)
    no_roi = np.full(len(rows), np.nan)
    dispute = success & (
        rng.random(len(rows))
        < np.clip(params.dispute_share * np.exp(-2.0 * brand_rel), 0.0, 0.9)
    )
    no_dispute = np.zeros(len(rows), dtype=bool)
    share = params.rating_edit_share
    brand_first = first_verdicts(rng, brand, completion, share, dispute)
    creator_first = first_verdicts(rng, creator, completion, share, no_dispute)
    return Results(
        status=status,
        completed_on=completed_on,
        ended_on=ended_on,
        ratings=[
            side_ratings(
                rng,
                "company",
                rows,
                brand,
                completion,
                ended,
                now,
                truth,
                roi,
                brand_first,
            ),
            side_ratings(
                rng,
                "influencer",
                rows,
                creator,
                completion,
                ended,
                now,
                truth,
                no_roi,
                creator_first,
            ),
        ],
    )

"""Rankings measured as rankings: Find influencers replayed on the held-out window.

Protocol (issue 11, point 5), run when a version of a type that learns the
success label is trained (``workers.training``) and stored with its metrics
under ``ranking``:

- **Window.** The final, later window the type's held-out metrics come from
  (``TrainResult.held_out``: its rows of the training data). It starts at the
  first day of its first row; everything below is as of that moment.
- **Brands.** Every brand with at least one successful collaboration proposed
  in the window (the success label, ``webapp.learning.labels``) that had joined
  before the window start; a fixed random sample of ``max_brands`` when more.
- **Candidates.** As Find influencers ranks them (``serving.rank_influencers``
  with no filters): every influencer who had joined before the window start,
  less those with an open collaboration with the brand at that moment (status
  history before the start). Nothing later removes a candidate.
- **Features.** ``CandidatePool.as_of``: profiles valid before the start,
  history strictly before it, the default budget; the rows serving would have
  built that day.
- **Rankers.** *model*: the held-out pipeline (fitted on labels known before
  the window, not the served refit); *rule_based*: the fallback scorer on the
  same rows; *popularity*: most successes brands had rated before the start.
- **Relevance.** The candidates the brand had a successful collaboration with,
  proposed in the window. A success with someone who was not a candidate (joined
  later, or busy at the start) cannot be ranked: it is counted as unreachable.
- **Metrics.** Per brand precision@10, NDCG@10 (scikit-learn) and recall@50,
  ties averaged (``ranking_metrics``), then the mean over brands; coverage@10
  is the share of candidates shown in at least one brand's top 10.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from webapp.core.taxonomy import OPEN_STATUSES
from webapp.core.timeutil import start_of
from webapp.extensions import db
from webapp.learning import ranking_metrics
from webapp.learning.features import day_number
from webapp.models import Collaboration, StatusChange
from webapp.registry.contract import (
    HeldOut,
    ModelType,
    Subject,
    TrainingData,
    TrainResult,
)
from webapp.serving import fallback
from webapp.serving.pools import CandidatePool

RANKERS = ("model", "popularity", "rule_based")
PRECISION_K, NDCG_K, RECALL_K, COVERAGE_K = 10, 10, 50, 10
METRICS = (
    f"precision_at_{PRECISION_K}",
    f"ndcg_at_{NDCG_K}",
    f"recall_at_{RECALL_K}",
    f"coverage_at_{COVERAGE_K}",
)
SAMPLE_SEED = 0


def window_start(data: TrainingData, held_out: HeldOut) -> date:
    """Return the day the window starts on (its first row's proposal day)."""
    return data.times[held_out.rows[0]].astype("datetime64[D]").item()


def later_successes(data: TrainingData, held_out: HeldOut) -> dict[int, set[int]]:
    """Return, per company id, the influencer ids it succeeded with in the window."""
    rows = held_out.rows[data.y[held_out.rows] == 1]
    wanted = set(data.row_ids[rows].tolist())
    first = window_start(data, held_out)
    found: dict[int, set[int]] = defaultdict(set)
    for collaboration, influencer, company in db.session.execute(
        select(
            Collaboration.id, Collaboration.influencer_id, Collaboration.company_id
        ).where(Collaboration.proposed_on >= first)
    ):
        if collaboration in wanted:
            found[company].add(influencer)
    return dict(found)


def open_pairs_at(moment: datetime) -> dict[int, set[int]]:
    """Return, per company id, the influencers it had an open collaboration with at ``moment``.

    A collaboration is open when its last status change before ``moment`` left
    it proposed, accepted or active (``OPEN_STATUSES``).
    """
    last: dict[int, tuple[str, int, int]] = {}
    for collaboration, status, influencer, company in db.session.execute(
        select(
            StatusChange.collaboration_id,
            StatusChange.status,
            Collaboration.influencer_id,
            Collaboration.company_id,
        )
        .join(Collaboration, StatusChange.collaboration_id == Collaboration.id)
        .where(StatusChange.created_at < moment)
        .order_by(
            StatusChange.collaboration_id, StatusChange.created_at, StatusChange.id
        )
    ):
        last[collaboration] = (status, influencer, company)
    busy: dict[int, set[int]] = defaultdict(set)
    for status, influencer, company in last.values():
        if status in OPEN_STATUSES:
            busy[company].add(influencer)
    return dict(busy)


def sample_brands(brands: list[int], limit: int) -> list[int]:
    """Return ``brands`` when there are at most ``limit``, else a fixed random sample."""
    if len(brands) <= limit:
        return brands
    rng = np.random.default_rng(SAMPLE_SEED)
    return sorted(rng.choice(brands, size=limit, replace=False).tolist())


def measure_trained(
    model_type: ModelType,
    data: TrainingData,
    result: TrainResult,
    config: Mapping[str, Any],
) -> dict[str, Any] | None:
    """Return the ranking report of a version just fitted, or None when none applies.

    It applies to pair types that learn the success label from pair features and
    hand back their held-out pipeline; ``RANKING_EVAL_MAX_BRANDS`` 0 turns it off.
    """
    limit = int(config["RANKING_EVAL_MAX_BRANDS"])
    if (
        result.held_out is None
        or limit <= 0
        or model_type.subject != Subject.PAIR
        or model_type.target != "success"
        or model_type.features != "pair"
    ):
        return None
    return measure(
        model_type, data, result.held_out, int(config["SUCCESS_MIN_RATING"]), limit
    )


def reachable_successes(
    pool: CandidatePool,
    successes: dict[int, set[int]],
    busy: dict[int, set[int]],
) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], dict[str, int]]:
    """Return the brands to rank and the successes no ranking could have shown.

    :returns: per brand in the pool with a success among its candidates, the
        candidate mask and the relevance mask over the pool's influencers; and
        the unreachable successes by cause (the brand or creator joined in the
        window, or the pair had an open collaboration at the start).
    """
    eligible = {}
    unreachable = {"joined_later": 0, "busy_at_start": 0}
    for company, partners in sorted(successes.items()):
        if not pool.knows("company", company):
            unreachable["joined_later"] += len(partners)
            continue
        known = np.isin(pool.influencer_ids, list(partners))
        allowed = ~np.isin(pool.influencer_ids, list(busy.get(company, ())))
        unreachable["joined_later"] += len(partners) - int(known.sum())
        unreachable["busy_at_start"] += int((known & ~allowed).sum())
        if (known & allowed).any():
            eligible[company] = (allowed, known & allowed)
    return eligible, unreachable


def measure(
    model_type: ModelType,
    data: TrainingData,
    held_out: HeldOut,
    min_rating: int,
    max_brands: int,
) -> dict[str, Any]:
    """Replay Find influencers for the window's brands; return the rankers' metrics."""
    if len(held_out.rows) == 0:
        raise ValueError("the held-out window has no rows to rank against")
    started = time.perf_counter()
    first = window_start(data, held_out)
    day = day_number(first)
    pool = CandidatePool.as_of(day, min_rating)
    successes = later_successes(data, held_out)
    busy = open_pairs_at(start_of(first))
    popularity = pool.history.influencer_successes(pool.influencer_ids, day)
    report: dict[str, Any] = {
        "window": {
            "from": str(data.times[held_out.rows[0]])[:10],
            "to": str(data.times[held_out.rows[-1]])[:10],
            "rows": int(len(held_out.rows)),
            "successes": int(data.y[held_out.rows].sum()),
        },
        "k": {"precision": PRECISION_K, "ndcg": NDCG_K, "recall": RECALL_K},
        "candidates": int(len(pool.influencer_ids)),
        "brands_with_successes": len(successes),
        "brands_joined_later": sum(
            1 for c in successes if not pool.knows("company", c)
        ),
    }
    eligible, unreachable = reachable_successes(pool, successes, busy)
    chosen = sample_brands(list(eligible), max_brands)
    report.update(
        brands=len(chosen),
        brands_eligible=len(eligible),
        relevant=int(sum(eligible[c][1].sum() for c in chosen)),
        unreachable=unreachable,
    )
    report["rankers"] = _score_brands(
        model_type, held_out, pool, popularity, day, {c: eligible[c] for c in chosen}
    )
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def _score_brands(
    model_type, held_out, pool, popularity, day, brands
) -> dict[str, dict[str, float]]:
    """Rank each brand's candidates with every ranker; average the metrics over brands."""
    per_brand: dict[str, list[list[float]]] = {name: [] for name in RANKERS}
    shown: dict[str, list[np.ndarray]] = {name: [] for name in RANKERS}
    for company, (allowed, relevant) in brands.items():
        candidates = np.flatnonzero(allowed)
        rows = pool.rows_for_company(company, None, day=day)[candidates]
        target = relevant[candidates]
        scores = {
            "model": np.asarray(model_type.predict(held_out.artifact, rows).score),
            "popularity": popularity[candidates],
            "rule_based": fallback.score(rows),
        }
        for name, score in scores.items():
            per_brand[name].append(
                [
                    ranking_metrics.precision_at(target, score, PRECISION_K),
                    ranking_metrics.ndcg_at(target, score, NDCG_K),
                    ranking_metrics.recall_at(target, score, RECALL_K),
                ]
            )
            top = ranking_metrics.shown_top(score, COVERAGE_K)
            shown[name].append(pool.influencer_ids[candidates[top]])
    if not brands:
        return {}
    catalogue = len(pool.influencer_ids)
    return {
        name: {
            **dict(
                zip(METRICS[:3], np.mean(per_brand[name], axis=0).tolist(), strict=True)
            ),
            METRICS[3]: ranking_metrics.coverage(shown[name], catalogue),
        }
        for name in RANKERS
    }

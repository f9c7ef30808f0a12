"""Ranked lists under an interleaving experiment: two versions draft one list.

When a running ``interleaving`` experiment on match success covers the unit
asking for a list (a brand on Find influencers, a creator on Find brands), both
variants score every candidate, each ranks its own top ``limit``, and team
draft (``webapp.experiments.interleaving``) merges them into the list shown.
The coins are seeded by the experiment key and the request (unit, filters and
length), so a reload shows the same list. Each item's first showing is stored
with its team; proposals, acceptances and successes of that pair are credited
to it later (``webapp.experiments.interleaving_results``). Without such an
experiment the routed version ranks alone, as always.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from webapp.core.timeutil import utcnow
from webapp.experiments.interleaving import interleave
from webapp.experiments.units import assignment_for, insert_ignoring_conflict
from webapp.extensions import db
from webapp.models import InterleavingImpression
from webapp.serving.predict import (
    MATCH_TYPE,
    Scored,
    loaded_artifact,
    score_rows,
    score_with,
)
from webapp.serving.routing import Route, RunningExperiment
from webapp.serving.state import serving_state


@dataclass(frozen=True)
class Pick:
    """One item of a ranked list: its row in the pool and who scored it."""

    index: int
    scored: Scored


def covering_experiment(unit: str, subject: str) -> RunningExperiment | None:
    """Return the running interleaving experiment on match lists covering ``subject``."""
    state = serving_state()
    for experiment in state.routing.table().experiments:
        if (
            experiment.kind == "interleaving"
            and experiment.model_type == MATCH_TYPE
            and experiment.unit == unit
            and assignment_for(experiment.rule, subject) is not None
        ):
            return experiment
    return None


def top(scored: Scored, mask: np.ndarray, limit: int) -> np.ndarray:
    """Return the indices of the ``limit`` best-scored rows allowed by ``mask``."""
    candidates = np.flatnonzero(mask)
    order = np.argsort(-scored.probability[candidates], kind="stable")
    return candidates[order[:limit]]


def team_scores(experiment: RunningExperiment, rows: np.ndarray) -> dict[str, Scored]:
    """Score ``rows`` with each variant (in set-up order); refused artifacts fall back."""
    scored = {}
    for key, version in experiment.versions.items():
        if version is None:
            arm = Route(None, "experiment", variant=key, experiment=experiment.key)
            scored[key] = score_with(rows, None, None, key, arm.fallback_reason())
            continue
        artifact, reason = loaded_artifact(version)
        served = version if artifact is not None else None
        scored[key] = score_with(rows, served, artifact, key, reason)
    return scored


def record_impressions(
    experiment: RunningExperiment, subject: str, shown: list[tuple[str, str]]
) -> None:
    """Store each ``(item, team)`` the unit is shown for the first time; expose it; commit.

    The prediction log is written off the request path, so this commits its own
    rows (and the unit's first assignment, stored just before).
    """
    now = utcnow()
    for item, team in shown:
        db.session.execute(
            insert_ignoring_conflict(
                InterleavingImpression,
                {
                    "experiment_id": experiment.rule.experiment_id,
                    "unit_id": subject,
                    "item_id": item,
                    "team": team,
                    "shown_at": now,
                },
            )
        )
    serving_state().exposures.expose(experiment, subject)
    db.session.commit()


def ranked_list(
    rows: np.ndarray,
    mask: np.ndarray,
    limit: int,
    subject: str,
    unit: str,
    request_key: str,
    item_id: Callable[[int], str],
) -> list[Pick]:
    """Return the list ``subject`` sees: one ranking, or two interleaved.

    :param item_id: the external id of the candidate in pool row ``i``.
    :param request_key: what identifies the request besides the unit (filters,
        length), so the same request draws the same coins.
    """
    experiment = covering_experiment(unit, subject)
    if experiment is None:
        scored = score_rows(rows, subject, unit=unit)
        return [Pick(int(i), scored) for i in top(scored, mask, limit)]
    teams = team_scores(experiment, rows)
    key_a, key_b = list(teams)
    merged = interleave(
        [int(i) for i in top(teams[key_a], mask, limit)],
        [int(i) for i in top(teams[key_b], mask, limit)],
        experiment.key,
        f"{subject}\x1f{request_key}",
        limit,
    )
    team_keys = {"a": key_a, "b": key_b}
    picks = [
        Pick(i, teams[team_keys[team]])
        for i, team in zip(merged.items, merged.teams, strict=True)
    ]
    record_impressions(
        experiment,
        subject,
        [(item_id(pick.index), pick.scored.variant) for pick in picks],
    )
    return picks


def by_scorer(picks: list[Pick]) -> list[tuple[Scored, list[int]]]:
    """Group the positions of ``picks`` by the scorer behind them (first seen first)."""
    groups: dict[int, tuple[Scored, list[int]]] = {}
    for position, pick in enumerate(picks):
        groups.setdefault(id(pick.scored), (pick.scored, []))[1].append(position)
    return list(groups.values())

"""Results of an interleaving experiment, credited from the marketplace's own data.

Each item a unit was shown in an interleaved list is stored with the team
(variant) whose ranking contributed it, as of its first showing
(``InterleavingImpression``). A proposal of that pair made after the showing,
its acceptance, and its success by the label rule are credited to that team.
Per unit, the team with more credited events of the primary metric's kind is
preferred (ties and units without events have no preference); the preference
share per variant comes with its exact interval and the sign test's p-value
(``webapp.experiments.interleaving.preference_results``). Proposals, the
earliest signal, are reported too.
"""

from __future__ import annotations

from collections import defaultdict

from flask import current_app
from sqlalchemy import and_, func, select

from webapp.experiments.interleaving import TEAMS, preference, preference_results
from webapp.experiments.stats import DEFAULT_ALPHA
from webapp.extensions import db
from webapp.learning.labels import success_label
from webapp.models import (
    Collaboration,
    Company,
    ExperimentEvent,
    Influencer,
    InterleavingImpression,
    Outcome,
    StatusChange,
)

# The credited event behind each metric an interleaving experiment may use.
METRIC_EVENTS = {"acceptance_rate": "acceptances", "success_rate": "successes"}
EVENTS = ("proposals", "acceptances", "successes")


def credited_pairs(experiment):
    """Return a SELECT of (unit, team, collaboration id) of pairs proposed after showing."""
    impression = InterleavingImpression
    if experiment.unit == "company":
        unit_side, item_side = Company, Influencer
        unit_column, item_column = Collaboration.company_id, Collaboration.influencer_id
    else:
        unit_side, item_side = Influencer, Company
        unit_column, item_column = Collaboration.influencer_id, Collaboration.company_id
    return (
        select(
            impression.unit_id.label("unit"),
            impression.team.label("team"),
            Collaboration.id.label("collaboration_id"),
        )
        .join(unit_side, unit_side.external_id == impression.unit_id)
        .join(item_side, item_side.external_id == impression.item_id)
        .join(
            Collaboration,
            and_(
                unit_column == unit_side.id,
                item_column == item_side.id,
                Collaboration.created_at >= impression.shown_at,
            ),
        )
        .where(impression.experiment_id == experiment.id)
    )


def credits(experiment, event: str) -> dict[str, dict[str, int]]:
    """Return ``{unit: {variant key: credited events}}`` for one kind of event."""
    pairs = credited_pairs(experiment).subquery()
    query = select(pairs.c.unit, pairs.c.team, func.count())
    if event == "acceptances":
        query = query.join(
            StatusChange,
            and_(
                StatusChange.collaboration_id == pairs.c.collaboration_id,
                StatusChange.status == "accepted",
            ),
        )
    elif event == "successes":
        label = success_label(int(current_app.config["SUCCESS_MIN_RATING"]))
        query = (
            query.join(Collaboration, Collaboration.id == pairs.c.collaboration_id)
            .join(
                Outcome,
                and_(
                    Outcome.collaboration_id == Collaboration.id,
                    Outcome.rater_side == "company",
                ),
            )
            .where(label == 1)
        )
    elif event != "proposals":
        raise ValueError(f"unknown interleaving event {event!r}")
    rows = db.session.execute(query.group_by(pairs.c.unit, pairs.c.team)).all()
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for unit, team, count in rows:
        found[unit][team] = int(count)
    return found


def exposed_units(experiment) -> list[str]:
    """Return the units that were shown an interleaved list."""
    return list(
        db.session.scalars(
            select(ExperimentEvent.unit_id).where(
                ExperimentEvent.experiment_id == experiment.id,
                ExperimentEvent.type == "exposure",
            )
        )
    )


def event_preferences(
    experiment, event: str, units: list[str], keys: tuple[str, str]
) -> dict:
    """Return the preference results of ``units`` on one kind of credited event."""
    by_unit = credits(experiment, event)
    preferences = []
    for unit in units:
        counts = by_unit.get(unit, {})
        teams = {
            team: counts.get(key, 0) for team, key in zip(TEAMS, keys, strict=True)
        }
        preferences.append(preference(teams))
    found = preference_results(preferences, keys)
    found["events"] = {
        key: sum(by_unit.get(unit, {}).get(key, 0) for unit in units) for key in keys
    }
    return found


def results(experiment, alpha: float = DEFAULT_ALPHA) -> dict:
    """Return the results document of an interleaving experiment.

    ``variants`` keeps the A/B document's shape: per variant the exposed units
    (every unit sees both), the credited conversions, the preference share as
    ``mean`` with its exact interval as ``ci``, and for the second variant the
    sign test's ``p_value``. The winner is the variant preferred by a
    significant majority of the units with a preference.
    """
    keys = tuple(variant.key for variant in experiment.variants)
    units = exposed_units(experiment)
    by_event = {
        event: event_preferences(experiment, event, units, keys) for event in EVENTS
    }
    primary = by_event[METRIC_EVENTS[experiment.metric]]
    rows = []
    for index, entry in enumerate(primary["versions"]):
        row = {
            "key": entry["key"],
            "units": len(units),
            "exposures": len(units),
            "conversions": primary["events"][entry["key"]],
            "wins": entry["wins"],
            "mean": entry["share"],
            "ci": entry["ci"],
        }
        if index:
            row["p_value"] = primary["p_value"]
        rows.append(row)
    winner = None
    if primary["p_value"] is not None and primary["p_value"] < alpha:
        winner = max(primary["versions"], key=lambda entry: entry["wins"])["key"]
    return {
        "key": experiment.key,
        "status": experiment.status,
        "kind": "interleaving",
        "metric": experiment.metric,
        "sequential": False,
        "srm_p_value": None,
        "srm_flag": False,
        "winner": winner,
        "variants": rows,
        "cuped": None,
        "interleaving": {
            "units": primary["units"],
            "units_with_preference": primary["units_with_preference"],
            "ties": primary["ties"],
            "p_value": primary["p_value"],
            "by_event": by_event,
        },
    }

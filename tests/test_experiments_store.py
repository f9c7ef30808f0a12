"""Experiments in the app: set-up rules, statuses, sticky assignment, exposures, results."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, timedelta

import pytest
from conftest import make_company
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from webapp.core.timeutil import utcnow
from webapp.experiments import outcomes, store, units
from webapp.experiments.units import AssignmentRule
from webapp.extensions import db
from webapp.models import (
    Collaboration,
    ExperimentAssignment,
    ExperimentChange,
    ExperimentEvent,
    Influencer,
    Outcome,
    StatusChange,
)


def setup(**overrides) -> dict:
    """Return a valid two-arm set-up (both arms the rule-based scorer)."""
    body = {
        "key": "ranker-test",
        "name": "Ranker test",
        "hypothesis": "The new ranker gets more acceptances.",
        "model_type": "match_success",
        "unit": "company",
        "coverage": 1.0,
        "metric": "acceptance_rate",
        "guardrails": ["mean_rating"],
        "namespace": None,
        "mde": 0.2,
        "baseline": 0.3,
        "variants": [
            {"key": "control", "name": "Control", "weight": 0.5},
            {"key": "treatment", "name": "Treatment", "weight": 0.5},
        ],
    }
    return body | overrides


def paths(error: store.ExperimentError) -> set[str]:
    return {entry["path"] for entry in error.problems}


def test_setup_is_checked_and_stored_as_a_draft_with_its_sample_size(app):
    experiment = store.create_experiment(setup(), actor=None)
    assert experiment.status == "draft"
    assert [v.key for v in experiment.variants] == ["control", "treatment"]
    # 0.30 -> 0.36 at power 0.8, alpha 0.05: statsmodels' own answer.
    assert experiment.required_sample_size == store.power.rate_sample_size(0.3, 0.2)
    assert [c.action for c in experiment.changes] == ["create"]


@pytest.mark.parametrize(
    "overrides, path",
    [
        ({"key": "Bad Key!"}, "key"),
        ({"model_type": "nope"}, "model_type"),
        ({"model_type": "trend"}, "model_type"),  # a series type has no units
        ({"unit": "user"}, "unit"),
        ({"metric": "clicks"}, "metric"),
        ({"guardrails": ["acceptance_rate"]}, "guardrails/0"),
        ({"namespace": {"id": "ns", "start": 0.6, "end": 0.2}}, "namespace"),
        ({"variants": [{"key": "only", "weight": 1.0}]}, "variants"),
        (
            {"variants": [{"key": "a", "weight": 0.5}, {"key": "bb", "weight": 0.4}]},
            "variants",
        ),
        (
            {
                "variants": [
                    {"key": "aa", "weight": 0.5},
                    {"key": "bb", "weight": 0.5, "model_version_id": 999},
                ]
            },
            "variants/1/model_version_id",
        ),
    ],
)
def test_bad_setups_are_refused_with_the_field_at_fault(app, overrides, path):
    with pytest.raises(store.ExperimentError) as raised:
        store.create_experiment(setup(**overrides), actor=None)
    assert path in paths(raised.value)


def test_a_key_is_taken_once(app):
    store.create_experiment(setup(), actor=None)
    with pytest.raises(store.ExperimentError) as raised:
        store.create_experiment(setup(), actor=None)
    assert paths(raised.value) == {"key"}


def test_statuses_move_forward_only(app):
    experiment = store.create_experiment(setup(), actor=None)
    with pytest.raises(store.WrongStatus):
        store.stop(experiment, None)
    store.start(experiment, None)
    assert experiment.status == "running" and experiment.started_at
    with pytest.raises(store.WrongStatus):
        store.start(experiment, None)
    store.stop(experiment, None)
    store.conclude(experiment, None)
    assert experiment.status == "concluded"
    actions = [c.action for c in experiment.changes]
    assert actions == ["create", "start", "stop", "conclude"]


def test_assignment_is_sticky_across_a_weight_change(app):
    experiment = store.create_experiment(setup(), actor=None)
    store.start(experiment, None)
    first = {
        f"CO-{n}": units.assignment_for(AssignmentRule.of(experiment), f"CO-{n}")
        for n in range(200)
    }
    db.session.commit()
    assert set(first.values()) == {"control", "treatment"}
    warnings = store.change_running(
        experiment,
        {
            "variants": [
                {"key": "control", "weight": 0.1},
                {"key": "treatment", "weight": 0.9},
            ]
        },
        actor=None,
    )
    assert warnings and "running" in warnings[0]
    rule = AssignmentRule.of(experiment)
    assert {unit: units.assignment_for(rule, unit) for unit in first} == first
    # New units follow the new split, and the hash alone would move some old ones.
    moved = [unit for unit, key in first.items() if rule.hashed_variant(unit) != key]
    assert moved
    edit = db.session.scalars(
        db.select(ExperimentChange).where(ExperimentChange.action == "edit")
    ).one()
    assert edit.changes["weights"][1] == {"control": 0.1, "treatment": 0.9}
    assert edit.warnings == warnings


def test_weights_must_still_sum_to_one_after_a_change(app):
    experiment = store.create_experiment(setup(), actor=None)
    with pytest.raises(store.ExperimentError):
        store.change_running(
            experiment, {"variants": [{"key": "control", "weight": 0.9}]}, None
        )
    with pytest.raises(store.ExperimentError):
        store.change_running(
            experiment, {"variants": [{"key": "zz", "weight": 1}]}, None
        )


def test_concurrent_first_assignments_store_one_row(app, monkeypatch):
    """Two requests that both find no row insert at once: one row, one answer."""
    experiment = store.create_experiment(setup(), actor=None)
    store.start(experiment, None)
    rule = AssignmentRule.of(experiment)
    barrier = threading.Barrier(2, timeout=30)
    real = units.stored_variant
    first_read = threading.local()

    def racing_read(experiment_id, unit_id):
        value = real(experiment_id, unit_id)
        if not getattr(first_read, "done", False):
            first_read.done = True
            barrier.wait()  # both threads have seen "no row" before either inserts
        return value

    monkeypatch.setattr(units, "stored_variant", racing_read)
    answers, errors = {}, []

    def request(name, weights):
        try:
            with app.app_context():
                # Different splits, so the two requests would store different rows.
                split = dataclasses.replace(rule, weights=weights)
                answers[name] = units.assignment_for(split, "CO-RACE")
                db.session.commit()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [
        threading.Thread(target=request, args=("a", (1.0, 0.0))),
        threading.Thread(target=request, args=("b", (0.0, 1.0))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = db.session.scalars(
        db.select(ExperimentAssignment).where(ExperimentAssignment.unit_id == "CO-RACE")
    ).all()
    assert len(rows) == 1
    assert answers["a"] == answers["b"] == rows[0].variant_key


def test_exposure_is_recorded_once_per_unit(app):
    experiment = store.create_experiment(setup(), actor=None)
    store.start(experiment, None)
    units.assignment_for(AssignmentRule.of(experiment), "CO-1")
    for _ in range(3):
        units.record_exposure(experiment.id, "CO-1")
    assert units.record_event(experiment.id, "CO-1", "exposure", None, "api") is False
    count = db.session.scalar(
        db.select(db.func.count()).where(ExperimentEvent.type == "exposure")
    )
    assert count == 1


@pytest.mark.parametrize(
    "event_type, value, ok",
    [
        ("rating", 4, True),
        ("rating", 6, False),
        ("rating", None, False),
        ("roi", -2, False),
        ("roi", 0.4, True),
        ("acceptance", None, True),
        ("acceptance", 1, False),
        ("click", None, False),
    ],
)
def test_event_values_are_checked(event_type, value, ok):
    assert (units.event_problems(event_type, value) == []) is ok


def expose(experiment, unit: str, variant: str) -> None:
    """Store ``unit`` in ``variant`` and expose it now."""
    db.session.add(
        ExperimentAssignment(
            experiment_id=experiment.id, unit_id=unit, variant_key=variant
        )
    )
    db.session.flush()
    units.record_exposure(experiment.id, unit)
    db.session.commit()


def test_results_aggregate_app_data_and_sent_events_like_statsmodels(app):
    """Acceptances from status changes and API events count once per exposed unit."""
    experiment = store.create_experiment(setup(), actor=None)
    store.start(experiment, None)
    influencer = Influencer(
        external_id="INF-1",
        handle="h",
        niche="fitness",
        followers=1000,
        engagement_rate=0.05,
        country="US",
        rate_per_post=100.0,
        joined_on=date(2024, 1, 1),
        posts_per_week=3.0,
        avg_response_hours=5.0,
        content_quality=6.0,
    )
    db.session.add(influencer)
    plan = {"control": (40, 10), "treatment": (40, 18)}  # exposed, converted
    for variant, (exposed, converted) in plan.items():
        for n in range(exposed):
            unit = f"{variant}-{n}"
            expose(experiment, unit, variant)
            if n >= converted:
                continue
            if n % 2:  # half of the conversions from the marketplace itself
                company = make_company(unit)
                collaboration = Collaboration(
                    external_id=f"C-{unit}",
                    influencer=influencer,
                    company=company,
                    proposed_on=date.today(),
                    status="accepted",
                    budget=100.0,
                )
                db.session.add_all([company, collaboration])
                db.session.flush()
                db.session.add(
                    StatusChange(
                        collaboration_id=collaboration.id,
                        status="accepted",
                        action="accept",
                        created_at=utcnow() + timedelta(seconds=1),
                    )
                )
                db.session.commit()
            else:  # the rest sent by another system, twice (counts once)
                units.record_event(experiment.id, unit, "acceptance", None, "api")
                units.record_event(experiment.id, unit, "acceptance", None, "api")
    # Assigned but never exposed: counted in units, not in exposures.
    db.session.add(
        ExperimentAssignment(
            experiment_id=experiment.id, unit_id="late", variant_key="control"
        )
    )
    db.session.commit()
    document = outcomes.results(experiment)
    control, treatment = document["variants"]
    assert (control["units"], control["exposures"], control["conversions"]) == (
        41,
        40,
        10,
    )
    assert (treatment["exposures"], treatment["conversions"]) == (40, 18)
    _, expected_p = proportions_ztest([18, 10], [40, 40])
    assert treatment["p_value"] == pytest.approx(expected_p, abs=1e-9)
    low, high = proportion_confint(10, 40, alpha=0.05, method="wilson")
    assert control["ci"] == pytest.approx([low, high], abs=1e-9)
    srm = scipy_stats.chisquare([40, 40], [40, 40]).pvalue
    assert document["srm_p_value"] == pytest.approx(srm)


def test_mean_rating_uses_brand_ratings_after_exposure(app):
    experiment = store.create_experiment(
        setup(metric="mean_rating", guardrails=[], baseline=None), actor=None
    )
    store.start(experiment, None)
    influencer = db.session.get(Influencer, 1)
    assert influencer is None  # no marketplace rows: ratings come from events only
    ratings = {"control": [[3, 5], [2], [4]], "treatment": [[5], [4, 4], [5]]}
    for variant, per_unit in ratings.items():
        for n, values in enumerate(per_unit):
            unit = f"{variant}-{n}"
            expose(experiment, unit, variant)
            for value in values:
                units.record_event(experiment.id, unit, "rating", value, "api")
    document = outcomes.results(experiment)
    control, treatment = document["variants"]
    control_means, treatment_means = [4.0, 2.0, 4.0], [5.0, 4.0, 5.0]
    assert control["mean"] == pytest.approx(sum(control_means) / 3)
    welch = scipy_stats.ttest_ind(treatment_means, control_means, equal_var=False)
    assert treatment["p_value"] == pytest.approx(welch.pvalue, abs=1e-9)
    assert db.session.scalar(db.select(db.func.count()).select_from(Outcome)) == 0

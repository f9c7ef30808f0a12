"""Serving through a running experiment: the variant's version, exposures, fallback."""

from __future__ import annotations

import pytest
from training_helpers import seed_small_world, train_version

from webapp import serving
from webapp.experiments import store
from webapp.extensions import db
from webapp.models import (
    Company,
    ExperimentAssignment,
    ExperimentEvent,
    Influencer,
    PredictionLog,
)


@pytest.fixture
def two_versions(app):
    """A seeded world with an active match version (v1) and a candidate (v2)."""
    seed_small_world()
    serving.serving_state().clear()
    first = train_version({"algorithm": "logistic_regression", "n_splits": 3})
    second = train_version({"algorithm": "gradient_boosting", "n_splits": 3})
    assert (first.status, second.status) == ("active", "candidate")
    return first, second


def start_experiment(variants, unit="company", coverage=1.0):
    experiment = store.create_experiment(
        {
            "key": "match-v2",
            "name": "Match v2",
            "model_type": "match_success",
            "unit": unit,
            "coverage": coverage,
            "metric": "acceptance_rate",
            "variants": variants,
        },
        actor=None,
    )
    store.start(experiment, None)
    return experiment


def companies():
    return db.session.scalars(db.select(Company).order_by(Company.id)).all()


def some_influencer():
    return db.session.scalars(db.select(Influencer).order_by(Influencer.id)).first()


def assigned(experiment) -> dict[str, str]:
    rows = db.session.scalars(
        db.select(ExperimentAssignment).where(
            ExperimentAssignment.experiment_id == experiment.id
        )
    )
    return {row.unit_id: row.variant_key for row in rows}


def exposure_count(experiment) -> int:
    return db.session.scalar(
        db.select(db.func.count()).where(
            ExperimentEvent.experiment_id == experiment.id,
            ExperimentEvent.type == "exposure",
        )
    )


def test_running_experiment_serves_each_units_variant_version(two_versions):
    first, second = two_versions
    experiment = start_experiment(
        [
            {"key": "control", "weight": 0.5, "model_version_id": first.id},
            {"key": "treatment", "weight": 0.5, "model_version_id": second.id},
        ]
    )
    influencer = some_influencer()
    answers = serving.predict_pairs([(influencer, c) for c in companies()])
    stored = assigned(experiment)
    expected = {"control": first.version, "treatment": second.version}
    assert set(stored.values()) == {"control", "treatment"}
    for answer in answers:
        variant = stored[answer["company_id"]]
        assert answer["model"]["version"] == expected[variant]
        assert answer["fallback"] is False
    logged = db.session.scalars(db.select(PredictionLog)).all()
    assert {row.subject: row.variant for row in logged} == stored
    assert {row.version_id for row in logged} == {first.id, second.id}


def test_exposures_are_recorded_once_per_unit_across_requests(two_versions):
    first, second = two_versions
    experiment = start_experiment(
        [
            {"key": "control", "weight": 0.5, "model_version_id": first.id},
            {"key": "treatment", "weight": 0.5, "model_version_id": second.id},
        ]
    )
    company = companies()[0]
    for _ in range(3):
        serving.rank_influencers(company, limit=5)
        serving.serving_state().exposures.clear()  # another process, same unit
    assert exposure_count(experiment) == 1
    assert set(assigned(experiment)) == {company.external_id}


def test_rule_based_variant_falls_back_and_is_still_logged(two_versions):
    first, _ = two_versions
    experiment = start_experiment(
        [
            {"key": "control", "weight": 0.0, "model_version_id": first.id},
            {"key": "rules", "weight": 1.0, "model_version_id": None},
        ]
    )
    company = companies()[0]
    [answer] = serving.predict_pairs([(some_influencer(), company)])
    assert answer["fallback"] is True
    assert "experiment match-v2: variant rules" in answer["fallback_reason"]
    row = db.session.scalars(db.select(PredictionLog)).one()
    assert (row.variant, row.version_id, row.fallback) == ("rules", None, True)
    assert exposure_count(experiment) == 1


def test_units_outside_coverage_and_other_unit_kinds_get_the_active_version(
    two_versions,
):
    first, second = two_versions
    start_experiment(
        [
            {"key": "control", "weight": 0.5, "model_version_id": second.id},
            {"key": "treatment", "weight": 0.5, "model_version_id": second.id},
        ],
        coverage=0.0,
    )
    [answer] = serving.predict_pairs([(some_influencer(), companies()[0])])
    assert answer["model"]["version"] == first.version
    # An influencer-unit list is not routed by a company experiment.
    ranked = serving.rank_companies(some_influencer(), limit=3)
    assert {r["model"]["version"] for r in ranked} == {first.version}


def test_stopped_experiment_no_longer_routes(two_versions):
    first, second = two_versions
    experiment = start_experiment(
        [
            {"key": "control", "weight": 0.0, "model_version_id": first.id},
            {"key": "treatment", "weight": 1.0, "model_version_id": second.id},
        ],
        unit="influencer",
    )
    influencer = some_influencer()
    ranked = serving.rank_companies(influencer, limit=3)
    assert {r["model"]["version"] for r in ranked} == {second.version}
    store.stop(experiment, None)
    ranked = serving.rank_companies(influencer, limit=3)
    assert {r["model"]["version"] for r in ranked} == {first.version}


def test_conclude_and_ship_promotes_the_winners_version_with_history(two_versions):
    from webapp.experiments import units
    from webapp.models import Deployment

    first, second = two_versions
    experiment = store.create_experiment(
        {
            "key": "ship-it",
            "model_type": "match_success",
            "unit": "company",
            "metric": "acceptance_rate",
            "mde": 1.0,
            "baseline": 0.3,
            "variants": [
                {"key": "control", "weight": 0.5, "model_version_id": first.id},
                {"key": "treatment", "weight": 0.5, "model_version_id": second.id},
            ],
        },
        actor=None,
    )
    store.start(experiment, None)
    needed = experiment.required_sample_size
    assert needed is not None and needed < 60
    # Store the split by hand: 60 units each, 15 % vs 60 % converting.
    for variant, converting in (("control", 9), ("treatment", 36)):
        for n in range(60):
            unit = f"{variant}-{n}"
            db.session.add(
                ExperimentAssignment(
                    experiment_id=experiment.id, unit_id=unit, variant_key=variant
                )
            )
            db.session.flush()
            units.record_exposure(experiment.id, unit)
            db.session.commit()
            if n < converting:
                units.record_event(experiment.id, unit, "acceptance", None, "api")
    assert store.outcomes.results(experiment)["winner"] == "treatment"
    message = store.conclude(experiment, None, ship=True)
    assert "match_success v2 (treatment) is active" in message
    db.session.refresh(second)
    assert second.status == "active"
    deployment = db.session.scalars(
        db.select(Deployment).order_by(Deployment.id.desc())
    ).first()
    assert deployment.action == "promote" and "ship-it" in deployment.note
    assert experiment.status == "concluded"
    assert experiment.shipped_variant == "treatment"
    assert experiment.changes[-1].changes["shipped"] == "treatment"


def test_shipping_without_a_winner_changes_nothing(two_versions):
    first, second = two_versions
    experiment = start_experiment(
        [
            {"key": "control", "weight": 0.5, "model_version_id": first.id},
            {"key": "treatment", "weight": 0.5, "model_version_id": second.id},
        ]
    )
    with pytest.raises(store.ExperimentError, match="no winner"):
        store.conclude(experiment, None, ship=True)
    db.session.refresh(second)
    assert (experiment.status, second.status) == ("running", "candidate")


def test_roi_logs_the_variant_of_a_rule_based_arm(world):
    """ROI falls back to its history estimate for a rule-based arm and logs the arm."""
    from webapp.serving import roi

    model_type = "roi"
    experiment = store.create_experiment(
        {
            "key": f"{model_type}-arms",
            "model_type": model_type,
            "unit": "company",
            "metric": "mean_roi",
            "baseline": 0.2,
            "variants": [
                {"key": "control", "weight": 0.0},
                {"key": "rules", "weight": 1.0},
            ],
        },
        actor=None,
    )
    store.start(experiment, None)
    serving.serving_state().clear()
    influencer, company = world["influencers"][0], world["companies"][0]
    [answer] = roi.estimate_pairs([(influencer, company)])
    assert answer["fallback"] is True
    row = db.session.scalars(db.select(PredictionLog)).one()
    assert (row.model_type, row.variant, row.version_id) == (model_type, "rules", None)
    assert exposure_count(experiment) == 1

"""Interleaving experiments on ranked lists, sequential mode and CUPED, end to end."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from conftest import make_company, make_influencer
from scipy.stats import binomtest, ttest_ind
from training_helpers import seed_small_world, train_version

from webapp import serving
from webapp.core.timeutil import utcnow
from webapp.experiments import interleaving, outcomes, store
from webapp.experiments.units import AssignmentRule, assignment_for, record_exposure
from webapp.extensions import db
from webapp.models import (
    Collaboration,
    Company,
    Experiment,
    Influencer,
    InterleavingImpression,
    PredictionLog,
    StatusChange,
)
from webapp.serving.coherence import routing_changed


@pytest.fixture
def model_world(app):
    """A seeded world with an active match version."""
    seed_small_world()
    serving.serving_state().clear()
    version = train_version({"algorithm": "logistic_regression", "n_splits": 3})
    assert version.status == "active"
    return version


def start_interleaving(version, unit="company", metric="acceptance_rate"):
    experiment = store.create_experiment(
        {
            "key": "rank-test",
            "name": "Model against rules",
            "kind": "interleaving",
            "model_type": "match_success",
            "unit": unit,
            "metric": metric,
            "variants": [
                {"key": "model", "model_version_id": version.id},
                {"key": "rules", "model_version_id": None},
            ],
        },
        actor=None,
    )
    store.start(experiment, None)
    return experiment


def companies():
    return db.session.scalars(db.select(Company).order_by(Company.id)).all()


def impressions(experiment) -> dict[tuple[str, str], str]:
    rows = db.session.scalars(
        db.select(InterleavingImpression).where(
            InterleavingImpression.experiment_id == experiment.id
        )
    )
    return {(row.unit_id, row.item_id): row.team for row in rows}


def test_the_list_is_a_team_draft_of_both_rankings_and_stable(model_world):
    experiment = start_interleaving(model_world)
    company = companies()[0]
    # Each variant's own ranking, before the experiment mixes them.
    store.stop(experiment, None)
    alone = [a["influencer"]["id"] for a in serving.rank_influencers(company, 10)]
    db.session.execute(
        db.update(Experiment)
        .where(Experiment.id == experiment.id)
        .values(status="running")
    )
    routing_changed()
    db.session.commit()

    first = serving.rank_influencers(company, limit=10)
    again = serving.rank_influencers(company, limit=10)
    ids = [a["influencer"]["id"] for a in first]
    assert ids == [a["influencer"]["id"] for a in again]  # a reload shows the same
    assert len(ids) == len(set(ids)) == 10
    versions = {a["model"]["version"] for a in first}
    assert versions == {model_world.version, None}  # both teams placed items
    shown = impressions(experiment)
    teams = [shown[(company.external_id, item)] for item in ids]
    assert set(teams) == {"model", "rules"}
    for answer, team in zip(first, teams, strict=True):
        assert answer["fallback"] is (team == "rules")
    # Team draft: the model's picks keep the order of its own ranking.
    model_picks = [
        item for item, team in zip(ids, teams, strict=True) if team == "model"
    ]
    assert model_picks == [item for item in alone if item in model_picks]
    assert abs(teams.count("model") - teams.count("rules")) <= 1
    logged = db.session.scalars(
        db.select(PredictionLog.variant).where(
            PredictionLog.subject == company.external_id,
            PredictionLog.variant.is_not(None),
        )
    ).all()
    assert set(logged) == {"model", "rules"}


def test_interleaving_never_routes_a_single_prediction(model_world):
    start_interleaving(model_world)
    influencer = db.session.scalars(db.select(Influencer)).first()
    answer = serving.predict_pairs([(influencer, companies()[0])])[0]
    assert answer["model"]["version"] == model_world.version
    row = db.session.scalars(db.select(PredictionLog)).all()[-1]
    assert row.variant is None


def test_brands_lists_are_interleaved_for_influencer_units(model_world):
    experiment = start_interleaving(model_world, unit="influencer")
    influencer = db.session.scalars(db.select(Influencer)).first()
    answers = serving.rank_companies(influencer, limit=8)
    shown = impressions(experiment)
    assert {shown[(influencer.external_id, a["company"]["id"])] for a in answers} <= {
        "model",
        "rules",
    }
    assert len(shown) == len(answers)


def propose_and_accept(company, influencer_id: str, n: int) -> None:
    influencer = db.session.scalar(
        db.select(Influencer).where(Influencer.external_id == influencer_id)
    )
    accepted(
        influencer, company, f"C-IL-{company.id}-{n}", utcnow() + timedelta(seconds=1)
    )


def test_picks_are_credited_to_their_team_and_decide_the_winner(model_world):
    experiment = start_interleaving(model_world)
    brands = companies()[:8]
    for company in brands:
        serving.rank_influencers(company, limit=6)
    shown = impressions(experiment)
    # Seven brands accept a model pick, one a rules pick; one brand also a
    # rules pick after its model pick (a tie: no preference).
    for company in brands[:7]:
        item = next(
            i
            for (u, i), t in shown.items()
            if u == company.external_id and t == "model"
        )
        propose_and_accept(company, item, 0)
    for company in brands[6:8]:
        item = next(
            i
            for (u, i), t in shown.items()
            if u == company.external_id and t == "rules"
        )
        propose_and_accept(company, item, 1)
    db.session.commit()
    document = outcomes.results(experiment)
    assert document["kind"] == "interleaving"
    inter = document["interleaving"]
    assert (inter["units"], inter["units_with_preference"], inter["ties"]) == (8, 7, 1)
    expected = binomtest(6, 7, 0.5)
    assert inter["p_value"] == pytest.approx(expected.pvalue, abs=1e-12)
    model_row, rules_row = document["variants"]
    assert (model_row["wins"], rules_row["wins"]) == (6, 1)
    assert model_row["mean"] == pytest.approx(6 / 7)
    low, high = expected.proportion_ci(0.95, method="exact")
    assert model_row["ci"] == pytest.approx([low, high])
    assert (model_row["conversions"], rules_row["conversions"]) == (7, 2)
    assert inter["by_event"]["proposals"]["events"] == {"model": 7, "rules": 2}
    # 6 of 7 is not significant (p = 0.125): no winner yet.
    assert document["winner"] is None


def test_an_item_keeps_the_team_of_its_first_showing(model_world):
    experiment = start_interleaving(model_world)
    company = companies()[0]
    serving.rank_influencers(company, limit=5)
    before = impressions(experiment)
    serving.rank_influencers(company, limit=12, filters={})
    after = impressions(experiment)
    assert {k: after[k] for k in before} == before
    assert len(after) >= len(before)


@pytest.mark.parametrize(
    "change, path",
    [
        ({"model_type": "risk"}, "model_type"),
        ({"metric": "mean_rating"}, "metric"),
        ({"guardrails": ["mean_rating"]}, "guardrails"),
        ({"kind": "bandit"}, "kind"),
        ({"sequential": "yes"}, "sequential"),
    ],
)
def test_interleaving_setups_are_checked(app, change, path):
    data = {
        "key": "bad-il",
        "kind": "interleaving",
        "model_type": "match_success",
        "unit": "company",
        "metric": "acceptance_rate",
        "variants": [{"key": "va"}, {"key": "vb"}],
    } | change
    with pytest.raises(store.ExperimentError) as raised:
        store.create_experiment(data, actor=None)
    assert path in {problem["path"] for problem in raised.value.problems}


def test_interleaving_needs_exactly_two_variants(app):
    with pytest.raises(store.ExperimentError) as raised:
        store.create_experiment(
            {
                "key": "three-il",
                "kind": "interleaving",
                "model_type": "match_success",
                "unit": "company",
                "metric": "acceptance_rate",
                "variants": [{"key": "va"}, {"key": "vb"}, {"key": "vc"}],
            },
            actor=None,
        )
    assert "variants" in {problem["path"] for problem in raised.value.problems}


def accepted(influencer, company, name: str, at) -> None:
    collaboration = Collaboration(
        external_id=name,
        influencer=influencer,
        company=company,
        proposed_on=at.date(),
        status="accepted",
        budget=100.0,
        created_at=at,
    )
    db.session.add(collaboration)
    db.session.flush()
    db.session.add(
        StatusChange(
            collaboration_id=collaboration.id,
            status="accepted",
            action="accept",
            created_at=at,
        )
    )


def test_cuped_uses_the_pre_period_and_matches_an_independent_computation(app):
    """Acceptances before the start predict acceptances after: variance drops."""
    experiment = store.create_experiment(
        {
            "key": "cuped-test",
            "model_type": "match_success",
            "unit": "company",
            "metric": "acceptance_rate",
            "variants": [
                {"key": "control", "weight": 0.5},
                {"key": "treatment", "weight": 0.5},
            ],
        },
        actor=None,
    )
    store.start(experiment, None)
    started = experiment.started_at
    rng = np.random.default_rng(4)
    influencer = make_influencer("INF-CUPED")
    db.session.add(influencer)
    truth = {"control": ([], []), "treatment": ([], [])}
    rule = AssignmentRule.of(experiment)
    for n in range(160):
        company = make_company(f"CO-CU-{n}")
        db.session.add(company)
        db.session.flush()
        habit = rng.random() < 0.4
        if habit:  # accepted before the start: the covariate
            accepted(influencer, company, f"PRE-{n}", started - timedelta(days=10))
        variant = assignment_for(rule, company.external_id)
        record_exposure(experiment.id, company.external_id)
        converted = rng.random() < (0.8 if habit else 0.15)
        if converted:
            accepted(influencer, company, f"POST-{n}", utcnow() + timedelta(seconds=5))
        truth[variant][0].append(1.0 if converted else 0.0)
        truth[variant][1].append(1.0 if habit else 0.0)
    db.session.commit()
    document = outcomes.results(experiment)
    cuped = document["cuped"]
    assert cuped is not None and cuped["units_with_pre_period"] > 0
    ys = {k: np.array(v[0]) for k, v in truth.items()}
    xs = {k: np.array(v[1]) for k, v in truth.items()}
    s_xy = sum(((xs[k] - xs[k].mean()) * (ys[k] - ys[k].mean())).sum() for k in ys)
    s_xx = sum(((xs[k] - xs[k].mean()) ** 2).sum() for k in ys)
    theta = s_xy / s_xx
    assert cuped["theta"] == pytest.approx(theta, rel=1e-9)
    adjusted = {k: ys[k] - theta * xs[k] for k in ys}
    pooled = sum(((ys[k] - ys[k].mean()) ** 2).sum() for k in ys)
    pooled_adj = sum(((adjusted[k] - adjusted[k].mean()) ** 2).sum() for k in ys)
    assert cuped["variance_reduction"] == pytest.approx(1 - pooled_adj / pooled)
    assert cuped["variance_reduction"] > 0.2
    welch = ttest_ind(adjusted["treatment"], adjusted["control"], equal_var=False)
    treatment = cuped["variants"][1]
    assert treatment["adjusted"]["p_value"] == pytest.approx(welch.pvalue, rel=1e-6)
    # The unadjusted figures stay the primary result.
    assert document["variants"][1]["mean"] == pytest.approx(ys["treatment"].mean())


def test_sequential_mode_is_stored_and_gives_always_valid_p_values(app):
    experiment = store.create_experiment(
        {
            "key": "always-valid",
            "model_type": "match_success",
            "unit": "company",
            "metric": "acceptance_rate",
            "sequential": True,
            "variants": [
                {"key": "control", "weight": 0.5},
                {"key": "treatment", "weight": 0.5},
            ],
        },
        actor=None,
    )
    assert experiment.sequential is True
    store.start(experiment, None)
    influencer = make_influencer("INF-CUPED")
    db.session.add(influencer)
    rule = AssignmentRule.of(experiment)
    for n in range(300):
        company = make_company(f"CO-SQ-{n}")
        db.session.add(company)
        db.session.flush()
        variant = assignment_for(rule, company.external_id)
        record_exposure(experiment.id, company.external_id)
        if n % (3 if variant == "treatment" else 5) == 0:
            accepted(influencer, company, f"SQ-{n}", utcnow() + timedelta(seconds=5))
    db.session.commit()
    safe = outcomes.results(experiment)
    experiment.sequential = False
    db.session.commit()
    plain = outcomes.results(experiment)
    assert (plain["sequential"], safe["sequential"]) == (False, True)
    assert [v["conversions"] for v in plain["variants"]] == [
        v["conversions"] for v in safe["variants"]
    ]
    assert safe["variants"][1]["p_value"] > plain["variants"][1]["p_value"]
    low, high = plain["variants"][1]["lift_abs_ci"]
    s_low, s_high = safe["variants"][1]["lift_abs_ci"]
    assert s_low < low and s_high > high  # a confidence sequence is wider


def test_interleaving_results_of_a_fresh_experiment_are_empty(app):
    experiment = store.create_experiment(
        {
            "key": "empty-il",
            "kind": "interleaving",
            "model_type": "match_success",
            "unit": "company",
            "metric": "success_rate",
            "variants": [{"key": "va"}, {"key": "vb"}],
        },
        actor=None,
    )
    document = outcomes.results(experiment)
    assert document["winner"] is None
    assert document["interleaving"]["units"] == 0
    assert [row["mean"] for row in document["variants"]] == [None, None]
    assert interleaving.preference({"a": 0, "b": 0}) is None


def test_a_brand_sees_the_interleaved_list_on_find_influencers(
    model_world, client, auth, make_user
):
    """The member's page shows the drafted list, the same on reload, and logs it."""
    experiment = start_interleaving(model_world)
    company = companies()[0]
    make_user("brand@example.com", company=company)
    auth.login("brand@example.com")
    first = client.get("/matches/influencers")
    assert first.status_code == 200
    again = client.get("/matches/influencers").get_data(as_text=True)
    shown = impressions(experiment)
    mine = [item for (unit, item) in shown if unit == company.external_id]
    assert mine and {shown[(company.external_id, i)] for i in mine} == {
        "model",
        "rules",
    }
    page = first.get_data(as_text=True)
    order = sorted(mine, key=page.index)
    assert order == sorted(mine, key=again.index)  # a reload shows the same list


def test_the_page_says_two_rankings_are_mixed(model_world, client, auth, make_user):
    start_interleaving(model_world)
    company = companies()[0]
    make_user("mixed@example.com", company=company)
    auth.login("mixed@example.com")
    page = client.get("/matches/influencers").get_data(as_text=True)
    assert "An experiment mixes two rankings in this list" in page
    assert "rule-based scorer" in page and "fallback-banner" not in page

"""match_success weighs measured serving cost and explains every model in one pass."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_match_success_plugin import no_progress, synthetic

from plugins.match_success.explanations import LinearExplainer
from plugins.match_success.plugin import MatchSuccessModel, make_estimator
from plugins.match_success.selection import choose_algorithm, serving_ms


def scores(**given):
    """Return candidate scores from ``name=(roc_auc, serving_ms)`` (Brier 0.2 each)."""
    return {
        name: {"roc_auc": auc, "brier": 0.2, "serving_ms": ms}
        for name, (auc, ms) in given.items()
    }


def test_measured_cost_picks_the_cheaper_candidate_within_the_tolerance():
    chosen, note = choose_algorithm(
        scores(
            logistic_regression=(0.8000, 0.4),
            random_forest=(0.8215, 9.0),
            gradient_boosting=(0.8201, 25.0),
            soft_voting=(0.8190, 40.0),
        )
    )
    # Gradient boosting is within 0.002 of the forest but measured dearer: the
    # measurement, not the expected order, decides.
    assert chosen == "random_forest" and note["best"] == "random_forest"
    assert note["cost_basis"].startswith("measured")
    assert note["serving_ms"]["gradient_boosting"] == 25.0
    chosen, note = choose_algorithm(
        scores(logistic_regression=(0.8200, 0.4), soft_voting=(0.8215, 40.0))
    )
    assert chosen == "logistic_regression" and note["best"] == "soft_voting"
    assert "cheaper to serve" in note["reason"] and "0.4 ms" in note["reason"]
    assert note["within_tolerance"] == ["logistic_regression", "soft_voting"]


def test_the_better_candidate_serves_when_the_gap_exceeds_the_tolerance():
    chosen, note = choose_algorithm(
        scores(logistic_regression=(0.8190, 0.4), soft_voting=(0.8215, 40.0))
    )
    assert chosen == "soft_voting"
    assert note["reason"].startswith("soft_voting had the best held-out ROC AUC")
    assert note["within_tolerance"] == ["soft_voting"]


def test_serving_cost_is_measured_in_one_thread_and_restores_n_jobs():
    data = synthetic(600)
    forest = make_estimator("random_forest").fit(data.X, data.y)
    linear = make_estimator("logistic_regression").fit(data.X, data.y)
    assert forest.n_jobs == 2
    assert serving_ms(forest, data.X[:500]) > serving_ms(linear, data.X[:500]) > 0
    assert forest.n_jobs == 2


@pytest.fixture(scope="module")
def fitted():
    """One auto fit (every candidate timed) and one random forest fit."""
    model = MatchSuccessModel()
    auto = model.fit(synthetic(), {"algorithm": "auto", "n_splits": 3}, no_progress)
    forest = model.fit(
        synthetic(), {"algorithm": "random_forest", "n_splits": 3}, no_progress
    )
    return model, auto, forest


def test_training_records_the_measured_cost_and_the_reason(fitted):
    _, auto, _ = fitted
    candidates = auto.metrics["candidates"]
    assert all(c["serving_ms"] > 0 for c in candidates.values())
    note = auto.metrics["selection"]
    assert note["chosen"] == auto.algorithm and note["reason"]
    assert note["serving_ms"] == {n: c["serving_ms"] for n, c in candidates.items()}
    as_good = note["within_tolerance"]
    assert auto.algorithm == min(as_good, key=lambda n: candidates[n]["serving_ms"])


def test_a_linear_model_is_explained_exactly_in_closed_form(fitted):
    model, auto, forest = fitted
    artifact = auto.artifact if auto.algorithm == "logistic_regression" else None
    if artifact is None:  # the auto fit chose another; fit the linear one
        artifact = model.fit(
            synthetic(),
            {"algorithm": "logistic_regression", "n_splits": 3},
            no_progress,
        ).artifact
    assert artifact.explainer.kind == "exact"
    rows = synthetic(40, seed=3).X
    _, fast = model.predict_and_explain(artifact, rows)
    substituted = model.predict_and_explain(
        dataclasses.replace(artifact, explainer=None, estimator=_Opaque(artifact)), rows
    )[1]
    np.testing.assert_allclose(fast, substituted, atol=1e-9)


class _Opaque:
    """The artifact's estimator behind predict_proba only (no closed form to find)."""

    def __init__(self, artifact) -> None:
        self.artifact = artifact

    def predict_proba(self, rows):
        p = self.artifact.estimator.predict_proba(rows)
        return p


def test_a_forest_is_explained_by_its_surrogate_in_one_model_call(fitted):
    model, _, forest = fitted
    artifact = forest.artifact
    explainer = artifact.explainer
    assert isinstance(explainer, LinearExplainer) and explainer.kind == "surrogate"
    explained = forest.metrics["explanations"]
    assert explained["method"] == "linear surrogate"
    assert (
        explained["fidelity_r2"] == explainer.fidelity and 0 < explainer.fidelity <= 1
    )
    calls = []
    original = artifact.member_probabilities

    def counted(rows):
        calls.append(len(rows))
        return original(rows)

    # The model's one entry point (scikit-learn or its compiled form).
    artifact.member_probabilities = counted
    try:
        rows = synthetic(50, seed=5).X
        predictions, contributions = model.predict_and_explain(artifact, rows)
    finally:
        del artifact.member_probabilities
    assert calls == [50]  # the rows once, never once per feature
    assert contributions.shape == rows.shape and np.all(np.isfinite(contributions))
    # The label depends on features 0 and 3; noise features matter less.
    strength = np.abs(contributions).mean(axis=0)
    assert strength[0] > strength[10] and strength[3] > strength[10]
    assert np.array_equal(predictions.score, model.predict(artifact, rows).score)

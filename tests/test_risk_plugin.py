"""The risk plugin on synthetic data, without the app: scores, factors, blend, rules."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.risk.artifact import FACTOR_NAMES
from plugins.risk.plugin import RiskModel
from plugins.risk.rules import rule_based
from webapp.learning.feature_sets import names
from webapp.model_types import TrainingData, TrainingFailed

NAMES = names("pair_checks")
COLUMN = {name: j for j, name in enumerate(NAMES)}


def synthetic(n: int, seed: int, failure_signal: float = 1.0) -> TrainingData:
    """Pair rows whose failures come with slow replies, bought audiences and spikes."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.3, size=(n, len(NAMES)))
    X[:, COLUMN["log_followers"]] = rng.uniform(3, 6, n)
    # Engagement falls with audience size, as it does on real platforms.
    X[:, COLUMN["log_engagement"]] = (
        -1.0 - 0.2 * X[:, COLUMN["log_followers"]] + rng.normal(0, 0.1, n)
    )
    X[:, COLUMN["log_response_hours"]] = np.log(rng.uniform(1, 24, n))
    X[:, COLUMN["log_follower_growth"]] = rng.normal(0.02, 0.02, n)
    X[:, COLUMN["influencer_success_rate"]] = rng.uniform(0.3, 0.8, n)
    bad = rng.random(n) < 0.15
    # Failed collaborations: one warning sign each, of three kinds.
    kind = rng.integers(0, 3, n)
    X[bad & (kind == 0), COLUMN["log_response_hours"]] += failure_signal * 2.0
    X[bad & (kind == 1), COLUMN["log_engagement"]] += failure_signal * 0.8
    X[bad & (kind == 2), COLUMN["log_follower_growth"]] += failure_signal * 1.0
    days = np.sort(rng.integers(0, 1000, n)).astype("timedelta64[D]")
    times = (np.datetime64("2022-01-01") + days).astype("datetime64[D]")
    return TrainingData(
        X=X, y=bad.astype(int), feature_names=NAMES, times=times, target="risk"
    )


def no_progress(fraction: float, stage: str) -> None:
    assert 0.0 <= fraction <= 1.0


@pytest.fixture(scope="module")
def trained():
    data = synthetic(3000, seed=1)
    return data, RiskModel().fit(data, {"n_splits": 3}, no_progress)


def test_scores_are_percentiles_with_levels_and_named_factors(trained):
    _, result = trained
    fresh = synthetic(400, seed=2)
    p = RiskModel().predict(result.artifact, fresh.X)
    assert p.score.shape == (400,) and np.all((p.score >= 0) & (p.score <= 100))
    assert set(p.level) <= {"low", "medium", "high"}
    assert p.factor_names == FACTOR_NAMES
    assert p.factors.shape == p.factor_values.shape == (400, len(FACTOR_NAMES))
    assert np.all(p.factors >= 0)
    # Held-out failures score higher than collaborations that went well.
    assert p.score[fresh.y == 1].mean() > p.score[fresh.y == 0].mean() + 20


def test_one_row_alone_and_inside_a_batch_gets_the_same_answer(trained):
    _, result = trained
    batch = synthetic(300, seed=3).X
    together = RiskModel().predict(result.artifact, batch)
    for i in (0, 17, 299):
        alone = RiskModel().predict(result.artifact, batch[i : i + 1])
        assert alone.score[0] == together.score[i]
        assert alone.level[0] == together.level[i]
        np.testing.assert_array_equal(alone.factors[0], together.factors[i])
    # A batch of extreme rows does not move an ordinary row's answer either.
    extreme = batch.copy()
    extreme[:, COLUMN["log_response_hours"]] += 5
    mixed = np.vstack([extreme[:50], batch[:1]])
    assert RiskModel().predict(result.artifact, mixed).score[-1] == together.score[0]


@pytest.mark.parametrize(
    ("column", "shift", "factor"),
    [
        ("log_engagement", 1.0, "engagement_for_audience"),
        ("log_follower_growth", 1.5, "log_follower_growth"),
        ("log_response_hours", 3.0, "log_response_hours"),
    ],
)
def test_implausible_profiles_are_named_as_the_top_factor(
    trained, column, shift, factor
):
    _, result = trained
    rows = synthetic(200, seed=4).X
    rows = rows[synthetic(200, seed=4).y == 0][:20]
    odd = rows.copy()
    odd[:, COLUMN[column]] += shift
    before = RiskModel().predict(result.artifact, rows)
    after = RiskModel().predict(result.artifact, odd)
    assert np.mean(after.score) > np.mean(before.score) + 20
    top = [FACTOR_NAMES[j] for j in np.argmax(after.factors, axis=1)]
    assert top.count(factor) >= 18


def test_metrics_report_both_aucs_held_out_and_the_served_choice(trained):
    _, result = trained
    m = result.metrics
    assert m["roc_auc_unsupervised"] > 0.7
    assert m["roc_auc_blended"] is not None and m["roc_auc_blended"] > 0.7
    assert m["served"] in ("anomaly", "blended")
    assert m["roc_auc"] == (
        m["roc_auc_blended"] if m["served"] == "blended" else m["roc_auc_unsupervised"]
    )
    assert len(m["folds"]) == 3 and all(f["classifier"] for f in m["folds"])
    assert {c["key"] for c in m["charts"]} == {"risk_distribution", "factor_frequency"}
    assert result.algorithm.startswith("isolation_forest")


def test_without_enough_failures_the_anomaly_score_serves_alone():
    data = synthetic(1500, seed=5)
    result = RiskModel().fit(data, {"n_splits": 3, "min_failures": 5000}, no_progress)
    assert result.metrics["served"] == "anomaly"
    assert result.metrics["roc_auc_blended"] is None
    assert result.artifact.classifier is None
    assert "anomaly score serves alone" in result.metrics["selection"]["reason"]


def test_unlabelled_rows_are_never_scored_as_outcomes():
    data = synthetic(1500, seed=6)
    data.labelled = np.random.default_rng(0).random(1500) < 0.7
    result = RiskModel().fit(data, {"n_splits": 3}, no_progress)
    assert result.metrics["samples"] == int(data.labelled.sum())
    assert result.metrics["unlabelled"] == 1500 - int(data.labelled.sum())


def test_too_few_rows_fail_with_a_reason():
    with pytest.raises(TrainingFailed):
        RiskModel().fit(synthetic(40, seed=7), {"n_splits": 3}, no_progress)


def test_the_rule_based_fallback_names_its_rules():
    rows = synthetic(5, seed=8).X
    rows[:, COLUMN["influencer_success_rate"]] = 0.6
    rows[:, COLUMN["company_success_rate"]] = 0.6
    rows[:, COLUMN["budget_shortfall"]] = 0.0
    calm = rule_based(rows.copy())
    assert np.all(calm.score == 10) and set(calm.level) == {"low"}
    rows[0, COLUMN["log_follower_growth"]] = np.log(3.0)
    rows[0, COLUMN["log_response_hours"]] = np.log(96.0)
    rows[0, COLUMN["log_engagement"]] = np.log10(0.3)
    alarmed = rule_based(rows)
    assert alarmed.score[0] == 80 and alarmed.level[0] == "medium"
    named = {FACTOR_NAMES[j] for j in np.flatnonzero(alarmed.factors[0])}
    assert named == {
        "log_follower_growth",
        "log_response_hours",
        "engagement_for_audience",
    }
    nan = rule_based(np.full((1, len(NAMES)), np.nan))
    assert nan.score[0] == 10


def test_taking_rows_keeps_their_labels_times_and_mask():
    data = synthetic(50, seed=9)
    data.labelled = np.arange(50) % 3 != 0
    part = data.take(np.arange(10, 30))
    assert part.X.shape == (20, len(NAMES)) and part.feature_names == NAMES
    np.testing.assert_array_equal(part.labelled, data.labelled[10:30])
    np.testing.assert_array_equal(part.label_times, data.label_times[10:30])
    np.testing.assert_array_equal(part.y, data.y[10:30])

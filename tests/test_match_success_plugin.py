"""The match_success plugin on synthetic data: no app, no database."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.match_success.artifact import Calibrator
from plugins.match_success.evaluation import expected_calibration_error
from plugins.match_success.plugin import (
    AUC_TOLERANCE,
    SERVING_COST_ORDER,
    MatchSuccessModel,
    choose_algorithm,
    decide_calibration,
    make_estimator,
)
from webapp.learning.features import FEATURE_NAMES
from webapp.model_types import TrainingData, TrainingFailed

N_FEATURES = len(FEATURE_NAMES)


def synthetic(n: int = 1500, seed: int = 0, signal: float = 1.0) -> TrainingData:
    """Rows in time order whose label depends on two features (or not, with signal=0)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_FEATURES))
    logit = signal * (1.5 * X[:, 0] - 1.0 * X[:, 3] + 0.8 * X[:, 0] * X[:, 5])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    times = np.datetime64("2025-01-01") + np.sort(rng.integers(0, 400, n)).astype(
        "timedelta64[D]"
    )
    return TrainingData(
        X=X, y=y, feature_names=list(FEATURE_NAMES), times=times, target="success"
    )


def no_progress(fraction: float, stage: str) -> None:
    assert 0.0 <= fraction <= 1.0 and stage


@pytest.mark.parametrize(
    "algorithm",
    ["logistic_regression", "random_forest", "gradient_boosting", "soft_voting"],
)
def test_each_algorithm_trains_and_predicts(algorithm):
    model = MatchSuccessModel()
    result = model.fit(
        synthetic(), {"algorithm": algorithm, "n_splits": 3}, no_progress
    )
    assert result.algorithm == algorithm
    assert result.metrics["roc_auc"] > 0.7
    rows = synthetic(n=20, seed=9).X
    predictions = model.predict(result.artifact, rows)
    assert predictions.score.shape == (20,)
    assert np.all((predictions.score >= 0) & (predictions.score <= 1))
    assert np.all((predictions.confidence >= 0) & (predictions.confidence <= 1))
    # No interval is served (none measured honest); rows far outside the training
    # range have less support, and get less confidence overall, than the same
    # rows inside it (row by row the scores differ too, so their uncertainty).
    assert predictions.interval is None
    far = rows * 50
    assert np.all(result.artifact.support(far) < result.artifact.support(rows))
    outside = model.predict(result.artifact, far).confidence
    assert outside.mean() < predictions.confidence.mean()
    contributions = model.explain(result.artifact, rows)
    assert contributions.shape == (20, N_FEATURES)
    # The features the label depends on matter more than pure noise features.
    assert np.abs(contributions[:, 0]).mean() > np.abs(contributions[:, 10]).mean()


def scores(**auc):
    """Return candidate scores with these ROC AUCs (Brier 0.2 each)."""
    return {name: {"roc_auc": value, "brier": 0.2} for name, value in auc.items()}


def test_selection_prefers_the_cheaper_candidate_within_the_tolerance():
    chosen, note = choose_algorithm(
        scores(logistic_regression=0.8200, soft_voting=0.8215, random_forest=0.8190)
    )
    assert chosen == "logistic_regression" and note["best"] == "soft_voting"
    assert "cheaper to serve" in note["reason"]


def test_selection_keeps_the_best_when_the_gap_exceeds_the_tolerance():
    chosen, note = choose_algorithm(
        scores(logistic_regression=0.8190, soft_voting=0.8215, gradient_boosting=0.8212)
    )
    assert chosen == "gradient_boosting"
    assert choose_algorithm(scores(logistic_regression=0.81, soft_voting=0.8215), 0)[
        0
    ] == ("soft_voting")


def test_auto_selection_records_every_candidate_and_picks_the_cheapest_as_good():
    result = MatchSuccessModel().fit(
        synthetic(), {"algorithm": "auto", "n_splits": 3}, no_progress
    )
    candidates = result.metrics["candidates"]
    assert set(candidates) == {
        "logistic_regression",
        "random_forest",
        "gradient_boosting",
        "soft_voting",
    }
    best = max(c["roc_auc"] for c in candidates.values())
    assert candidates[result.algorithm]["roc_auc"] >= best - AUC_TOLERANCE
    note = result.metrics["selection"]
    assert note["chosen"] == result.algorithm and note["best_roc_auc"] == round(best, 6)
    cheaper = SERVING_COST_ORDER[: SERVING_COST_ORDER.index(result.algorithm)]
    assert all(candidates[n]["roc_auc"] < best - AUC_TOLERANCE for n in cheaper)
    assert all(len(c["fold_roc_auc"]) == 3 for c in candidates.values())
    for key in (
        "roc_auc",
        "pr_auc",
        "brier",
        "log_loss",
        "accuracy",
        "ece",
        "importance",
        "curves",
    ):
        assert key in result.metrics
    assert result.metrics["importance"][0]["feature"] in (
        FEATURE_NAMES[0],
        FEATURE_NAMES[3],
    )


def test_metrics_come_from_held_out_windows_not_training_rows():
    """On labels that are pure noise a forest memorises its training rows (AUC near 1)
    but held-out metrics stay near chance; stored metrics must be the held-out ones."""
    data = synthetic(n=1200, signal=0.0)
    result = MatchSuccessModel().fit(
        data, {"algorithm": "random_forest", "n_splits": 3}, no_progress
    )
    raw = result.artifact.member_probabilities(data.X).mean(axis=0)
    train_auc = _auc(data.y, raw)
    assert train_auc > 0.75
    assert result.metrics["roc_auc"] < 0.6
    for fold in result.metrics["folds"]:
        assert fold["valid_from"] >= str(data.times[0])[:10]


def test_validation_windows_only_train_on_labels_known_before_them():
    data = synthetic(n=600)
    # Labels all become known at the very end: no window has usable training rows.
    data.label_times = np.full(
        len(data.y), np.datetime64("2030-01-01"), dtype="datetime64[s]"
    )
    with pytest.raises(TrainingFailed, match="two time windows"):
        MatchSuccessModel().fit(data, {"algorithm": "logistic_regression"}, no_progress)


def test_single_class_fails_with_a_clear_message():
    data = synthetic(n=300)
    data.y[:] = 1
    with pytest.raises(TrainingFailed, match="same outcome"):
        MatchSuccessModel().fit(data, {}, no_progress)


def test_calibration_is_kept_only_when_it_beats_the_uncalibrated_pipeline():
    rng = np.random.default_rng(8)
    n = 4000
    truth = rng.random(n)
    y = (rng.random(n) < truth).astype(int)
    a, b = np.arange(n // 2), np.arange(n // 2, n)
    # Scores squeezed toward the middle (as forests do): calibration repairs them.
    squeezed = 0.5 + 0.3 * (truth - 0.5)
    method, evidence = decide_calibration(
        y[a], squeezed[a], y[b], squeezed[b], squeezed[b], {}
    )
    assert method in ("isotonic", "sigmoid")
    assert evidence["brier_calibrated"] < evidence["brier_uncalibrated"]
    # Already calibrated scores from a fresher model are left alone.
    method, evidence = decide_calibration(
        y[a], squeezed[a], y[b], squeezed[b], truth[b], {}
    )
    assert method is None and evidence["decision"].endswith("rejected")
    # And "calibration: none" is obeyed.
    assert (
        decide_calibration(
            y[a], squeezed[a], y[b], squeezed[b], squeezed[b], {"calibration": "none"}
        )[0]
        is None
    )


SQUEEZING = {"algorithm": "random_forest", "n_splits": 3}


def drifting(n: int = 2500) -> TrainingData:
    """Rows whose success rate rises over time: a recent calibrator beats a fresher model."""
    data = synthetic(n=n, seed=2)
    logit = 3 * data.X[:, 0] - 2 * data.X[:, 3] + np.linspace(-2, 2, n)
    rng = np.random.default_rng(3)
    data.y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return data


def rounded(value, digits: int = 12):
    """``value`` with every float rounded, through nested dicts and lists."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {key: rounded(item, digits) for key, item in value.items()}
    if isinstance(value, list):
        return [rounded(item, digits) for item in value]
    return value


def scores_only(candidates: dict) -> dict:
    """The candidates' held-out scores (rounded), without their measured serving times."""
    return {
        name: rounded({k: v for k, v in figures.items() if k != "serving_ms"})
        for name, figures in candidates.items()
    }


def test_the_final_window_plays_no_part_in_choosing():
    """Planting other labels in the final window changes its score but not one
    choice: algorithm, candidate scores and the calibration decision stay put."""
    data = synthetic(n=2000, seed=4)
    params = {"algorithm": "auto", "n_splits": 2}
    before = MatchSuccessModel().fit(data, params, no_progress)
    final = data.time_folds(3)[-1][1]
    assert len(final) == before.metrics["windows"]["final"]["rows"]
    planted = synthetic(n=2000, seed=4)
    rng = np.random.default_rng(1)
    planted.y[final] = rng.permutation(planted.y[final])
    after = MatchSuccessModel().fit(planted, params, no_progress)
    assert after.algorithm == before.algorithm
    # Equal up to float summation order (threads may add in another order); the
    # measured serving times are timings, different in every fit.
    assert scores_only(after.metrics["candidates"]) == scores_only(
        before.metrics["candidates"]
    )
    assert rounded(after.metrics["windows"]["calibration"]) == rounded(
        before.metrics["windows"]["calibration"]
    )
    assert after.metrics["calibration_method"] == before.metrics["calibration_method"]
    # The final window did score: shuffled labels there drop its ROC AUC to chance.
    assert before.metrics["roc_auc"] > 0.7 and after.metrics["roc_auc"] < 0.6
    selection = before.metrics["windows"]["selection"]
    assert selection["to"] <= before.metrics["windows"]["final"]["from"]


def test_reported_metrics_reproduce_from_a_fit_that_never_saw_the_final_window():
    data = drifting()
    result = MatchSuccessModel().fit(data, SQUEEZING, no_progress)
    assert result.metrics["calibration_method"] in ("isotonic", "sigmoid")
    windows = data.time_folds(4)
    (train, last), (_, final) = windows[-2], windows[-1]
    assert final[0] > last[-1] > train[-1]
    # The reported pipeline, rebuilt from rows before the final window only.
    estimator = make_estimator("random_forest").fit(data.X[train], data.y[train])
    calibrator = Calibrator(result.metrics["calibration_method"]).fit(
        estimator.predict_proba(data.X[last])[:, 1], data.y[last]
    )
    p = calibrator.transform(estimator.predict_proba(data.X[final])[:, 1])
    assert result.metrics["brier"] == pytest.approx(np.mean((p - data.y[final]) ** 2))
    assert result.metrics["windows"]["final"]["rows"] == len(final)


def test_the_served_calibrator_was_fitted_on_the_served_estimator():
    data = drifting()
    artifact = MatchSuccessModel().fit(data, SQUEEZING, no_progress).artifact
    final = data.time_folds(4)[-1][1]
    raw = artifact.member_probabilities(data.X[final]).mean(axis=0)
    refit = Calibrator(artifact.calibrator.method).fit(raw, data.y[final])
    np.testing.assert_allclose(artifact.calibrate(raw), refit.transform(raw))


def test_calibration_never_inverts_the_ranking():
    from plugins.match_success.artifact import Calibrator

    p = np.linspace(0.05, 0.95, 200)
    y = (p < 0.5).astype(int)  # scores that run against the outcomes
    calibrated = Calibrator("sigmoid").fit(p, y).transform(p)
    assert np.all(np.diff(calibrated) >= 0)


def test_expected_calibration_error_is_zero_for_perfect_bins():
    y = np.array([0, 1, 0, 1])
    p = np.array([0.5, 0.5, 0.5, 0.5])
    assert expected_calibration_error(y, p) == pytest.approx(0.0)
    assert expected_calibration_error(
        np.array([1, 1]), np.array([0.1, 0.1])
    ) == pytest.approx(0.9)


def _auc(y, p):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(y, p)


def test_numpy_serving_path_equals_sklearn():
    # Serving evaluates a scaled logistic regression and both calibrators with
    # numpy; the answers are sklearn's own.
    from sklearn.ensemble import RandomForestClassifier

    from plugins.match_success.artifact import Calibrator, _positive, linear_parts
    from plugins.match_success.plugin import make_estimator

    rng = np.random.default_rng(4)
    X = rng.normal(size=(600, 6)) * [1, 10, 100, 0.1, 5, 2] + [0, 5, -50, 1, 0, 3]
    y = (X[:, 0] + X[:, 1] / 10 + rng.normal(size=600) > 0.5).astype(int)
    model = make_estimator("logistic_regression").fit(X, y)
    assert linear_parts(model) is not None
    assert np.allclose(_positive(model, X), model.predict_proba(X)[:, 1], atol=1e-12)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    assert linear_parts(forest) is None
    assert np.array_equal(_positive(forest, X), forest.predict_proba(X)[:, 1])
    raw = model.predict_proba(X)[:, 1]
    for method in ("isotonic", "sigmoid"):
        calibrator = Calibrator(method).fit(raw[:400], y[:400])
        inner = calibrator._model
        if calibrator.method == "isotonic":
            expected = np.clip(inner.predict(raw[400:]), 1e-6, 1 - 1e-6)
        else:
            logit = np.log(np.clip(raw[400:], 1e-6, 1 - 1e-6))
            logit -= np.log(1 - np.clip(raw[400:], 1e-6, 1 - 1e-6))
            expected = inner.predict_proba(logit[:, None])[:, 1]
        assert np.allclose(calibrator.transform(raw[400:]), expected, atol=1e-12)

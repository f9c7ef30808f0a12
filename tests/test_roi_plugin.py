"""The roi plugin on synthetic data, without the app: fit, predict, honest intervals."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.roi.plugin import RoiModel, split_for_calibration
from webapp.model_types import Interval, TrainingData, TrainingFailed

NAMES = [f"f{i}" for i in range(5)]


def synthetic(n: int, seed: int) -> TrainingData:
    """ROI that depends on f0 and f2, noisier where f1 > 0 (so widths should adapt)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(NAMES)))
    noise = np.where(X[:, 1] > 0, 0.4, 0.1)
    y = 0.2 + 0.3 * X[:, 0] - 0.1 * X[:, 2] ** 2 + rng.normal(size=n) * noise
    days = np.sort(rng.integers(0, 1000, n)).astype("timedelta64[D]")
    times = (np.datetime64("2022-01-01") + days).astype("datetime64[D]")
    return TrainingData(X=X, y=y, feature_names=NAMES, times=times, target="roi")


def no_progress(fraction: float, stage: str) -> None:
    assert 0.0 <= fraction <= 1.0


@pytest.fixture(scope="module")
def trained():
    data = synthetic(2400, seed=1)
    params = {"algorithm": "gradient_boosting", "n_splits": 3, "coverage": 0.8}
    return data, RoiModel().fit(data, params, no_progress)


def test_fits_and_predicts_expected_roi_with_an_interval(trained):
    data, result = trained
    fresh = synthetic(500, seed=2)
    predictions = RoiModel().predict(result.artifact, fresh.X)
    assert predictions.score.shape == (500,)
    assert isinstance(predictions.interval, Interval)
    assert predictions.interval.level == 0.8
    assert np.all(predictions.interval.low <= predictions.score)
    assert np.all(predictions.score <= predictions.interval.high)
    # The point estimate explains most of the signal on rows it never saw.
    truth = 0.2 + 0.3 * fresh.X[:, 0] - 0.1 * fresh.X[:, 2] ** 2
    assert np.corrcoef(predictions.score, truth)[0, 1] > 0.9


def test_stores_held_out_regression_and_interval_metrics(trained):
    _, result = trained
    metrics = result.metrics
    for key in ("r2", "mae", "rmse", "coverage", "mean_width", "band_30_coverage"):
        assert np.isfinite(metrics[key]), key
    assert "roc_auc" not in metrics
    assert metrics["nominal_coverage"] == 0.8
    assert len(metrics["folds"]) == 3
    for fold in metrics["folds"]:
        assert {"r2", "mae", "coverage", "mean_width", "valid_from"} <= fold.keys()
    assert {c["key"] for c in metrics["charts"]} == {"roi_intervals", "coverage"}
    assert result.metrics["r2"] > 0.4


def test_cqr_widths_follow_the_noise(trained):
    _, result = trained
    fresh = synthetic(2000, seed=3)
    predictions = RoiModel().predict(result.artifact, fresh.X)
    width = predictions.interval.high - predictions.interval.low
    noisy = fresh.X[:, 1] > 0
    if result.artifact.interval_method == "cqr":
        assert width[noisy].mean() > 2 * width[~noisy].mean()
    else:  # split conformal: one width for every row
        assert np.ptp(width) < 1e-9


@pytest.mark.slow
@pytest.mark.parametrize("method", ["cqr", "split"])
def test_conformal_coverage_is_within_three_points_of_nominal(method):
    data = synthetic(6000, seed=4)
    params = {"algorithm": "ridge", "interval_method": method, "n_splits": 2}
    result = RoiModel().fit(data, params, no_progress)
    fresh = synthetic(40000, seed=5)
    interval = RoiModel().predict(result.artifact, fresh.X).interval
    covered = np.mean((fresh.y >= interval.low) & (fresh.y <= interval.high))
    assert abs(covered - 0.9) <= 0.03
    # The stored held-out coverage tells the same story.
    assert abs(result.metrics["coverage"] - 0.9) <= 0.03


def test_calibration_rows_come_after_the_fit_rows_and_their_labels():
    data = synthetic(400, seed=6)
    # The first rows' labels arrive late: after the calibration window starts.
    late = data.times.astype("datetime64[s]").copy()
    late[:10] = data.times[-1].astype("datetime64[s]")
    data.label_times = late
    proper, calibration = split_for_calibration(data, np.arange(400), 0.9)
    assert len(calibration) == 100
    assert data.times[proper].max() <= data.times[calibration].min()
    assert not set(range(10)) & set(proper.tolist())


def test_too_little_history_is_a_training_failure():
    with pytest.raises(TrainingFailed):
        RoiModel().fit(synthetic(60, seed=7), {}, no_progress)

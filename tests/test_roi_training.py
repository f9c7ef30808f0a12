"""roi trains through the real queue (CLI --wait), lands in the registry, and shows on its page."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_training_queue import PROJECT, worker_environment
from training_helpers import seed_small_world, train_roi_version

from webapp.extensions import db
from webapp.models import ModelVersion, TrainingRun


@pytest.mark.queue
def test_train_roi_waits_for_a_real_worker(app, redis, runner):
    seed_small_world()
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=PROJECT,
        env=worker_environment(app, MIN_TRAINING_SAMPLES=50),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        result = runner.invoke(
            args=[
                "train",
                "roi",
                "--wait",
                *("--param", "coverage=0.8"),
                *("--param", "algorithm=ridge"),
                *("--param", "n_splits=3"),
                *("--timeout", "300"),
            ]
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert result.exit_code == 0, result.output
    assert "succeeded: roi v1 (active)" in result.output
    run = db.session.scalars(db.select(TrainingRun)).one()
    assert run.model_type == "roi" and run.trigger == "cli"
    assert run.status == "succeeded" and run.progress == 1.0
    assert run.params["coverage"] == 0.8
    version = db.session.get(ModelVersion, run.version_id)
    metrics = version.metrics
    assert metrics["nominal_coverage"] == 0.8
    assert {"r2", "mae", "coverage", "mean_width", "band_30_coverage"} <= set(metrics)
    assert "roc_auc" not in metrics
    assert len(metrics["folds"]) == 3
    assert version.algorithm.startswith("ridge + ")
    assert version.sample_count > 300


def test_train_roi_rejects_a_coverage_outside_its_range(app, redis, runner):
    result = runner.invoke(args=["train", "roi", "--param", "coverage=1.5"])
    assert result.exit_code != 0
    assert "coverage" in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(TrainingRun)) == 0


def test_the_model_page_shows_regression_metrics_and_interval_charts(
    app, client, auth, make_user
):
    seed_small_world()
    version = train_roi_version()
    make_user("roi-models@example.com", role="admin")
    auth.login("roi-models@example.com")
    page = client.get("/models/roi").get_data(as_text=True)
    for header in ("R²", "MAE", "Coverage", "Mean width"):
        assert f">{header}" in page, header
    assert "ROC AUC" not in page and "Brier" not in page
    assert "No ROC curve stored" not in page
    assert 'id="chart-roi_intervals"' in page and 'id="chart-coverage"' in page
    assert "Mean MAE" in page  # model selection by regression scores
    assert f"{version.metrics['nominal_coverage']:.0%}".replace("%", " %") in page


def test_a_roi_version_with_a_higher_mae_is_a_regression(app):
    from webapp.registry import versions

    def version(number: int, mae: float) -> ModelVersion:
        row = ModelVersion(
            model_type="roi",
            version=number,
            status="active" if number == 1 else "candidate",
            algorithm="ridge + cqr",
            metrics={"mae": mae, "r2": 0.3},
            artifact_path=f"roi/v{number}.joblib",
            sha256="0" * 64,
            size_bytes=1,
        )
        db.session.add(row)
        db.session.commit()
        return row

    active = version(1, mae=0.40)
    worse, better = version(2, mae=0.45), version(3, mae=0.35)
    found = versions.regression(worse, active)
    assert found is not None and "worse held-out MAE (0.450)" in found.message()
    assert versions.regression(better, active) is None

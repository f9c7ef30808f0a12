"""Helpers for tests that need a seeded marketplace and real trained model versions."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from webapp.extensions import db
from webapp.marketplace import demo
from webapp.models import ModelVersion, TrainingRun

# Fast settings: one algorithm, three time windows (a few seconds per version).
FAST_PARAMS = {"algorithm": "logistic_regression", "n_splits": 3, "calibration": "auto"}


def seed_small_world() -> None:
    """Seed 150 influencers, 20 brands and 1,200 collaborations (seed 3)."""
    demo.seed_world(
        n_influencers=150,
        n_companies=20,
        n_collaborations=1200,
        seed=3,
        progress=lambda fraction, stage: None,
    )
    current_app.config["MIN_TRAINING_SAMPLES"] = 50


def train_version(params: dict | None = None) -> ModelVersion:
    """Commit a queued run and train it in-process, as the worker would; return the version."""
    from workers.training import train_model

    run = TrainingRun(model_type="match_success", params=params or FAST_PARAMS)
    db.session.add(run)
    db.session.commit()
    version_id = train_model(run.id)
    return db.session.get(ModelVersion, version_id)


# Fast roi settings: one regressor, two time windows, CQR intervals at 90 %.
FAST_ROI_PARAMS = {
    "algorithm": "ridge",
    "interval_method": "cqr",
    "n_splits": 2,
    "coverage": 0.9,
}


def train_roi_version(params: dict | None = None) -> ModelVersion:
    """Train a roi version in-process, as the worker would; return it."""
    from workers.training import train_model

    run = TrainingRun(model_type="roi", params=params or FAST_ROI_PARAMS)
    db.session.add(run)
    db.session.commit()
    return db.session.get(ModelVersion, train_model(run.id))


# What a version row needs besides its type, number and status to serve again.
SERVED_COLUMNS = (
    "algorithm",
    "feature_names",
    "artifact_path",
    "sha256",
    "size_bytes",
    "sample_count",
    "metrics",
)


def serve_trained_once(cache: dict, params: dict | None = None) -> ModelVersion:
    """Serve a match_success version trained with ``params``, trained once per ``cache``.

    The first call trains it (on the world already seeded) and keeps its
    artifact bytes and row in ``cache`` (a module's dict); later calls, in
    later tests, write the same artifact and row again as the active v1, so a
    module trains once.
    """
    from webapp import serving

    model_dir = Path(current_app.config["MODEL_DIR"])
    if not cache:
        version = train_version(params)
        cache.update(
            data=(model_dir / version.artifact_path).read_bytes(),
            row={column: getattr(version, column) for column in SERVED_COLUMNS},
        )
        return version
    path = model_dir / cache["row"]["artifact_path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cache["data"])
    version = ModelVersion(
        model_type="match_success", version=1, status="active", **cache["row"]
    )
    db.session.add(version)
    db.session.commit()
    serving.serving_state().clear()
    return version

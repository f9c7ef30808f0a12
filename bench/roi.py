"""ROI intervals on a seeded demo world: held-out coverage and width, and training time.

``python -m bench.roi`` runs this part alone on a 20k world (``--quick``: 2.6k).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.metrics import mean_absolute_error, r2_score
from sqlalchemy import select
from threadpoolctl import threadpool_limits

from webapp.extensions import db
from webapp.learning import training_data
from webapp.model_types import installed_types
from webapp.models import DemoGroundTruth, ModelVersion, TrainingRun
from workers.training import train_model

NOMINAL = 0.9
BAND = 0.30


def time_training(app) -> dict[str, Any]:
    """Train roi with model and interval selection through the job function; time it."""
    run = TrainingRun(model_type="roi", params={"coverage": NOMINAL})
    db.session.add(run)
    db.session.commit()
    started = time.perf_counter()
    version = db.session.get(ModelVersion, train_model(run.id))
    seconds = time.perf_counter() - started
    metrics = version.metrics
    return {
        "seconds": round(seconds, 2),
        "samples": version.sample_count,
        "algorithm": version.algorithm,
        **{
            f"cv_{key}": round(metrics[key], 4)
            for key in ("r2", "mae", "coverage", "mean_width", "band_30_coverage")
        },
    }


def holdout(app, holdout_days: int = 90) -> dict[str, Any]:
    """Train on ROIs known before a cutoff; judge intervals on collaborations proposed after.

    Next to the conformal interval: a fixed band of ±30 points around the same
    point estimate, a ±30 % band relative to it, and the best achievable R²
    (the demo's hidden expected ROI as the prediction).
    """
    data = training_data.build("roi", app.config)
    cutoff = data.times.max() - np.timedelta64(holdout_days, "D")
    known = (data.times < cutoff) & (data.label_times.astype("datetime64[D]") < cutoff)
    later = np.flatnonzero(data.times >= cutoff)
    plugin = installed_types(app).get("roi")
    started = time.perf_counter()
    with threadpool_limits(limits=int(app.config["TRAINING_THREADS"])):
        result = plugin.fit(
            data.take(np.flatnonzero(known)),
            {"coverage": NOMINAL},
            lambda f, s: None,
        )
    seconds = time.perf_counter() - started
    predictions = plugin.predict(result.artifact, data.X[later])
    y, point = data.y[later], predictions.score
    low, high = predictions.interval.low, predictions.interval.high
    width = high - low
    truth = dict(
        db.session.execute(
            select(DemoGroundTruth.collaboration_id, DemoGroundTruth.expected_roi)
        ).all()
    )
    best = np.array([truth[i] for i in data.row_ids[later]])
    return {
        "train_rows": int(known.sum()),
        "holdout_rows": int(len(later)),
        "holdout_from": str(cutoff)[:10],
        "fit_seconds": round(seconds, 2),
        "algorithm": result.algorithm,
        "nominal_coverage": NOMINAL,
        "coverage": round(float(np.mean((y >= low) & (y <= high))), 4),
        "mean_width": round(float(np.mean(width)), 4),
        "width_p10_p90": [round(float(q), 4) for q in np.quantile(width, [0.1, 0.9])],
        "band_30_points_coverage": round(float(np.mean(np.abs(y - point) <= BAND)), 4),
        "band_30_points_width": 2 * BAND,
        "band_30_percent_coverage": round(
            float(np.mean(np.abs(y - point) <= BAND * np.abs(point))), 4
        ),
        "r2": round(float(r2_score(y, point)), 4),
        "mae": round(float(mean_absolute_error(y, point)), 4),
        "best_achievable_r2": round(float(r2_score(y, best)), 4),
    }


def run(app) -> dict[str, Any]:
    """Return the held-out interval figures and the training time on ``app``'s world."""
    return {"holdout": holdout(app), "training": time_training(app)}


def main() -> None:
    """Seed a world and print this benchmark's figures as JSON."""
    from bench import worlds

    worlds.run_alone(run, __doc__)


if __name__ == "__main__":
    main()

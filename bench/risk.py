"""Risk scores on a seeded demo world: held-out ROC AUC for failures, and training time.

The model is trained on collaborations whose outcome was known before a cutoff
and judged on those proposed after it: ROC AUC of the anomaly score alone, of
the blend with the failure classifier, and of the score served, for failed
collaborations (cancelled, disputed or rated 2 or less); failure rate per level.

``python -m bench.risk`` runs this part alone on a 20k world (``--quick``: 2.6k).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from webapp.extensions import db
from webapp.learning import training_data
from webapp.model_types import installed_types
from webapp.models import ModelVersion, TrainingRun
from workers.training import train_model


def time_training(app) -> dict[str, Any]:
    """Train risk through the job function with its default parameters; time it."""
    run = TrainingRun(model_type="risk", params={})
    db.session.add(run)
    db.session.commit()
    started = time.perf_counter()
    version = db.session.get(ModelVersion, train_model(run.id))
    seconds = time.perf_counter() - started
    m = version.metrics
    return {
        "seconds": round(seconds, 2),
        "samples": version.sample_count,
        "algorithm": version.algorithm,
        "served": m["served"],
        "cv_roc_auc": _round(m["roc_auc"]),
        "cv_roc_auc_unsupervised": _round(m["roc_auc_unsupervised"]),
        "cv_roc_auc_blended": _round(m["roc_auc_blended"]),
    }


def _round(value):
    return None if value is None else round(float(value), 4)


def holdout(app, holdout_days: int = 90) -> dict[str, Any]:
    """Train on outcomes known before a cutoff; score failures proposed after it."""
    data = training_data.build("risk", app.config)
    cutoff = data.times.max() - np.timedelta64(holdout_days, "D")
    known = (data.times < cutoff) & (data.label_times.astype("datetime64[D]") < cutoff)
    later = np.flatnonzero((data.times >= cutoff) & data.labelled)
    plugin = installed_types(app).get("risk")
    started = time.perf_counter()
    with threadpool_limits(limits=int(app.config["TRAINING_THREADS"])):
        result = plugin.fit(data.take(np.flatnonzero(known)), {}, lambda f, s: None)
    seconds = time.perf_counter() - started
    artifact, X, y = result.artifact, data.X[later], data.y[later]
    served = plugin.predict(artifact, X)
    anomaly = artifact.anomaly_percentile(X)
    blended = None
    if artifact.classifier is not None:
        blended = float(roc_auc_score(y, artifact.score(X)))
    levels = {
        level: {
            "rows": int((served.level == level).sum()),
            "failure_rate": _round(y[served.level == level].mean())
            if (served.level == level).any()
            else None,
        }
        for level in ("low", "medium", "high")
    }
    return {
        "train_rows": int(known.sum()),
        "holdout_rows": int(len(later)),
        "holdout_from": str(cutoff)[:10],
        "failure_rate": round(float(y.mean()), 4),
        "fit_seconds": round(seconds, 2),
        "served": result.metrics["served"],
        "roc_auc": round(float(roc_auc_score(y, served.score)), 4),
        "roc_auc_unsupervised": round(float(roc_auc_score(y, anomaly)), 4),
        "roc_auc_blended": _round(blended),
        "levels": levels,
    }


def run(app) -> dict[str, Any]:
    """Return the held-out figures and the training time on ``app``'s world."""
    return {"holdout": holdout(app), "training": time_training(app)}


def main() -> None:
    """Seed a world and print this benchmark's figures as JSON."""
    from bench import worlds

    worlds.run_alone(run, __doc__)


if __name__ == "__main__":
    main()

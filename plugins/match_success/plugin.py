"""match_success: the probability that a collaboration succeeds (brand rates it 4+ and it completes).

Candidates (logistic regression, random forest, histogram gradient boosting and
their soft-voting ensemble) are scored on consecutive time windows; the best
ROC AUC wins and Brier breaks ties. Probabilities are calibrated on held-out
predictions when there are enough of them. Every stored metric is computed on
held-out windows, never on the rows a model was fitted on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from plugins.match_success.artifact import Calibrator, MatchArtifact
from plugins.match_success.evaluation import (
    calibration_table,
    classification_metrics,
    curves,
)
from plugins.match_success.forms import ParamsForm
from webapp.model_types import (
    ModelType,
    Predictions,
    Progress,
    TrainingData,
    TrainingFailed,
    TrainResult,
)

BASE_ALGORITHMS = ("logistic_regression", "random_forest", "gradient_boosting")
MIN_CALIBRATION_SAMPLES = 300
ISOTONIC_MIN_SAMPLES = 2000


def make_estimator(name: str) -> Any:
    """Return an unfitted estimator for one candidate algorithm."""
    if name == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    if name == "random_forest":
        return RandomForestClassifier(
            n_estimators=120,
            min_samples_leaf=25,
            max_features=0.4,
            n_jobs=2,
            random_state=7,
        )
    if name == "gradient_boosting":
        return HistGradientBoostingClassifier(
            learning_rate=0.05,
            max_iter=300,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=7,
        )
    if name == "soft_voting":
        return VotingClassifier(
            [(n, make_estimator(n)) for n in BASE_ALGORITHMS], voting="soft"
        )
    raise ValueError(f"unknown algorithm {name!r}")


class MatchSuccessModel(ModelType):
    """Classifier of collaboration success with calibrated, qualified probabilities."""

    name = "match_success"
    title = "Match success"
    description = (
        "Probability that the brand rates the collaboration 4+ and it completes."
    )
    target = "success"
    score_label = "success probability"
    params_form = ParamsForm

    def fit(
        self, data: TrainingData, params: dict[str, Any], progress: Progress
    ) -> TrainResult:
        """Select an algorithm on time-ordered folds, calibrate, refit on everything."""
        if len(np.unique(data.y)) < 2:
            raise TrainingFailed(
                f"All {data.n_samples} labelled collaborations have the same outcome; "
                "a classifier needs successes and failures."
            )
        wanted = params.get("algorithm", "auto")
        candidates = [*BASE_ALGORITHMS, "soft_voting"] if wanted == "auto" else [wanted]
        folds = self._usable_folds(data, int(params.get("n_splits", 4)))
        oof, fold_models = self._cross_validate(data, folds, candidates, progress)
        scores = {name: _fold_scores(data.y, oof[name], folds) for name in candidates}
        chosen = min(
            candidates,
            key=lambda n: (-round(scores[n]["roc_auc"], 3), scores[n]["brier"]),
        )
        progress(0.75, f"calibrating {chosen}")
        raw = oof[chosen]
        calibrator, calibrated, method = self._calibrate(data.y, raw, folds, params)
        progress(0.8, "permutation importance on the latest window")
        importance = self._importance(data, folds[-1], fold_models[chosen], data.y)
        progress(0.85, f"fitting {chosen} on all {data.n_samples} rows")
        estimator = _single_threaded(make_estimator(chosen).fit(data.X, data.y))
        evaluated = folds[-1][1]
        held = np.concatenate([valid for _, valid in folds])
        artifact = MatchArtifact(
            estimator=estimator,
            algorithm=chosen,
            feature_names=list(data.feature_names),
            calibrator=calibrator,
            medians=np.median(data.X, axis=0),
            low=np.quantile(data.X, 0.01, axis=0),
            high=np.quantile(data.X, 0.99, axis=0),
            bins=calibration_table(data.y[evaluated], calibrated),
        )
        metrics = {
            **classification_metrics(data.y[evaluated], calibrated),
            "evaluated_on": "the latest held-out time window "
            f"({str(data.times[evaluated[0]])[:10]} to {str(data.times[evaluated[-1]])[:10]})",
            "uncalibrated": classification_metrics(data.y[held], raw[held]),
            "candidates": scores,
            "folds": [
                {
                    "train": int(len(train)),
                    "valid": int(len(valid)),
                    "valid_from": str(data.times[valid[0]])[:10],
                    "valid_to": str(data.times[valid[-1]])[:10],
                    "roc_auc": float(roc_auc_score(data.y[valid], oof[chosen][valid])),
                }
                for train, valid in folds
            ],
            "calibration_method": method or "none",
            "importance": importance,
            "curves": curves(data.y[evaluated], calibrated),
            "samples": data.n_samples,
            "class_balance": {
                "success": int(data.y.sum()),
                "failure": int(len(data.y) - data.y.sum()),
            },
            "data_window": {
                "start": str(data.times[0])[:10],
                "end": str(data.times[-1])[:10],
            },
        }
        progress(1.0, "done")
        return TrainResult(
            artifact=artifact,
            metrics=metrics,
            algorithm=chosen,
            params={**params, "algorithm": wanted},
        )

    def _usable_folds(
        self, data: TrainingData, n_splits: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return time folds whose training and validation parts both hold two classes."""
        folds = [
            (train, valid)
            for train, valid in data.time_folds(n_splits)
            if len(np.unique(data.y[train])) == 2 and len(np.unique(data.y[valid])) == 2
        ]
        if len(folds) < 2:
            raise TrainingFailed(
                "Not enough labelled history to validate on two time windows "
                f"({data.n_samples} rows); collect more ratings first."
            )
        return folds

    def _cross_validate(self, data, folds, candidates, progress):
        """Fit every needed base model per fold; return held-out predictions and last-fold models."""
        bases = BASE_ALGORITHMS if "soft_voting" in candidates else tuple(candidates)
        oof = {name: np.full(data.n_samples, np.nan) for name in (*bases, *candidates)}
        last_models: dict[str, Any] = {}
        steps, done = len(folds) * len(bases), 0
        for k, (train, valid) in enumerate(folds):
            for name in bases:
                progress(
                    0.05 + 0.7 * done / steps, f"fold {k + 1}/{len(folds)}: {name}"
                )
                model = make_estimator(name).fit(data.X[train], data.y[train])
                oof[name][valid] = model.predict_proba(data.X[valid])[:, 1]
                last_models[name] = model
                done += 1
            if "soft_voting" in candidates:
                # Soft voting with equal weights is the mean of the members' probabilities.
                oof["soft_voting"][valid] = np.mean(
                    [oof[n][valid] for n in BASE_ALGORITHMS], axis=0
                )
        if "soft_voting" in candidates:
            last_models["soft_voting"] = _MeanOf(
                [last_models[n] for n in BASE_ALGORITHMS]
            )
        return oof, last_models

    def _calibrate(self, y, raw, folds, params):
        """Decide on calibration from held-out evidence; return (calibrator, last-window p, method).

        A calibrator must map the outputs of the model it was fitted on: the
        candidate is fitted on the next-to-last window's held-out predictions and
        judged on the last window (Brier score). If it helps, the served
        calibrator is refitted on the last window, whose model was trained on the
        most data, like the final one.
        """
        (_, previous), (_, last) = folds[-2], folds[-1]
        method = _calibration_method(y[previous], params)
        if method is None:
            return None, raw[last], None
        trial = Calibrator(method).fit(raw[previous], y[previous]).transform(raw[last])
        if np.mean((trial - y[last]) ** 2) >= np.mean((raw[last] - y[last]) ** 2):
            return None, raw[last], None
        final_method = _calibration_method(y[last], params) or method
        return Calibrator(final_method).fit(raw[last], y[last]), trial, final_method

    def _importance(self, data, fold, model, y) -> list[dict[str, float]]:
        """Return permutation importance (drop in ROC AUC) on the latest held-out window."""
        _, valid = fold
        result = permutation_importance(
            model,
            data.X[valid],
            y[valid],
            scoring="roc_auc",
            n_repeats=3,
            random_state=7,
            n_jobs=1,
        )
        ranked = np.argsort(-result.importances_mean)
        return [
            {
                "feature": data.feature_names[j],
                "mean": float(result.importances_mean[j]),
                "std": float(result.importances_std[j]),
            }
            for j in ranked
        ]

    def predict(self, artifact: MatchArtifact, rows: np.ndarray) -> Predictions:
        """Return calibrated probabilities, a 95 % band and a confidence per row.

        Confidence = (1 - band width) x data support, where support is the share of
        the row's features inside the range the model was trained on.
        """
        return self._qualify(artifact, rows, artifact.member_probabilities(rows))

    def _qualify(
        self, artifact: MatchArtifact, rows: np.ndarray, members: np.ndarray
    ) -> Predictions:
        """Turn member probabilities for ``rows`` into qualified predictions."""
        p = artifact.calibrate(members.mean(axis=0))
        low, high = artifact.interval(p, members.std(axis=0))
        support = artifact.support(rows)
        confidence = np.clip(1 - (high - low), 0, 1) * support
        return Predictions(
            score=p,
            confidence=confidence,
            extra={"low": low, "high": high, "support": support},
        )

    def explain(self, artifact: MatchArtifact, rows: np.ndarray) -> np.ndarray:
        """Return each feature's contribution: p(row) - p(row with that feature at its median).

        Contributions are in points of the model's raw probability.
        """
        return self.predict_and_explain(artifact, rows)[1]

    def predict_and_explain(
        self, artifact: MatchArtifact, rows: np.ndarray
    ) -> tuple[Predictions, np.ndarray]:
        """Score the rows and their median-substituted variants in one model call."""
        n, f = rows.shape
        variants = np.repeat(rows, f, axis=0)
        columns = np.tile(np.arange(f), n)
        variants[np.arange(n * f), columns] = artifact.medians[columns]
        members = artifact.member_probabilities(np.vstack([rows, variants]))
        predictions = self._qualify(artifact, rows, members[:, :n])
        # Differences are taken before calibration: isotonic steps would flatten them.
        raw = members.mean(axis=0)
        return predictions, raw[:n, None] - raw[n:].reshape(n, f)


class _MeanOf(ClassifierMixin, BaseEstimator):
    """Several fitted classifiers averaged, for scoring the ensemble on a held-out window."""

    def __init__(self, members: list[Any]) -> None:
        self.members = members
        self.classes_ = np.array([0, 1])

    def fit(self, X, y):  # pragma: no cover - never refitted, only scored
        raise NotImplementedError("_MeanOf wraps already fitted members")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.mean([m.predict_proba(X) for m in self.members], axis=0)


def _single_threaded(estimator: Any) -> Any:
    """Make a fitted estimator predict in the calling thread (serving is latency-bound)."""
    members = getattr(estimator, "estimators_", None) or []
    for model in (estimator, *members):
        if "n_jobs" in model.get_params():
            model.set_params(n_jobs=1)
    return estimator


def _fold_scores(y: np.ndarray, p: np.ndarray, folds) -> dict[str, Any]:
    """Return mean and per-fold ROC AUC and Brier of held-out predictions ``p``."""
    aucs = [float(roc_auc_score(y[v], p[v])) for _, v in folds]
    briers = [float(np.mean((p[v] - y[v]) ** 2)) for _, v in folds]
    return {
        "roc_auc": float(np.mean(aucs)),
        "brier": float(np.mean(briers)),
        "fold_roc_auc": aucs,
        "fold_brier": briers,
    }


def _calibration_method(y: np.ndarray, params: dict[str, Any]) -> str | None:
    """Pick isotonic, sigmoid or no calibration from the amount of held-out data."""
    if params.get("calibration", "auto") == "none":
        return None
    minority = min(int(y.sum()), int(len(y) - y.sum()))
    if len(y) < MIN_CALIBRATION_SAMPLES or minority < 30:
        return None
    return "isotonic" if len(y) >= ISOTONIC_MIN_SAMPLES else "sigmoid"

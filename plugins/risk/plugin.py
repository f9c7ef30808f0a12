"""risk: a 0-100 risk score and level for a proposed collaboration, with its factors.

The anomaly part is an isolation forest fitted on past collaborations that went
well (labelled, not failed), on the robust z-scores of the factor columns; a
row's anomaly score is its percentile among the training rows' scores. Factors
are robust z-scores against the same training rows (median and MAD), never
against the batch being scored, and name implausible profiles: engagement far
above what the audience size predicts (a Theil-Sen line fitted on training
rows), follower spikes between profile revisions, very slow responses.

When a training window holds at least ``min_failures`` rated failures
(cancelled, disputed, brand rating <= RISK_FAILURE_MAX_RATING), a gradient-
boosting failure classifier is blended in (its probability as a training
percentile, weight ``blend_weight``). Consecutive time windows score both: the
earlier ones decide whether the blend is served (higher mean held-out ROC AUC
for failed collaborations), the final one only reports, so the stored figures
say how much the classifier helps on data that played no part in choosing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from threadpoolctl import threadpool_limits

from plugins.risk.artifact import (
    FACTOR_LABELS,
    FACTOR_NAMES,
    MAD_SCALE,
    MIN_SPREAD,
    RiskArtifact,
    contributions,
    engagement_line,
    factor_values,
)
from plugins.risk.evaluation import fold_row, held_out_auc, risk_charts
from plugins.risk.forms import ParamsForm
from webapp.model_types import (
    ModelType,
    Output,
    Predictions,
    Progress,
    Task,
    TrainingData,
    TrainingFailed,
    TrainResult,
)

LEVELS = ("low", "medium", "high")
MIN_SUCCESSES = 30
MIN_CLASS_ROWS = 20
DEFAULTS = {
    "min_failures": 50,
    "blend_weight": 0.5,
    "medium_from": 60.0,
    "high_from": 85.0,
    "n_splits": 4,
}


def fit_artifact(
    X: np.ndarray, y: np.ndarray, feature_names: list[str], params: dict[str, Any]
) -> RiskArtifact:
    """Fit the whole recipe on labelled rows ``X``, ``y`` (1 = failed)."""
    good = X[y == 0]
    if len(good) < MIN_SUCCESSES:
        raise TrainingFailed(
            f"Only {len(good)} collaborations that went well; at least "
            f"{MIN_SUCCESSES} are needed to learn what a normal one looks like."
        )
    slope, intercept = engagement_line(good, feature_names)
    values = factor_values(good, feature_names, slope, intercept)
    medians = np.nanmedian(values, axis=0)
    spreads = MAD_SCALE * np.nanmedian(np.abs(values - medians), axis=0)
    # A column with no spread (all equal) falls back to its standard deviation.
    spreads = np.where(spreads > MIN_SPREAD, spreads, np.nanstd(values, axis=0))
    spreads = np.maximum(np.nan_to_num(spreads, nan=1.0), MIN_SPREAD)
    z = np.clip(np.nan_to_num((values - medians) / spreads), -50, 50)
    forest = IsolationForest(n_estimators=150, random_state=7, n_jobs=1).fit(z)
    classifier = reference = None
    failures = int(y.sum())
    if failures >= int(params["min_failures"]) and len(y) - failures >= MIN_CLASS_ROWS:
        classifier = HistGradientBoostingClassifier(
            learning_rate=0.08,
            max_iter=150,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            random_state=7,
        ).fit(X, y)
        reference = np.sort(classifier.predict_proba(X)[:, 1])
    return RiskArtifact(
        feature_names=list(feature_names),
        slope=slope,
        intercept=intercept,
        medians=medians,
        spreads=spreads,
        forest=forest,
        forest_reference=np.sort(-forest.score_samples(z)),
        classifier=classifier,
        classifier_reference=reference,
        blend_weight=float(params["blend_weight"]),
        medium_from=float(params["medium_from"]),
        high_from=float(params["high_from"]),
    )


class RiskModel(ModelType):
    """Anomaly-based risk of a collaboration, blended with a failure classifier."""

    name = "risk"
    title = "Collaboration risk"
    description = (
        "How likely the collaboration is to fail (cancelled, disputed or rated "
        "2 or less), 0-100, with the factors that drive it."
    )
    task = Task.ANOMALY_SCORE
    target = "risk"
    features = "pair_checks"
    primary_metric = "roc_auc"
    higher_is_better = True
    summary_metrics = (
        "roc_auc",
        "roc_auc_unsupervised",
        "roc_auc_blended",
        "failure_rate",
    )
    outputs = frozenset({Output.SCORE, Output.LEVEL, Output.FACTORS})
    score_key = "risk_score"
    score_label = "risk score (0-100)"
    can_explain = True
    levels = LEVELS
    factor_labels = FACTOR_LABELS
    params_form = ParamsForm

    def fit(
        self, data: TrainingData, params: dict[str, Any], progress: Progress
    ) -> TrainResult:
        """Judge both scores on time windows, decide on the blend, refit on every row."""
        params = {**DEFAULTS, **params}
        with threadpool_limits(limits=1, user_api="openmp"):
            return self._fit(data, params, progress)

    def _fit(self, data: TrainingData, params: dict[str, Any], progress: Progress):
        labelled = (
            np.ones(len(data.y), bool) if data.labelled is None else data.labelled
        )
        y = data.y.astype(int)
        folds = []
        for train, valid in data.time_folds(int(params["n_splits"])):
            train, valid = train[labelled[train]], valid[labelled[valid]]
            if len(valid) and len(np.unique(y[valid])) == 2:
                folds.append((train, valid))
        if len(folds) < 2:
            raise TrainingFailed(
                "Too few failed and successful collaborations spread over time to "
                "judge a risk score on two later windows."
            )
        held = {"anomaly": np.full(len(y), np.nan), "blended": np.full(len(y), np.nan)}
        rows, judged = [], []
        for k, (train, valid) in enumerate(folds):
            progress(0.05 + 0.7 * k / len(folds), f"window {k + 1}/{len(folds)}")
            try:
                artifact = fit_artifact(
                    data.X[train], y[train], data.feature_names, params
                )
            except TrainingFailed:
                continue  # an early window with too little history to learn from
            held["anomaly"][valid] = artifact.anomaly_percentile(data.X[valid])
            held["blended"][valid] = artifact.score(data.X[valid])
            rows.append(fold_row(data, train, valid, y, held, artifact))
            judged.append((train, valid))
        if len(judged) < 2:
            raise TrainingFailed(
                "Too few collaborations before the validation windows to judge a "
                "risk score on two of them."
            )
        # The final window's factors, from the model fitted before it (charts).
        final_factors = contributions(artifact.factors(data.X[judged[-1][1]]))
        selection, (_, final) = judged[:-1], judged[-1]
        chosen_idx = np.concatenate([v for _, v in selection])
        aucs = {
            kind: held_out_auc(y[chosen_idx], held[kind][chosen_idx])
            for kind in ("anomaly", "blended")
        }
        blended_possible = any(r["classifier"] for r in rows[:-1])
        served = (
            "blended"
            if blended_possible and aucs["blended"] > aucs["anomaly"]
            else "anomaly"
        )
        progress(0.8, f"refitting the {served} score on every row")
        final_params = (
            params if served == "blended" else {**params, "min_failures": 10**9}
        )
        labelled_rows = np.flatnonzero(labelled)
        artifact = fit_artifact(
            data.X[labelled_rows], y[labelled_rows], data.feature_names, final_params
        )
        scored = held[served][final]
        metrics = {
            "roc_auc": held_out_auc(y[final], scored),
            "roc_auc_unsupervised": held_out_auc(y[final], held["anomaly"][final]),
            "roc_auc_blended": (
                held_out_auc(y[final], held["blended"][final])
                if rows[-1]["classifier"]
                else None
            ),
            "served": served,
            "selection": {
                "mean_roc_auc_unsupervised": aucs["anomaly"],
                "mean_roc_auc_blended": aucs["blended"] if blended_possible else None,
                "reason": _reason(served, blended_possible, aucs, params),
            },
            "failure_rate": float(y[final].mean()),
            "samples": int(labelled.sum()),
            "unlabelled": int((~labelled).sum()),
            "failures": int(y[labelled].sum()),
            "evaluated_on": "the latest held-out time window "
            f"({str(data.times[final[0]])[:10]} to {str(data.times[final[-1]])[:10]}, "
            f"{len(final):,} rated collaborations), which played no part in choosing",
            "folds": rows,
            "level_failure_rates": _level_rates(y[final], artifact.levels(scored)),
            "charts": risk_charts(y[final], scored, final_factors),
            "data_window": {
                "start": str(data.times[0])[:10],
                "end": str(data.times[-1])[:10],
            },
        }
        progress(1.0, "done")
        return TrainResult(
            artifact=artifact,
            metrics=metrics,
            algorithm="isolation_forest"
            + ("+gradient_boosting" if artifact.classifier is not None else ""),
            params=params,
        )

    def predict(self, artifact: RiskArtifact, rows: np.ndarray) -> Predictions:
        """Return the risk score, level and factor contributions of each row."""
        rows = np.asarray(rows, dtype=float)
        score = artifact.score(rows)
        z = artifact.factors(rows)
        return Predictions(
            score=score,
            level=artifact.levels(score),
            factors=contributions(z),
            factor_names=list(FACTOR_NAMES),
            factor_values=np.nan_to_num(z, nan=0.0, posinf=50.0, neginf=-50.0),
        )

    def explain(self, artifact: RiskArtifact, rows: np.ndarray) -> np.ndarray:
        """Return how much each factor pushes each row's risk up (FACTOR_NAMES order)."""
        return contributions(artifact.factors(np.asarray(rows, dtype=float)))

    def fallback(self, rows: np.ndarray) -> Predictions:
        """Score rows with the documented rules (``plugins.risk.rules``) when no model serves."""
        from plugins.risk.rules import rule_based

        return rule_based(np.asarray(rows, dtype=float))


def _reason(served: str, possible: bool, aucs: dict[str, float], params) -> str:
    """Say why the served score was chosen."""
    if not possible:
        return (
            f"fewer than {params['min_failures']} rated failures in the earlier "
            "windows: the anomaly score serves alone"
        )
    verb = "beat" if served == "blended" else "did not beat"
    return (
        f"the blend with the failure classifier {verb} the anomaly score on the "
        f"earlier windows (mean held-out ROC AUC {aucs['blended']:.3f} vs "
        f"{aucs['anomaly']:.3f})"
    )


def _level_rates(y: np.ndarray, levels: np.ndarray) -> dict[str, Any]:
    """Return, per level, how many held-out rows got it and how many of them failed."""
    out = {}
    for level in LEVELS:
        mask = levels == level
        out[level] = {
            "rows": int(mask.sum()),
            "failure_rate": float(y[mask].mean()) if mask.any() else None,
        }
    return out

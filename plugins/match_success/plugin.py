"""match_success: the probability that a collaboration succeeds (brand rates it 4+ and it completes).

Candidates (logistic regression, random forest, histogram gradient boosting and
their soft-voting ensemble) are scored on consecutive time windows. The windows
are in time order: selection windows choose the algorithm (the cheapest to serve,
as measured, of those within AUC_TOLERANCE of the best ROC AUC: ``selection``)
and decide on calibration; a final, later window only scores the chosen
pipeline, fitted without it, and those are the stored metrics. A calibrator
always maps the outputs of the model it was fitted for. Reasons are computed
in one pass (``explanations``). Gradient boosting, alone or in the ensemble,
is tuned in each selection window on the time-ordered tail of that window's
training rows (``boosting``); the refits scored on the final window and served
take the last selection window's settings, and every choice is stored.
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
from threadpoolctl import threadpool_limits

from plugins.match_success import boosting
from plugins.match_success.artifact import Z_95, Calibrator, MatchArtifact
from plugins.match_success.compiled import compile_model
from plugins.match_success.evaluation import (
    calibration_table,
    classification_metrics,
    curves,
)
from plugins.match_success.explanations import describe, exact, fit_surrogate
from plugins.match_success.forms import ParamsForm
from plugins.match_success.selection import (
    AUC_TOLERANCE,
    COST_ROWS,
    SERVING_COST_ORDER,
    choose_algorithm,
    serving_ms,
)
from webapp.model_types import (
    HeldOut,
    ModelType,
    Predictions,
    Progress,
    TrainingData,
    TrainingFailed,
    TrainResult,
)

__all__ = [
    "AUC_TOLERANCE",
    "SERVING_COST_ORDER",
    "MatchSuccessModel",
    "choose_algorithm",
    "decide_calibration",
    "fit_candidate",
    "make_estimator",
]

BASE_ALGORITHMS = ("logistic_regression", "random_forest", "gradient_boosting")
# The candidates that contain a gradient-boosting model, tuned before each fit.
BOOSTED = ("gradient_boosting", "soft_voting")
# What the model page shows of each served estimator's settings.
SHOWN_PARAMS = (
    "C",
    "n_estimators",
    "max_features",
    "learning_rate",
    "max_iter",
    "max_depth",
    "max_leaf_nodes",
    "min_samples_leaf",
    "l2_regularization",
)
MIN_CALIBRATION_SAMPLES = 300
ISOTONIC_MIN_SAMPLES = 2000


def make_estimator(name: str, boosted: Any = None) -> Any:
    """Return an unfitted estimator for one candidate algorithm.

    :param boosted: the unfitted gradient-boosting model to use (alone or as
        the ensemble's member), as ``boosting`` tuned it; without it, an
        untuned default.
    """
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
        if boosted is not None:
            return boosted
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
            [(n, make_estimator(n, boosted)) for n in BASE_ALGORITHMS], voting="soft"
        )
    raise ValueError(f"unknown algorithm {name!r}")


def fit_candidate(
    name: str,
    data: TrainingData,
    rows: np.ndarray,
    tuned: boosting.Tuned | None = None,
) -> tuple[Any, boosting.Tuned | None]:
    """Fit candidate ``name`` on ``rows``; return it and its boosting's settings.

    Gradient boosting (alone or in the ensemble) takes the settings ``tuned``,
    else it is first tuned on the time-ordered tail of ``rows``
    (``boosting.tune``); other candidates have fixed settings (None).
    """
    if name not in BOOSTED:
        return make_estimator(name).fit(data.X[rows], data.y[rows]), None
    tuned = tuned or boosting.tune(data, rows)
    model = make_estimator(name, boosting.estimator(tuned, data.feature_names))
    return boosting.fit(model, data, rows), tuned


def shown_params(estimator: Any) -> dict[str, Any]:
    """Return the settings of a fitted estimator the model page shows, per member."""
    members = getattr(estimator, "named_estimators_", None)
    if members:
        return {name: shown_params(model) for name, model in members.items()}
    steps = getattr(estimator, "steps", None)
    model = steps[-1][1] if steps else estimator
    params = model.get_params()
    return {k: params[k] for k in SHOWN_PARAMS if k in params}


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
        """Choose algorithm and calibration on selection windows, score on a final one, refit.

        Time-ordered windows: selection windows (each scored by models trained
        before it) choose the algorithm and whether to calibrate; the final,
        latest window only scores the chosen pipeline, fitted without it. The
        served artifact is the same pipeline refitted one window later: with a
        calibrator, the estimator is trained on everything before the final
        window and the calibrator on the final window; without one, the
        estimator is trained on every row.
        """
        if len(np.unique(data.y)) < 2:
            raise TrainingFailed(
                f"All {data.n_samples} labelled collaborations have the same outcome; "
                "a classifier needs successes and failures."
            )
        wanted = params.get("algorithm", "auto")
        candidates = [*BASE_ALGORITHMS, "soft_voting"] if wanted == "auto" else [wanted]
        windows = self._usable_windows(data, int(params.get("n_splits", 4)))
        selection, (final_train, final) = windows[:-1], windows[-1]
        oof, recent, fold_tuning = self._cross_validate(
            data, selection, candidates, progress
        )
        scores = {
            name: _fold_scores(data.y, oof[name], selection) for name in candidates
        }
        if len(candidates) > 1:
            progress(0.68, "timing each candidate's serving")
            timed_rows = data.X[selection[-1][1][:COST_ROWS]]
            for name in candidates:
                scores[name]["serving_ms"] = serving_ms(recent[-1][name], timed_rows)
        tolerance = float(params.get("auc_tolerance", AUC_TOLERANCE))
        chosen, selection_note = choose_algorithm(scores, tolerance)
        progress(0.7, f"deciding on calibration for {chosen}")
        (_, previous), (_, last) = selection[-2], selection[-1]
        method, evidence = decide_calibration(
            data.y[previous],
            oof[chosen][previous],
            data.y[last],
            _positive(recent[0][chosen], data.X[last]),
            oof[chosen][last],
            params,
        )
        evidence.update(fitted_on=_span(data, previous), judged_on=_span(data, last))
        progress(0.75, f"scoring {chosen} on the final window")
        if method:
            reported = recent[1][chosen]
            method = _calibration_method(data.y[last], params) or method
            reported_calibrator = Calibrator(method).fit(
                oof[chosen][last], data.y[last]
            )
        else:
            reported, _ = fit_candidate(chosen, data, final_train, fold_tuning[-1])
            reported_calibrator = None
        raw = _positive(reported, data.X[final])
        calibrated = reported_calibrator.transform(raw) if reported_calibrator else raw
        progress(0.8, "permutation importance on the final window")
        importance = self._importance(data, final, reported, data.y)
        held_out = HeldOut(
            artifact=_held_out_artifact(
                data,
                chosen,
                reported,
                reported_calibrator,
                selection[-1][0] if method else final_train,
                last,
                oof[chosen][last],
            ),
            rows=final,
        )
        progress(0.85, f"refitting {chosen} as served")
        if method:
            estimator, _ = fit_candidate(chosen, data, final_train, fold_tuning[-1])
            served_method = _calibration_method(data.y[final], params) or method
            calibrator = Calibrator(served_method).fit(
                _positive(estimator, data.X[final]), data.y[final]
            )
        else:
            estimator, _ = fit_candidate(
                chosen, data, np.arange(data.n_samples), fold_tuning[-1]
            )
            calibrator = None
        artifact = MatchArtifact(
            estimator=_single_threaded(estimator),
            algorithm=chosen,
            feature_names=list(data.feature_names),
            calibrator=calibrator,
            medians=np.median(data.X, axis=0),
            low=np.quantile(data.X, 0.01, axis=0),
            high=np.quantile(data.X, 0.99, axis=0),
            bins=calibration_table(data.y[final], calibrated),
        )
        progress(0.9, "compiling the served model")
        artifact.compiled = compile_model(artifact.members(), data.X[final])
        progress(0.95, "fitting how reasons are computed")
        artifact.explainer = exact(estimator) or fit_surrogate(
            lambda rows: artifact.member_probabilities(rows).mean(axis=0),
            data.X,
            data.X[final],
        )
        y = data.y
        metrics = {
            **classification_metrics(y[final], calibrated),
            "evaluated_on": (
                f"the final time window ({_span(data, final)}, {len(final):,} rows), "
                "which played no part in choosing the algorithm or the calibration"
            ),
            "windows": {
                "selection": {
                    "role": "chose the algorithm and the calibration",
                    "from": _day(data, selection[0][1][0]),
                    "to": _day(data, selection[-1][1][-1]),
                    "rows": int(sum(len(v) for _, v in selection)),
                    "windows": len(selection),
                },
                "calibration": evidence,
                "final": {
                    "role": "scored the chosen pipeline only",
                    "from": _day(data, final[0]),
                    "to": _day(data, final[-1]),
                    "rows": int(len(final)),
                    "trained_on": int(
                        len(selection[-1][0]) if method else len(final_train)
                    ),
                    "calibrated_on": int(len(last)) if method else 0,
                },
            },
            "served": _served_note(method, len(final_train), len(final), len(y)),
            "uncalibrated": classification_metrics(y[final], raw),
            "candidates": scores,
            "selection": selection_note,
            "explanations": describe(artifact.explainer),
            "serving": artifact.compiled.describe(),
            "folds": [
                *(
                    _window_row(data, train, valid, oof[chosen], "selection")
                    for train, valid in selection
                ),
                _window_row(
                    data,
                    selection[-1][0] if method else final_train,
                    final,
                    calibrated,
                    "final",
                ),
            ],
            "calibration_method": method or "none",
            "hyperparameters": shown_params(estimator),
            "boosting": (
                {
                    "folds": [t and t.record for t in fold_tuning],
                    "served": fold_tuning[-1].record,
                    "note": "each selection window's boosting was tuned on the tail "
                    "of its own training rows; the final window's and the served "
                    "refits take the settings of the last selection window",
                }
                # Only a served model with boosting in it has these settings.
                if fold_tuning[-1] and chosen in BOOSTED
                else None
            ),
            "importance": importance,
            "curves": curves(y[final], calibrated),
            "samples": data.n_samples,
            "class_balance": {
                "success": int(y.sum()),
                "failure": int(len(y) - y.sum()),
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
            held_out=held_out,
        )

    def _usable_windows(
        self, data: TrainingData, n_splits: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return ``n_splits`` selection windows and a final one, each part with two classes."""
        folds = [
            (train, valid)
            for train, valid in data.time_folds(n_splits + 1)
            if len(np.unique(data.y[train])) == 2 and len(np.unique(data.y[valid])) == 2
        ]
        if len(folds) < 3:
            raise TrainingFailed(
                "Not enough labelled history to choose on two time windows and "
                f"score on a third ({data.n_samples} rows); collect more ratings first."
            )
        return folds

    def _cross_validate(self, data, folds, candidates, progress):
        """Fit every needed base model per fold; return held-out predictions, the
        models of the last two folds (for the calibration decision and the report)
        and, per fold, how its gradient boosting was tuned (None without one)."""
        bases = BASE_ALGORITHMS if "soft_voting" in candidates else tuple(candidates)
        oof = {name: np.full(data.n_samples, np.nan) for name in (*bases, *candidates)}
        recent: list[dict[str, Any]] = []
        tuning: list[boosting.Tuned | None] = []
        steps, done = len(folds) * len(bases), 0
        for k, (train, valid) in enumerate(folds):
            models: dict[str, Any] = {}
            tuning.append(None)
            for name in bases:
                progress(
                    0.05 + 0.65 * done / steps, f"window {k + 1}/{len(folds)}: {name}"
                )
                models[name], tuned = fit_candidate(name, data, train)
                tuning[-1] = tuned or tuning[-1]
                oof[name][valid] = _positive(models[name], data.X[valid])
                done += 1
            if "soft_voting" in candidates:
                # Soft voting with equal weights is the mean of the members' probabilities.
                oof["soft_voting"][valid] = np.mean(
                    [oof[n][valid] for n in BASE_ALGORITHMS], axis=0
                )
                models["soft_voting"] = _MeanOf([models[n] for n in BASE_ALGORITHMS])
            recent = [*recent[-1:], models]
        return oof, recent, tuning

    def _importance(self, data, valid, model, y) -> list[dict[str, float]]:
        """Return permutation importance (drop in ROC AUC) on the rows ``valid``.

        Its 75 predictions run in ``boosting.THREADS`` threads: a boosted
        model's OpenMP threads thrash on the shared machine as in training.
        """
        with threadpool_limits(limits=boosting.THREADS):
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
        """Return calibrated probabilities and a confidence per row (no interval).

        Confidence = (1 - 2 x 1.96 x uncertainty) x data support, where support is
        the share of the row's features inside the range the model was trained
        on. No band is served: none measured honest (see ``artifact.uncertainty``).
        """
        return self._qualify(artifact, rows, artifact.member_probabilities(rows))

    def _qualify(
        self, artifact: MatchArtifact, rows: np.ndarray, members: np.ndarray
    ) -> Predictions:
        """Turn member probabilities for ``rows`` into qualified predictions."""
        p = artifact.calibrate(members.mean(axis=0))
        uncertainty = artifact.uncertainty(p, members.std(axis=0))
        support = artifact.support(rows)
        confidence = np.clip(1 - 2 * Z_95 * uncertainty, 0, 1) * support
        return Predictions(score=p, confidence=confidence)

    def explain(self, artifact: MatchArtifact, rows: np.ndarray) -> np.ndarray:
        """Return each feature's contribution: p(row) - p(row with that feature at its median).

        Contributions are in points of the model's raw probability.
        """
        return self.predict_and_explain(artifact, rows)[1]

    def predict_and_explain(
        self, artifact: MatchArtifact, rows: np.ndarray
    ) -> tuple[Predictions, np.ndarray]:
        """Score the rows and explain them in one pass (``explanations``).

        A logistic regression is explained in closed form, any other model by
        its linear surrogate; an artifact trained before surrogates existed
        scores its median-substituted variants in the same model call.
        """
        explainer = getattr(artifact, "explainer", None) or exact(artifact.estimator)
        if explainer is not None:
            members = artifact.member_probabilities(rows)
            predictions = self._qualify(artifact, rows, members)
            return predictions, explainer.contributions(rows, artifact.medians)
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


def _held_out_artifact(
    data: TrainingData,
    algorithm: str,
    estimator: Any,
    calibrator: Calibrator | None,
    trained_on: np.ndarray,
    last: np.ndarray,
    p_last: np.ndarray,
) -> MatchArtifact:
    """Wrap the pipeline the final-window metrics came from as an artifact (never stored).

    Everything in it predates the final window: the estimator and its training
    ranges come from ``trained_on``, the calibrator and the confidence bins from
    the last selection window ``last`` (``p_last``: the held-out predictions the
    calibrator was fitted on).
    """
    mapped = calibrator.transform(p_last) if calibrator else p_last
    return MatchArtifact(
        estimator=_single_threaded(estimator),
        algorithm=algorithm,
        feature_names=list(data.feature_names),
        calibrator=calibrator,
        medians=np.median(data.X[trained_on], axis=0),
        low=np.quantile(data.X[trained_on], 0.01, axis=0),
        high=np.quantile(data.X[trained_on], 0.99, axis=0),
        bins=calibration_table(data.y[last], mapped),
    )


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


def _positive(model: Any, X: np.ndarray) -> np.ndarray:
    """Return a fitted classifier's raw success probability per row."""
    return model.predict_proba(X)[:, 1]


def _day(data: TrainingData, index: int) -> str:
    return str(data.times[index])[:10]


def _span(data: TrainingData, rows: np.ndarray) -> str:
    return f"{_day(data, rows[0])} to {_day(data, rows[-1])}"


def _window_row(data, train, valid, p, role: str) -> dict[str, Any]:
    """Describe one time window for the model page: its dates, sizes, role and ROC AUC."""
    scored = p if len(p) == len(valid) else p[valid]
    return {
        "role": role,
        "train": int(len(train)),
        "valid": int(len(valid)),
        "valid_from": _day(data, valid[0]),
        "valid_to": _day(data, valid[-1]),
        "roc_auc": float(roc_auc_score(data.y[valid], scored)),
    }


def _served_note(method: str | None, before_final: int, final: int, rows: int) -> str:
    """Say how the served artifact was fitted, next to the metrics it did not produce."""
    if method:
        return (
            f"The served model is the same pipeline refitted one window later: the "
            f"estimator on the {before_final:,} rows labelled before the final window, "
            f"the {method} calibrator on its predictions for the final window's "
            f"{final:,} rows. The metrics above come from the pipeline fitted one "
            "window earlier, which never saw the final window."
        )
    return (
        f"The served model is the chosen estimator refitted on all {rows:,} rows, "
        "uncalibrated. The metrics above come from the same estimator fitted on "
        f"the {before_final:,} rows labelled before the final window."
    )


def decide_calibration(
    y_fit: np.ndarray,
    p_fit: np.ndarray,
    y_judge: np.ndarray,
    p_judge_same: np.ndarray,
    p_judge_fresh: np.ndarray,
    params: dict[str, Any],
) -> tuple[str | None, dict[str, Any]]:
    """Decide on calibration by comparing the two pipelines it would choose between.

    Calibrated: a model's held-out predictions ``p_fit`` (window A) fit the
    calibrator, which then maps the same model's predictions ``p_judge_same`` for
    the next window B. Uncalibrated: a model trained on everything before B
    (``p_judge_fresh``). The lower Brier score on B wins; the calibrator always
    maps the model it was fitted for.

    :returns: the method (None: do not calibrate) and the evidence to store.
    """
    method = _calibration_method(y_fit, params)
    evidence: dict[str, Any] = {
        "fitted_on_rows": int(len(y_fit)),
        "judged_on_rows": int(len(y_judge)),
        "brier_uncalibrated": float(np.mean((p_judge_fresh - y_judge) ** 2)),
    }
    if method is None:
        evidence["decision"] = "not tried (too few rows or turned off)"
        return None, evidence
    trial = Calibrator(method).fit(p_fit, y_fit)
    calibrated = trial.transform(p_judge_same)
    evidence["brier_calibrated"] = float(np.mean((calibrated - y_judge) ** 2))
    helps = evidence["brier_calibrated"] < evidence["brier_uncalibrated"]
    evidence["decision"] = f"{trial.method} {'kept' if helps else 'rejected'}"
    return (trial.method if helps else None), evidence


def _calibration_method(y: np.ndarray, params: dict[str, Any]) -> str | None:
    """Pick isotonic, sigmoid or no calibration from the amount of held-out data."""
    if params.get("calibration", "auto") == "none":
        return None
    minority = min(int(y.sum()), int(len(y) - y.sum()))
    if len(y) < MIN_CALIBRATION_SAMPLES or minority < 30:
        return None
    return "isotonic" if len(y) >= ISOTONIC_MIN_SAMPLES else "sigmoid"

"""roi: the return on investment a collaboration will achieve, with a prediction interval.

Candidate regressors (ridge, random forest, histogram gradient boosting) are
scored on consecutive time windows; the lowest mean absolute error wins.
Intervals are conformal (MAPIE): in every window the regressor and two
quantile models are fitted on the older part of the training rows and
calibrated on its latest part, then judged on the window, so the stored
coverage is what a model calibrated on the past achieved on the future.
Conformalised quantile regression (CQR) gives widths that follow the pair;
split conformal on absolute residuals gives one width for all; ``auto`` keeps
the narrower of those whose held-out coverage is within 3 points of nominal.
The served model is made by the same recipe on all rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mapie.regression import ConformalizedQuantileRegressor, SplitConformalRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from plugins.roi.artifact import Midpoint, RoiArtifact, conformal_interval
from plugins.roi.evaluation import (
    band_coverage,
    coverage_chart,
    interval_chart,
    interval_metrics,
    regression_metrics,
    width_spread,
)
from plugins.roi.forms import ParamsForm
from webapp.model_types import (
    Interval,
    ModelType,
    Output,
    Predictions,
    Progress,
    Task,
    TrainingData,
    TrainingFailed,
    TrainResult,
)

CANDIDATES = ("ridge", "random_forest", "gradient_boosting")
INTERVAL_METHODS = ("cqr", "split")
# The latest share of each training part calibrates the intervals.
CALIBRATION_SHARE = 0.25
MIN_CALIBRATION_ROWS = 30
MIN_FIT_ROWS = 30
# How far from nominal a method's held-out coverage may be and still count as on target.
COVERAGE_TOLERANCE = 0.03
# The naive baseline the intervals are compared with: expected ROI ± 30 points.
NAIVE_BAND = 0.30


def make_regressor(name: str) -> Any:
    """Return an unfitted point regressor for one candidate algorithm."""
    if name == "ridge":
        return make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    if name == "random_forest":
        return RandomForestRegressor(
            n_estimators=40,
            min_samples_leaf=20,
            max_features=0.5,
            # Trees on half-size bootstrap samples: much faster, about as accurate.
            max_samples=0.5,
            n_jobs=1,
            random_state=7,
        )
    if name == "gradient_boosting":
        return _boosting()
    raise ValueError(f"unknown algorithm {name!r}")


def _boosting(**loss: Any) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        learning_rate=0.08,
        max_iter=150,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=7,
        **loss,
    )


def quantile_models(level: float) -> list[Any]:
    """Return unfitted lower and upper quantile regressors for a ``level`` interval."""
    alpha = 1 - level
    return [
        _boosting(loss="quantile", quantile=alpha / 2),
        _boosting(loss="quantile", quantile=1 - alpha / 2),
    ]


def conformalise(
    method: str, regressor: Any, quantiles: list[Any] | None, level: float, X, y
) -> Any:
    """Calibrate fitted models on (X, y) with MAPIE; return the conformaliser."""
    if method == "split":
        conformal = SplitConformalRegressor(
            regressor, confidence_level=level, conformity_score="absolute", prefit=True
        )
    elif method == "cqr":
        low, high = quantiles
        conformal = ConformalizedQuantileRegressor(
            [low, high, Midpoint(low, high)], confidence_level=level, prefit=True
        )
    else:
        raise ValueError(f"unknown interval method {method!r}")
    return conformal.conformalize(X, y)


class RoiModel(ModelType):
    """Regressor of achieved ROI with conformal prediction intervals."""

    name = "roi"
    title = "Expected ROI"
    description = (
        "Return on investment the brand will report (0.25 = +25 %), with an "
        "interval at a chosen coverage."
    )
    task = Task.INTERVAL_REGRESSION
    target = "roi"
    primary_metric = "mae"
    higher_is_better = False
    summary_metrics = ("r2", "mae", "coverage", "mean_width")
    outputs = frozenset({Output.SCORE, Output.INTERVAL})
    score_key = "expected_roi"
    score_label = "expected ROI"
    params_form = ParamsForm

    def fit(
        self, data: TrainingData, params: dict[str, Any], progress: Progress
    ) -> TrainResult:
        """Choose a regressor and an interval method on time-ordered folds, then refit.

        Gradient boosting runs on one OpenMP thread: on a small shared machine
        two spinning threads measured up to 6x slower than one (bench/roi.py).
        """
        with threadpool_limits(limits=1, user_api="openmp"):
            return self._fit(data, params, progress)

    def _fit(
        self, data: TrainingData, params: dict[str, Any], progress: Progress
    ) -> TrainResult:
        level = float(params.get("coverage", 0.9))
        if not 0.5 <= level < 1:
            raise TrainingFailed(f"coverage must be in 0.5..0.99, not {level}")
        wanted = params.get("algorithm", "auto")
        candidates = list(CANDIDATES) if wanted == "auto" else [wanted]
        wanted_interval = params.get("interval_method", "auto")
        methods = (
            list(INTERVAL_METHODS) if wanted_interval == "auto" else [wanted_interval]
        )
        folds = self._folds(data, int(params.get("n_splits", 4)), level)
        held = self._cross_validate(data, folds, candidates, methods, level, progress)
        chosen = min(candidates, key=lambda n: held["candidates"][n]["mae"])
        method = _choose_method(held["methods"][chosen], level)
        progress(0.85, f"fitting {chosen} with {method} intervals on all rows")
        proper, calibration = split_for_calibration(
            data, np.arange(data.n_samples), level
        )
        if proper is None:
            raise TrainingFailed("Too few rows to fit and calibrate the final model.")
        regressor, conformal = self._fit_recipe(
            data, proper, calibration, chosen, method, level
        )
        artifact = RoiArtifact(
            regressor=regressor,
            conformal=conformal,
            algorithm=chosen,
            interval_method=method,
            level=level,
            feature_names=list(data.feature_names),
        )
        metrics = self._metrics(data, folds, held, chosen, method, level)
        progress(1.0, "done")
        return TrainResult(
            artifact=artifact,
            metrics=metrics,
            algorithm=f"{chosen} + {method}",
            params={
                **params,
                "coverage": level,
                "algorithm": wanted,
                "interval_method": wanted_interval,
            },
        )

    def _folds(self, data: TrainingData, n_splits: int, level: float):
        """Return time folds whose training part can be split into fit and calibration rows."""
        folds = []
        for train, valid in data.time_folds(n_splits):
            proper, calibration = split_for_calibration(data, train, level)
            if proper is not None and len(valid):
                folds.append((proper, calibration, valid))
        if len(folds) < 2:
            raise TrainingFailed(
                "Not enough rated history with a reported ROI to fit, calibrate and "
                f"validate on two time windows ({data.n_samples} rows); collect more "
                "ratings first."
            )
        return folds

    def _cross_validate(self, data, folds, candidates, methods, level, progress):
        """Score every candidate and interval method on every fold (held-out only)."""
        predicted = {n: np.full(data.n_samples, np.nan) for n in candidates}
        bounds = {
            (n, m): np.full((data.n_samples, 2), np.nan)
            for n in candidates
            for m in methods
        }
        steps = len(folds) * (len(candidates) + ("cqr" in methods))
        done = 0
        for k, (proper, calibration, valid) in enumerate(folds):
            X, y = data.X[proper], data.y[proper]
            quantiles = None
            if "cqr" in methods:
                progress(0.05 + 0.8 * done / steps, f"fold {k + 1}: quantile models")
                quantiles = [q.fit(X, y) for q in quantile_models(level)]
                done += 1
            for name in candidates:
                progress(
                    0.05 + 0.8 * done / steps, f"fold {k + 1}/{len(folds)}: {name}"
                )
                regressor = make_regressor(name).fit(X, y)
                predicted[name][valid] = regressor.predict(data.X[valid])
                for method in methods:
                    conformal = conformalise(
                        method,
                        regressor,
                        quantiles,
                        level,
                        data.X[calibration],
                        data.y[calibration],
                    )
                    _, low, high = conformal_interval(
                        conformal, regressor, data.X[valid]
                    )
                    bounds[(name, method)][valid] = np.column_stack([low, high])
                done += 1
        valid_sets = [valid for _, _, valid in folds]
        return {
            "predicted": predicted,
            "bounds": bounds,
            "candidates": {
                n: _fold_scores(data.y, predicted[n], valid_sets) for n in candidates
            },
            "methods": {
                n: {
                    m: _fold_coverage(data.y, bounds[(n, m)], valid_sets)
                    for m in methods
                }
                for n in candidates
            },
        }

    def _fit_recipe(self, data, proper, calibration, chosen, method, level):
        """Fit the regressor (and quantile models) on ``proper``, calibrate on ``calibration``."""
        X, y = data.X[proper], data.y[proper]
        regressor = make_regressor(chosen).fit(X, y)
        quantiles = (
            [q.fit(X, y) for q in quantile_models(level)] if method == "cqr" else None
        )
        conformal = conformalise(
            method,
            regressor,
            quantiles,
            level,
            data.X[calibration],
            data.y[calibration],
        )
        return regressor, conformal

    def _metrics(self, data, folds, held, chosen, method, level) -> dict[str, Any]:
        """Return the stored metrics: all computed on held-out windows."""
        y, point = data.y, held["predicted"][chosen]
        bounds = held["bounds"][(chosen, method)]
        last = folds[-1][2]
        low, high = bounds[last, 0], bounds[last, 1]
        per_fold = []
        for proper, calibration, valid in folds:
            per_fold.append(
                {
                    "train": int(len(proper)),
                    "calibrate": int(len(calibration)),
                    "valid": int(len(valid)),
                    "valid_from": str(data.times[valid[0]])[:10],
                    "valid_to": str(data.times[valid[-1]])[:10],
                    **regression_metrics(y[valid], point[valid]),
                    **interval_metrics(y[valid], bounds[valid, 0], bounds[valid, 1]),
                }
            )
        return {
            **regression_metrics(y[last], point[last]),
            **interval_metrics(y[last], low, high),
            "nominal_coverage": level,
            "width_spread": width_spread(low, high),
            "band_30_coverage": band_coverage(y[last], point[last], NAIVE_BAND),
            "evaluated_on": "the latest held-out time window "
            f"({str(data.times[last[0]])[:10]} to {str(data.times[last[-1]])[:10]}); "
            "intervals calibrated on the rows just before it",
            "interval_method": method,
            "candidates": held["candidates"],
            "interval_methods": held["methods"][chosen],
            "folds": per_fold,
            "charts": [
                interval_chart(y[last], point[last], low, high, level),
                coverage_chart(per_fold, level),
            ],
            "samples": data.n_samples,
            "roi_distribution": {
                "median": float(np.median(y)),
                "p05": float(np.quantile(y, 0.05)),
                "p95": float(np.quantile(y, 0.95)),
            },
            "data_window": {
                "start": str(data.times[0])[:10],
                "end": str(data.times[-1])[:10],
            },
        }

    def predict(self, artifact: RoiArtifact, rows: np.ndarray) -> Predictions:
        """Return the expected ROI per row and its conformal interval."""
        point, low, high = artifact.interval(rows)
        return Predictions(score=point, interval=Interval(low, high, artifact.level))


def split_for_calibration(
    data: TrainingData, train: np.ndarray, level: float
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Split time-ordered ``train`` rows into fit rows and the latest calibration rows.

    Fit rows keep only labels known before the calibration rows begin, as a model
    trained then would have seen. (None, None) when either part is too small.
    """
    # A level-coverage quantile needs at least about 1 / (1 - level) scores.
    needed = max(MIN_CALIBRATION_ROWS, int(np.ceil(2 / (1 - level))))
    n_calibration = max(int(len(train) * CALIBRATION_SHARE), needed)
    if len(train) - n_calibration < MIN_FIT_ROWS:
        return None, None
    calibration = train[-n_calibration:]
    proper = train[:-n_calibration]
    starts = data.times.astype("datetime64[s]")
    known = data.label_times.astype("datetime64[s]")
    proper = proper[known[proper] < starts[calibration[0]]]
    if len(proper) < MIN_FIT_ROWS:
        return None, None
    return proper, calibration


def _fold_scores(y: np.ndarray, predicted: np.ndarray, valid_sets) -> dict[str, Any]:
    """Return mean and per-fold MAE and R² of held-out predictions."""
    scores = [regression_metrics(y[v], predicted[v]) for v in valid_sets]
    return {
        "mae": float(np.mean([s["mae"] for s in scores])),
        "r2": float(np.mean([s["r2"] for s in scores])),
        "fold_mae": [s["mae"] for s in scores],
        "fold_r2": [s["r2"] for s in scores],
    }


def _fold_coverage(y: np.ndarray, bounds: np.ndarray, valid_sets) -> dict[str, Any]:
    """Return mean and per-fold coverage and width of held-out intervals."""
    scores = [interval_metrics(y[v], bounds[v, 0], bounds[v, 1]) for v in valid_sets]
    return {
        "coverage": float(np.mean([s["coverage"] for s in scores])),
        "mean_width": float(np.mean([s["mean_width"] for s in scores])),
        "fold_coverage": [s["coverage"] for s in scores],
        "fold_width": [s["mean_width"] for s in scores],
    }


def _choose_method(scores: dict[str, dict[str, Any]], level: float) -> str:
    """Keep the narrowest method on target (±3 points); else the closest to nominal."""
    on_target = [
        m for m, s in scores.items() if abs(s["coverage"] - level) <= COVERAGE_TOLERANCE
    ]
    if on_target:
        return min(on_target, key=lambda m: scores[m]["mean_width"])
    return min(scores, key=lambda m: abs(scores[m]["coverage"] - level))

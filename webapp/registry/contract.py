"""The model-type contract: what a plugin declares, implements, and is handed.

A model type declares what it predicts about (``subject``: an influencer-brand
pair, or a niche's activity series), its ``task``, the ``target`` whose
training-data builder core runs, its primary metric and direction, which typed
outputs its predictions fill (``outputs``), whether it can explain, its
rule-based fallback and its retraining policy. Core works from these
declarations alone: serving, the prediction log, the registry's summaries, the
model pages and the API never special-case a type.

Plugins import these names through ``webapp.model_types`` (the public plugin
API) and never touch the database: core gives them ``TrainingData`` (pair
types) or ``SeriesData`` (series types) and rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
from wtforms import Form

# progress(fraction 0..1, stage) lets a plugin report how far fit() has got.
Progress = Callable[[float, str], None]


class TrainingFailed(ValueError):
    """Raised by ``fit`` when the data cannot give a trustworthy model (shown to admins)."""


class Subject(StrEnum):
    """What a model type predicts about."""

    # An influencer-brand pair: rows are pair features (webapp.learning.features).
    PAIR = "pair"
    # A niche's activity series (NicheActivity): inputs are ``SeriesData``.
    NICHE_SERIES = "niche_series"


class Task(StrEnum):
    """The kind of prediction a model type makes (decides default metrics and charts)."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    INTERVAL_REGRESSION = "interval_regression"
    ANOMALY_SCORE = "anomaly_score"
    FORECAST = "forecast"


class Output(StrEnum):
    """The typed fields a model type's predictions fill."""

    SCORE = "score"
    CONFIDENCE = "confidence"
    INTERVAL = "interval"
    LEVEL = "level"
    FACTORS = "factors"
    FORECAST = "forecast"


@dataclass(frozen=True)
class RetrainPolicy:
    """When core retrains a type on its own.

    ``on`` is ``outcomes`` (new ratings), ``activity`` (new niche-activity
    periods) or ``manual``; ``every`` is how many new items trigger a run
    (None means the RETRAIN_EVERY_N_OUTCOMES or RETRAIN_EVERY_N_ACTIVITY setting).
    """

    on: str = "outcomes"
    every: int | None = None


@dataclass
class TrainingData:
    """Rows ordered by time, with labels, ready for time-ordered validation.

    ``X[i]`` describes the moment ``times[i]`` using only what was known before it;
    ``y[i]`` is the label core derived for the type's ``target``. Anomaly models
    may also learn from unlabelled rows: ``labelled`` marks the rows whose ``y``
    means something (all of them when None).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    # When each row's moment was (datetime64); rows are sorted by it.
    times: np.ndarray
    target: str
    # When each label became known (datetime64); defaults to ``times``.
    label_times: np.ndarray | None = None
    # What each row is in core's terms (e.g. collaboration ids); plugins ignore it.
    row_ids: np.ndarray | None = None
    # Which rows carry a label (boolean); None means every row does.
    labelled: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.X) != len(self.y) or len(self.X) != len(self.times):
            raise ValueError("X, y and times must have the same length")
        if self.X.ndim != 2 or self.X.shape[1] != len(self.feature_names):
            raise ValueError("X must be 2-D with one column per feature name")
        if len(self.times) > 1 and np.any(np.diff(self.times.astype("int64")) < 0):
            raise ValueError("rows must be ordered by time")
        if self.label_times is None:
            self.label_times = self.times

    @property
    def n_samples(self) -> int:
        """Number of labelled rows."""
        return int(len(self.y))

    def take(self, index: np.ndarray) -> TrainingData:
        """Return the rows at ``index`` (ascending, so still in time order)."""

        def pick(values):
            return None if values is None else values[index]

        return TrainingData(
            X=self.X[index],
            y=self.y[index],
            feature_names=self.feature_names,
            times=self.times[index],
            target=self.target,
            label_times=pick(self.label_times),
            row_ids=pick(self.row_ids),
            labelled=pick(self.labelled),
            meta=dict(self.meta),
        )

    def time_folds(self, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return honest time-ordered (train, validation) index pairs.

        Validation blocks follow each other in time (scikit-learn's
        TimeSeriesSplit); each block is scored by a model trained only on rows
        whose labels were known before the block starts, as it would have been
        in production.
        """
        from sklearn.model_selection import TimeSeriesSplit

        if self.n_samples <= n_splits:
            raise TrainingFailed(
                f"{self.n_samples} labelled rows cannot fill {n_splits} validation windows."
            )
        folds = []
        starts = self.times.astype("datetime64[s]")
        known = self.label_times.astype("datetime64[s]")
        for train, valid in TimeSeriesSplit(n_splits=n_splits).split(self.X):
            train = train[known[train] < starts[valid[0]]]
            folds.append((train, valid))
        return folds


@dataclass
class Series:
    """One series: values at consecutive period starts (sorted, no gaps assumed)."""

    key: str
    periods: np.ndarray  # datetime64[D], ascending
    values: np.ndarray  # float


@dataclass
class SeriesData:
    """Every series a series type learns from (e.g. one per niche), as of now."""

    series: list[Series]
    target: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_samples(self) -> int:
        """Number of observations over all series."""
        return int(sum(len(s.values) for s in self.series))


@dataclass
class HeldOut:
    """The pipeline a type's held-out metrics came from, and the window it scored.

    ``artifact`` is scored with the type's ``predict`` like a served one, but
    was fitted only on labels known before the window starts (it is not the
    served refit); ``rows`` are the window's indices into the ``TrainingData``
    given to ``fit`` (ascending). Core uses it to measure how the type ranks
    candidates in that window (``webapp.learning.ranking_quality``).
    """

    artifact: Any
    rows: np.ndarray


@dataclass
class TrainResult:
    """What ``fit`` returns: the artifact to store and its held-out metrics.

    ``held_out`` (optional) hands core the held-out pipeline and its window, so
    core can measure rankings there; it is never stored.
    """

    artifact: Any
    metrics: dict[str, Any]
    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)
    held_out: HeldOut | None = None


@dataclass
class Interval:
    """A prediction interval per row at a nominal coverage ``level`` (0.9 = 90 %)."""

    low: np.ndarray
    high: np.ndarray
    level: float


@dataclass
class Predictions:
    """What a pair type's ``predict`` returns for n rows (the fields it declares)."""

    score: np.ndarray
    confidence: np.ndarray | None = None
    interval: Interval | None = None
    # A categorical level per row, e.g. "low" | "medium" | "high".
    level: np.ndarray | None = None
    # Signed per-factor contributions (n x k): aligned with the input feature
    # names, or with ``factor_names`` when the type explains in its own terms.
    factors: np.ndarray | None = None
    # Names of the factor columns when they are not the input features (e.g. risk checks).
    factor_names: list[str] | None = None
    # The value shown with each factor (n x k, e.g. a robust z-score); None: the input value.
    factor_values: np.ndarray | None = None


@dataclass
class ForecastPoint:
    """One forecast period: the point forecast and its interval."""

    period_start: date
    value: float
    lower: float
    upper: float


@dataclass
class Forecast:
    """A series type's forecast of one series, with how it was chosen."""

    key: str
    method: str
    level: float
    points: list[ForecastPoint]
    # Rolling-origin backtest figures of the chosen method (e.g. mase, beats_naive).
    backtest: dict[str, Any] = field(default_factory=dict)
    # Type-specific summary values (e.g. growth_rate, trend) and a note when honest
    # caveats apply (too short, does not beat naive).
    summary: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


CHART_KINDS = ("line", "scatter", "bar")


def chart_spec(
    key: str,
    title: str,
    kind: str,
    datasets: list[dict[str, Any]],
    x_label: str = "",
    y_label: str = "",
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """Return a chart for a version's metrics (``metrics["charts"]``), drawn by the pages.

    The model page draws every chart a version stores, overlaying versions that
    are compared, so a plugin's own charts appear with no change in core.

    :param key: stable id, the same across versions (``"roc"``, ``"coverage"``).
    :param kind: ``line``, ``scatter`` or ``bar`` (a dataset may override it).
    :param datasets: ``{"label", "data", "kind"?, "dashed"?, "fill"?}`` each; for
        line and scatter ``data`` is ``[{"x", "y"}, ...]``, for bar a list of
        numbers aligned with ``labels``; ``fill`` names another dataset's label
        to shade the band between them (intervals).
    """
    if kind not in CHART_KINDS:
        raise ValueError(f"chart kind must be one of {CHART_KINDS}, not {kind!r}")
    return {
        "key": key,
        "title": title,
        "kind": kind,
        "x_label": x_label,
        "y_label": y_label,
        "labels": labels,
        "datasets": datasets,
    }


def table_spec(
    key: str, title: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Return a table for a version's metrics (``metrics["tables"]``), shown on its page.

    :param columns: ``(field, heading)`` pairs, in order; each row is a dict of
        those fields (numbers are formatted, booleans shown as yes/no).
    """
    return {
        "key": key,
        "title": title,
        "columns": [{"field": f, "heading": h} for f, h in columns],
        "rows": rows,
    }


class EmptyParamsForm(Form):
    """A params form with no fields, for model types without settings."""


class ModelType:
    """Base class of every model type plugin: a declaration plus fit and predict."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # What predictions are about, and what kind of prediction they are.
    subject: ClassVar[Subject] = Subject.PAIR
    task: ClassVar[Task] = Task.CLASSIFICATION
    # Which training-data builder core runs for fit() (entry-point group
    # matchloop.targets): "success" (binary), "roi" (numeric), ...
    target: ClassVar[str] = "success"
    # The held-out metric versions are compared on, and its direction.
    primary_metric: ClassVar[str] = "roc_auc"
    higher_is_better: ClassVar[bool] = True
    # The metrics summarised in lists and the API (None: the task's defaults).
    summary_metrics: ClassVar[tuple[str, ...] | None] = None
    # Which Predictions fields predict() fills.
    outputs: ClassVar[frozenset[Output]] = frozenset({Output.SCORE})
    # The response key of the score ("success_probability", "expected_roi", ...).
    score_key: ClassVar[str] = "score"
    # What the score means, shown next to predictions ("success probability", ...).
    score_label: ClassVar[str] = "score"
    # True when predict(..., explain=True) fills ``factors``.
    can_explain: ClassVar[bool] = False
    # Which feature columns a pair type's rows hold (``webapp.learning.feature_sets``):
    # "pair" (the pair features) or "pair_checks" (pair features plus profile checks).
    features: ClassVar[str] = "pair"
    # Words for factor names that are not pair features (``Predictions.factor_names``).
    factor_labels: ClassVar[dict[str, str]] = {}
    # The values ``Predictions.level`` may take, in rising order (Output.LEVEL).
    levels: ClassVar[tuple[str, ...]] = ()
    retraining: ClassVar[RetrainPolicy] = RetrainPolicy()
    params_form: ClassVar[type[Form]] = EmptyParamsForm

    def fit(
        self, data: TrainingData, params: dict[str, Any], progress: Progress
    ) -> TrainResult:
        """Train on ``data`` and return the artifact with held-out metrics."""
        raise NotImplementedError

    def predict(self, artifact: Any, rows: np.ndarray) -> Predictions:
        """Score feature ``rows`` (n x f) with a trained ``artifact``."""
        raise NotImplementedError

    def explain(self, artifact: Any, rows: np.ndarray) -> np.ndarray:
        """Return signed per-feature contributions (n x f) to each row's score."""
        raise NotImplementedError

    def predict_and_explain(
        self, artifact: Any, rows: np.ndarray
    ) -> tuple[Predictions, np.ndarray]:
        """Return ``predict`` and ``explain`` together; override to share work."""
        return self.predict(artifact, rows), self.explain(artifact, rows)

    def fallback(self, rows: Any) -> Any:
        """Answer without a model: the documented rule-based scorer of this type.

        Pair types get feature rows and return ``Predictions``; series types get
        ``SeriesData`` and a horizon (``fallback_forecast``).
        """
        raise NotImplementedError

    def forecast(self, artifact: Any, data: SeriesData, horizon: int) -> list[Forecast]:
        """Series types: forecast every series ``horizon`` periods ahead."""
        raise NotImplementedError

    def fallback_forecast(self, data: SeriesData, horizon: int) -> list[Forecast]:
        """Series types: the rule-based forecast (e.g. seasonal naive) without a model."""
        raise NotImplementedError

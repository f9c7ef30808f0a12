"""The model-type contract: what a plugin implements and what core hands it.

Plugins import these names through ``webapp.model_types`` (the public plugin
API) and never touch the database: core gives them ``TrainingData`` and rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from wtforms import Form

# progress(fraction 0..1, stage) lets a plugin report how far fit() has got.
Progress = Callable[[float, str], None]


class TrainingFailed(ValueError):
    """Raised by ``fit`` when the data cannot give a trustworthy model (shown to admins)."""


@dataclass
class TrainingData:
    """Rows ordered by time, with labels, ready for time-ordered validation.

    ``X[i]`` describes the moment ``times[i]`` using only what was known before it;
    ``y[i]`` is the label core derived for the type's ``target``.
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
class TrainResult:
    """What ``fit`` returns: the artifact to store and its held-out metrics."""

    artifact: Any
    metrics: dict[str, Any]
    algorithm: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Predictions:
    """What ``predict`` returns for n rows: a score, its uncertainty, and extras."""

    score: np.ndarray
    confidence: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)


class EmptyParamsForm(Form):
    """A params form with no fields, for model types without settings."""


class ModelType:
    """Base class of every model type plugin."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # Which labels core builds for fit(): "success" (binary), "roi" (numeric), ...
    target: ClassVar[str] = "success"
    # What the score means, shown next to predictions ("success probability", ...).
    score_label: ClassVar[str] = "score"
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

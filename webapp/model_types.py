"""The model-type plugin contract and the registry built from entry points.

A model type is a class declared under the entry-point group
``matchloop.model_types``; the entry-point name must equal the class's ``name``,
which is also the string stored in the database. Plugins import only this module
(and their ML libraries); core hands them ``TrainingData`` and feature rows and
never lets them touch the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar

import numpy as np
from wtforms import Form

ENTRY_POINT_GROUP = "matchloop.model_types"

# progress(fraction 0..1, stage) lets a plugin report how far fit() has got.
Progress = Callable[[float, str], None]


class RegistryError(RuntimeError):
    """Raised when the installed model types cannot form a consistent registry."""


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


class ModelTypeRegistry:
    """The model types installed for one app, by name."""

    def __init__(self, types: Iterable[ModelType] = ()) -> None:
        self._types: dict[str, ModelType] = {}
        for model_type in types:
            self.add(model_type)

    @classmethod
    def from_entry_points(
        cls, points: Iterable[EntryPoint] | None = None
    ) -> ModelTypeRegistry:
        """Load every model type declared in the entry-point group."""
        if points is None:
            points = entry_points(group=ENTRY_POINT_GROUP)
        registry = cls()
        for point in points:
            loaded = point.load()
            if not (isinstance(loaded, type) and issubclass(loaded, ModelType)):
                raise RegistryError(
                    f"entry point {point.name!r} ({point.value}) is not a ModelType"
                )
            if loaded.name != point.name:
                raise RegistryError(
                    f"entry point {point.name!r} loads {loaded.__name__} whose name is "
                    f"{loaded.name!r}; they must match"
                )
            registry.add(loaded())
        return registry

    def add(self, model_type: ModelType) -> None:
        """Register ``model_type``; a second type with the same name is an error."""
        if not model_type.name:
            raise RegistryError(f"{type(model_type).__name__} has no name")
        if model_type.name in self._types:
            raise RegistryError(
                f"model type {model_type.name!r} is declared twice "
                f"({type(self._types[model_type.name]).__module__} and "
                f"{type(model_type).__module__})"
            )
        self._types[model_type.name] = model_type

    def get(self, name: str) -> ModelType:
        """Return the model type called ``name``; KeyError when not installed."""
        return self._types[name]

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[ModelType]:
        return iter(sorted(self._types.values(), key=lambda t: t.name))

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        """Return the installed type names, sorted."""
        return sorted(self._types)


def registry_of(app: Any) -> ModelTypeRegistry:
    """Return the model-type registry of a Flask ``app``."""
    return app.extensions["matchloop.model_types"]

"""What a trained roi model stores: the point regressor and its conformal interval model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin


@dataclass
class RoiArtifact:
    """A fitted point regressor plus a MAPIE conformaliser calibrated on later rows.

    ``conformal`` is a conformalised MAPIE regressor (split conformal or CQR)
    whose point slot is ``regressor``; its intervals are widened when needed so
    that each contains the point estimate.
    """

    regressor: Any
    conformal: Any
    algorithm: str
    interval_method: str
    level: float
    feature_names: list[str]

    def point(self, rows: np.ndarray) -> np.ndarray:
        """Return the expected ROI per row."""
        return np.asarray(self.regressor.predict(rows), dtype=float)

    def interval(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (expected ROI, interval low, interval high) per row."""
        return conformal_interval(self.conformal, self.regressor, rows)


class Midpoint(RegressorMixin, BaseEstimator):
    """The midpoint of two fitted quantile models: CQR's centre slot in MAPIE.

    MAPIE wants a centre between the bounds (it logs through the root logger
    otherwise); the served point estimate is the squared-error regressor.
    """

    def __init__(self, low: Any = None, high: Any = None) -> None:
        self.low = low
        self.high = high

    def fit(self, X, y):  # pragma: no cover - built from fitted models, never refitted
        raise NotImplementedError("Midpoint wraps already fitted quantile models")

    def predict(self, X) -> np.ndarray:
        return (self.low.predict(X) + self.high.predict(X)) / 2

    @property
    def n_features_in_(self) -> int:
        return self.low.n_features_in_


def conformal_interval(
    conformal: Any, regressor: Any, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (point, low, high): MAPIE's interval, stretched to contain the point.

    CQR's bounds come from quantile models, so for a few rows they can miss the
    squared-error point estimate; stretching only widens, so coverage never drops.
    """
    point = np.asarray(regressor.predict(rows), dtype=float)
    _, bounds = conformal.predict_interval(rows)
    low = np.minimum(np.asarray(bounds[:, 0, 0], dtype=float), point)
    high = np.maximum(np.asarray(bounds[:, 1, 0], dtype=float), point)
    return point, low, high

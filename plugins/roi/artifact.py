"""What a trained roi model stores: the point regressor and its conformal interval model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


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

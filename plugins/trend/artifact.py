"""What a trained trend model stores: per niche the chosen method and its forecast path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from plugins.trend.frequency import Frequency
from plugins.trend.methods import Setting


@dataclass
class NicheModel:
    """One niche's chosen method, backtest and forecast from its latest period.

    ``mean``/``lower``/``upper`` run ``len(mean)`` periods past ``last_period``;
    a series that has grown since is refitted with the same method on serving.
    """

    key: str
    method: str
    spec: str
    frequency: Frequency
    setting: Setting
    last_period: np.datetime64
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    backtest: dict[str, Any]
    summary: dict[str, Any]
    note: str | None = None


@dataclass
class TrendArtifact:
    """Every niche's model, the interval level and the settings it was trained with."""

    niches: dict[str, NicheModel]
    level: float
    stable_band: float
    params: dict[str, Any] = field(default_factory=dict)

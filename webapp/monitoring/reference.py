"""A version's training distribution per input feature, kept for drift checks; pure.

Registering a version stores ``reference(columns)`` in its metrics under
``feature_reference`` (``registry.versions.register_version``), one code path
for every type: pair types give their feature columns, series types their
values (``training_columns``). A feature with few integer values (flags,
small counts) is categorical and keeps its category counts; any other is
numeric and keeps decile bin edges with the training count per bin, plus
``SAMPLE_POINTS`` evenly spaced quantiles of the training values, the sample
the KS test compares live values with (the full training column is not kept:
the p-value is that of a reference of at most SAMPLE_POINTS values, so it
errs toward calling no drift).
"""

from __future__ import annotations

from typing import Any

import numpy as np

REFERENCE_KEY = "feature_reference"
MAX_CATEGORIES = 12
SAMPLE_POINTS = 100
DECILES = np.linspace(0.1, 0.9, 9)


def training_columns(data: Any) -> dict[str, np.ndarray]:
    """Return the input columns a version learnt from, by feature name.

    ``TrainingData`` gives its feature columns (labelled rows or not: all are
    inputs); ``SeriesData`` gives one column, ``value``, of every observation.
    """
    if hasattr(data, "X"):
        X = np.asarray(data.X, dtype=float)
        return {name: X[:, j] for j, name in enumerate(data.feature_names)}
    values = [np.asarray(s.values, dtype=float) for s in data.series]
    return {"value": np.concatenate(values) if values else np.zeros(0)}


def is_categorical(values: np.ndarray) -> bool:
    """True when ``values`` take at most MAX_CATEGORIES distinct integer values."""
    distinct = np.unique(values)
    return len(distinct) <= MAX_CATEGORIES and bool(
        np.all(distinct == np.round(distinct))
    )


def category(value: float) -> str:
    """Return the category key of an integer-valued feature value ("0", "1", ...)."""
    return str(int(round(float(value))))


def feature_reference(values: np.ndarray) -> dict[str, Any] | None:
    """Return one feature's reference distribution, None when it has no finite value."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    if is_categorical(values):
        keys, counts = np.unique([category(v) for v in values], return_counts=True)
        return {
            "kind": "categorical",
            "n": int(len(values)),
            "counts": {str(k): int(c) for k, c in zip(keys, counts, strict=True)},
        }
    edges = np.unique(np.quantile(values, DECILES))
    counts = np.bincount(bin_index(edges, values), minlength=len(edges) + 1)
    points = min(len(values), SAMPLE_POINTS)
    sample = np.quantile(values, (np.arange(points) + 0.5) / points)
    return {
        "kind": "numeric",
        "n": int(len(values)),
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "sample": [float(f"{v:.6g}") for v in sample],
    }


def bin_index(edges: np.ndarray | list[float], values: np.ndarray) -> np.ndarray:
    """Return each value's bin: 0 below the first edge, i for [edge i-1, edge i)."""
    return np.searchsorted(np.asarray(edges, dtype=float), values, side="right")


def reference(columns: dict[str, np.ndarray]) -> dict[str, Any]:
    """Return every feature's reference (features without values are left out)."""
    found = {name: feature_reference(values) for name, values in columns.items()}
    return {name: entry for name, entry in found.items() if entry is not None}

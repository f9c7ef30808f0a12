"""Data drift of one feature: live values against a version's training reference; pure.

The population stability index compares the share of values per bin (numeric:
the reference's decile bins; categorical: its categories plus whatever new
ones appear). It is the symmetric Kullback-Leibler divergence of the two
shares, computed with scipy's ``rel_entr``; an empty share is floored at
``EPSILON`` so a bin that empties out counts, as usual for PSI. The test that
suits the feature goes with it: two-sample Kolmogorov-Smirnov (numeric, against
the reference's quantile sample) or chi-square on the count table (categorical).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import rel_entr
from scipy.stats import chi2_contingency, ks_2samp

from webapp.monitoring.reference import bin_index, category

EPSILON = 1e-4


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Return the PSI of two count (or share) vectors over the same bins."""
    expected = np.asarray(expected, dtype=float)
    actual = np.asarray(actual, dtype=float)
    e = np.maximum(expected / expected.sum(), EPSILON)
    a = np.maximum(actual / actual.sum(), EPSILON)
    return float(np.sum(rel_entr(a, e) + rel_entr(e, a)))


def live_counts(entry: dict[str, Any], values: np.ndarray) -> tuple[list, list, list]:
    """Return (bin labels, reference counts, live counts) of ``values`` in ``entry``'s bins."""
    if entry["kind"] == "numeric":
        edges = entry["edges"]
        counts = np.bincount(bin_index(edges, values), minlength=len(edges) + 1)
        labels = [f"< {edges[0]:.3g}"] if edges else ["all"]
        labels += [
            f"{lo:.3g} to {hi:.3g}" for lo, hi in zip(edges, edges[1:], strict=False)
        ]
        labels += [f">= {edges[-1]:.3g}"] if edges else []
        return labels, list(entry["counts"]), counts.tolist()
    keys, counts = np.unique([category(v) for v in values], return_counts=True)
    live = dict(zip(keys.tolist(), counts.tolist(), strict=True))
    labels = sorted(set(entry["counts"]) | set(live), key=lambda k: int(k))
    return (
        labels,
        [entry["counts"].get(k, 0) for k in labels],
        [live.get(k, 0) for k in labels],
    )


def test(entry: dict[str, Any], values: np.ndarray, ref: list, live: list):
    """Return (test name, statistic, p-value) of the test that suits the feature."""
    if entry["kind"] == "numeric":
        result = ks_2samp(np.asarray(entry["sample"], dtype=float), values)
        return "ks", float(result.statistic), float(result.pvalue)
    table = np.array([ref, live], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return "chi2", None, None  # one category on both sides: nothing to test
    result = chi2_contingency(table)
    return "chi2", float(result.statistic), float(result.pvalue)


def feature_drift(entry: dict[str, Any], values: np.ndarray) -> dict[str, Any] | None:
    """Return PSI, the test and the bin shares of one feature; None without live values."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return None
    labels, ref, live = live_counts(entry, values)
    name, statistic, p_value = test(entry, values, ref, live)
    return {
        "kind": entry["kind"],
        "psi": psi(ref, live),
        "test": name,
        "statistic": statistic,
        "p_value": p_value,
        "live_n": int(len(values)),
        "reference_n": int(entry["n"]),
        "bins": labels,
        "reference_share": (np.asarray(ref) / max(sum(ref), 1)).tolist(),
        "live_share": (np.asarray(live) / max(sum(live), 1)).tolist(),
    }


def drift(
    references: dict[str, dict[str, Any]], live: dict[str, np.ndarray]
) -> dict[str, dict[str, Any]]:
    """Return each referenced feature's drift (features without live values left out)."""
    found = {
        name: feature_drift(entry, live[name])
        for name, entry in references.items()
        if name in live
    }
    return {name: result for name, result in found.items() if result is not None}

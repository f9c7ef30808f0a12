"""Deterministic, GrowthBook-compatible assignment of units to variants.

The rules follow GrowthBook's SDK specification (the JavaScript SDK is the
reference, and its ``cases.json`` vectors are the tests): hash a unit with FNV-1a
32-bit, map the hash to [0, 1), and find the variant whose bucket range holds it.
Any GrowthBook SDK given the same experiment (key as seed, weights, coverage,
namespace, hash version) therefore reproduces Matchloop's assignments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FNV_OFFSET_BASIS_32 = 0x811C9DC5
FNV_PRIME_32 = 0x01000193
UINT32_MODULUS = 2**32
WEIGHT_SUM_TOLERANCE = 0.01

BucketRange = tuple[float, float]
Namespace = tuple[str, float, float]


def fnv1a32(text: str) -> int:
    """Return the 32-bit FNV-1a hash of ``text`` as GrowthBook computes it.

    GrowthBook's reference SDK XORs in UTF-16 code units (JavaScript's
    ``charCodeAt``), so those are used here too; for ASCII input they are the bytes.
    """
    value = FNV_OFFSET_BASIS_32
    utf16 = text.encode("utf-16-le")
    for index in range(0, len(utf16), 2):
        value ^= int.from_bytes(utf16[index : index + 2], "little")
        value = (value * FNV_PRIME_32) % UINT32_MODULUS
    return value


def gb_hash(seed: str, value: str, version: int) -> float | None:
    """Map ``value`` under ``seed`` to [0, 1); ``None`` for an unknown version.

    Version 1 (GrowthBook's original, slightly biased) hashes ``value + seed`` to
    three decimals; version 2 re-hashes the decimal string of the first hash of
    ``seed + value`` and keeps four decimals.
    """
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000
    if version == 1:
        return (fnv1a32(value + seed) % 1000) / 1000
    return None


def get_equal_weights(num_variations: int) -> list[float]:
    """Return ``num_variations`` equal weights (empty when there are none)."""
    if num_variations <= 0:
        return []
    return [1 / num_variations] * num_variations


def get_bucket_range(
    num_variations: int,
    coverage: float | None = 1.0,
    weights: Sequence[float] | None = None,
) -> list[BucketRange]:
    """Return each variant's [start, end) range of the hash space.

    Coverage is clamped to 0..1. Weights fall back to equal weights when they are
    missing, of the wrong length, or do not sum to 1 within 0.01 (GrowthBook does
    not rescale them). Each variant's range starts at its cumulative weight and
    covers ``coverage`` of its weight, so lowering coverage never moves a unit
    from one variant to another.
    """
    coverage = 1.0 if coverage is None else min(max(coverage, 0.0), 1.0)
    equal = get_equal_weights(num_variations)
    chosen = list(weights) if weights is not None else equal
    if len(chosen) != num_variations:
        chosen = equal
    total = sum(chosen)
    if total < 1 - WEIGHT_SUM_TOLERANCE or total > 1 + WEIGHT_SUM_TOLERANCE:
        chosen = equal
    ranges = []
    cumulative = 0.0
    for weight in chosen:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def in_range(value: float, bucket: Sequence[float]) -> bool:
    """Return whether ``value`` lies in the half-open range [start, end)."""
    return bucket[0] <= value < bucket[1]


def choose_variation(value: float, ranges: Sequence[Sequence[float]]) -> int:
    """Return the index of the range holding ``value``, or -1 (GrowthBook's "none")."""
    for index, bucket in enumerate(ranges):
        if in_range(value, bucket):
            return index
    return -1


def in_namespace(hash_value: str, namespace: Sequence) -> bool:
    """Return whether a unit falls in a namespace ``(id, start, end)``.

    GrowthBook hashes ``unit + "__" + namespace id`` with version 1, so that the
    same unit lands at the same place in the namespace for every experiment in it.
    """
    namespace_id, start, end = namespace
    position = gb_hash("__" + namespace_id, hash_value, 1)
    return start <= position < end


def assign(
    experiment_key: str,
    unit_id: str | int | None,
    weights: Sequence[float],
    coverage: float = 1.0,
    namespace: Namespace | Sequence | Mapping | None = None,
    hash_version: int = 2,
    seed: str | None = None,
) -> int | None:
    """Return the variant index a unit gets, or ``None`` when it is not in the test.

    The hash seed is the experiment key unless ``seed`` is given. A unit is out of
    the experiment when its id is empty, there are fewer than two variants, it
    falls outside the namespace, or its hash lands outside every covered range.
    A namespace is ``(id, start, end)`` or a mapping with those keys (the API's
    ``{"id", "start", "end"}``).
    """
    unit = "" if unit_id is None else str(unit_id)
    if unit == "" or len(weights) < 2:
        return None
    if isinstance(namespace, Mapping):
        namespace = (namespace["id"], namespace["start"], namespace["end"])
    if namespace is not None and not in_namespace(unit, namespace):
        return None
    position = gb_hash(experiment_key if seed is None else seed, unit, hash_version)
    if position is None:
        return None
    ranges = get_bucket_range(len(weights), coverage, weights)
    index = choose_variation(position, ranges)
    return None if index < 0 else index

"""GrowthBook conformance and properties of the assignment functions (no app)."""

import json
from collections import Counter
from pathlib import Path

import pytest

from webapp.experiments.assignment import (
    assign,
    choose_variation,
    fnv1a32,
    gb_hash,
    get_bucket_range,
    get_equal_weights,
    in_namespace,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CASES_RELATIVE = Path("shared/conformance/growthbook-cases.json")


def find_cases_file() -> Path | None:
    """Return ../shared/conformance/growthbook-cases.json seen from the project root.

    The project root's parent comes first (the main checkout); further ancestors
    are tried so that a git worktree nested one level deeper finds it too.
    """
    for ancestor in PROJECT_ROOT.parents:
        candidate = ancestor / CASES_RELATIVE
        if candidate.is_file():
            return candidate
    return None


CASES_FILE = find_cases_file()
CASES = json.loads(CASES_FILE.read_text()) if CASES_FILE else {}
needs_cases = pytest.mark.skipif(
    CASES_FILE is None,
    reason=f"conformance file {CASES_RELATIVE} not found above {PROJECT_ROOT}",
)


def cases(section: str) -> list:
    """Return one section's cases, or a single placeholder so the skip shows."""
    return CASES.get(section) or [pytest.param(None, marks=needs_cases)]


def test_conformance_sections_are_complete():
    """The fixture holds the sections and counts its README promises."""
    if CASES_FILE is None:
        pytest.skip(f"conformance file {CASES_RELATIVE} not found above {PROJECT_ROOT}")
    counts = {name: len(CASES[name]) for name in CASES if name != "specVersion"}
    assert counts["hash"] == 15
    assert counts["getBucketRange"] == 13
    assert counts["chooseVariation"] == 13
    assert counts["inNamespace"] == 16
    assert counts["getEqualWeights"] == 6


@needs_cases
@pytest.mark.parametrize("case", cases("hash"))
def test_hash_conformance(case):
    """gb_hash gives GrowthBook's value for every seed, value and version."""
    seed, value, version, expected = case
    result = gb_hash(seed, value, version)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, abs=1e-12)


@needs_cases
@pytest.mark.parametrize("case", cases("getBucketRange"))
def test_bucket_range_conformance(case):
    """get_bucket_range matches GrowthBook, including its invalid-weight fallbacks."""
    _name, (num_variations, coverage, weights), expected = case
    result = get_bucket_range(num_variations, coverage, weights)
    assert len(result) == len(expected)
    for got, want in zip(result, expected, strict=True):
        assert got == pytest.approx(tuple(want), abs=1e-9)


@needs_cases
@pytest.mark.parametrize("case", cases("chooseVariation"))
def test_choose_variation_conformance(case):
    """choose_variation returns GrowthBook's index, -1 when no range holds n."""
    _name, value, ranges, expected = case
    assert choose_variation(value, ranges) == expected


@needs_cases
@pytest.mark.parametrize("case", cases("inNamespace"))
def test_in_namespace_conformance(case):
    """in_namespace agrees with GrowthBook for every unit and namespace range."""
    _name, hash_value, namespace, expected = case
    assert in_namespace(hash_value, namespace) is expected


@needs_cases
@pytest.mark.parametrize("case", cases("getEqualWeights"))
def test_equal_weights_conformance(case):
    """get_equal_weights matches the vectors (stored to 8 decimals)."""
    n, expected = case
    assert get_equal_weights(n) == pytest.approx(expected, abs=1e-8)


RUN_KEYS = {"key", "variations", "weights", "coverage", "namespace", "seed"}


def plain_run_cases() -> list:
    """Return the `run` cases that use only what `assign` models.

    Those are cases whose context has only an ``id`` attribute and whose
    experiment sets only key, variations, weights, coverage, namespace, seed and
    hash version (no forcing, conditions, filters, explicit ranges or QA mode).
    """
    selected = []
    for name, context, experiment, _value, in_experiment, _hashed in CASES.get(
        "run", []
    ):
        if set(context) - {"attributes"} or set(context.get("attributes", {})) - {"id"}:
            continue
        if set(experiment) - RUN_KEYS - {"hashVersion"}:
            continue
        selected.append(
            pytest.param(context, experiment, _value, in_experiment, id=name)
        )
    return selected or [pytest.param(None, None, None, None, marks=needs_cases)]


@needs_cases
@pytest.mark.parametrize(
    ("context", "experiment", "value", "in_experiment"), plain_run_cases()
)
def test_assign_reproduces_growthbook_run_cases(
    context, experiment, value, in_experiment
):
    """assign() puts each unit where GrowthBook's `run` would."""
    variations = experiment["variations"]
    weights = experiment.get("weights") or get_equal_weights(len(variations))
    result = assign(
        experiment["key"],
        context.get("attributes", {}).get("id"),
        weights,
        coverage=experiment.get("coverage", 1.0),
        namespace=experiment.get("namespace"),
        hash_version=experiment.get("hashVersion", 1),
        seed=experiment.get("seed"),
    )
    if in_experiment:
        assert result is not None
        assert variations[result] == value
    else:
        assert result is None


def test_fnv1a32_known_vectors():
    """FNV-1a 32 matches the published test vectors (Noll's FNV page)."""
    assert fnv1a32("") == 0x811C9DC5
    assert fnv1a32("a") == 0xE40C292C
    assert fnv1a32("foobar") == 0xBF9CF968


def test_unknown_hash_version_puts_nobody_in_the_experiment():
    """An unknown hash version yields None, as GrowthBook skips the experiment."""
    assert gb_hash("abc", "def", 99) is None
    assert assign("exp", "1", [0.5, 0.5], hash_version=99) is None


def test_assign_is_deterministic_and_follows_weights():
    """Same inputs give the same variant; 10,000 units split near 20/80."""
    first = [assign("matching-v2", unit, [0.2, 0.8]) for unit in range(10_000)]
    again = [assign("matching-v2", unit, [0.2, 0.8]) for unit in range(10_000)]
    assert first == again
    counts = Counter(first)
    assert set(counts) == {0, 1}
    assert counts[0] == pytest.approx(2_000, abs=150)  # > 3.5 standard deviations


def test_lower_coverage_only_removes_units():
    """Reducing coverage drops units but never moves one to another variant."""
    for unit in range(2_000):
        full = assign("cov-test", unit, [0.5, 0.5], coverage=1.0)
        partial = assign("cov-test", unit, [0.5, 0.5], coverage=0.3)
        assert partial is None or partial == full


def test_out_of_namespace_and_empty_units_are_not_in_the_experiment():
    """Units outside the namespace range, or with no id, get None."""
    outside = [
        unit
        for unit in map(str, range(200))
        if not in_namespace(unit, ("ns", 0.0, 0.5))
    ]
    assert outside
    assert all(
        assign("e", unit, [0.5, 0.5], namespace=("ns", 0.0, 0.5)) is None
        for unit in outside
    )
    as_mapping = {"id": "ns", "start": 0.0, "end": 0.5}
    assert all(
        assign("e", unit, [0.5, 0.5], namespace=as_mapping) is None for unit in outside
    )
    assert assign("e", "", [0.5, 0.5]) is None
    assert assign("e", None, [0.5, 0.5]) is None
    assert assign("e", "1", [1.0]) is None

"""The results document and the rule that declares a winner (no app needed)."""

import pytest

from webapp.experiments.results import (
    RateVariant,
    decide_winner,
    experiment_results,
    metric_kind,
)

CONTROL = RateVariant("control", 5100, 5000, 500)  # 10.0 %
BETTER = RateVariant("better", 5050, 5000, 600)  # 12.0 %, p ~ 0.001
SAME = RateVariant("same", 5050, 5000, 505)
WORSE = RateVariant("worse", 5050, 5000, 400)  # 8.0 %


def results(variants, **overrides):
    """Return experiment_results for rate variants with sensible defaults."""
    arguments = {
        "key": "ranker-v2",
        "status": "running",
        "metric": "success_rate",
        "variants": variants,
        "weights": [1 / len(variants)] * len(variants),
        "required_sample_size": 4000,
    }
    return experiment_results(**(arguments | overrides))


def test_results_document_has_exactly_the_api_fields():
    """Top level and variants carry the fields of the results API, in set-up order."""
    document = results([CONTROL, BETTER])
    assert set(document) == {
        "key",
        "status",
        "metric",
        "srm_p_value",
        "srm_flag",
        "winner",
        "variants",
    }
    assert [row["key"] for row in document["variants"]] == ["control", "better"]
    assert document["winner"] == "better"
    assert document["srm_flag"] is False


def test_no_winner_before_the_sample_size_is_reached():
    """A significant lift is not a winner until every variant has the sample."""
    assert results([CONTROL, BETTER], required_sample_size=6000)["winner"] is None
    assert results([CONTROL, BETTER], required_sample_size=None)["winner"] is None


def test_no_winner_under_a_sample_ratio_mismatch():
    """A 50/50 test that exposed 5,000 vs 5,600 units declares nothing."""
    skewed = RateVariant("better", 5700, 5600, 672)
    document = results([CONTROL, skewed])
    assert document["srm_flag"] is True
    assert document["winner"] is None


def test_no_winner_without_significance():
    """An insignificant difference gives no winner either way."""
    assert results([CONTROL, SAME])["winner"] is None


def test_guardrail_significantly_worse_blocks_the_winner():
    """The primary metric wins, but acceptance falls significantly: no winner."""
    guardrail = [
        RateVariant("control", 5100, 5000, 2000),
        RateVariant("better", 5050, 5000, 1800),
    ]
    document = results([CONTROL, BETTER], guardrails={"acceptance_rate": guardrail})
    assert document["winner"] is None
    harmless = [
        RateVariant("control", 5100, 5000, 2000),
        RateVariant("better", 5050, 5000, 2010),
    ]
    assert (
        results([CONTROL, BETTER], guardrails={"acceptance_rate": harmless})["winner"]
        == "better"
    )


def test_control_wins_when_every_treatment_is_significantly_worse():
    """Keeping the control is the decision when the treatment clearly loses."""
    assert results([CONTROL, WORSE])["winner"] == "control"
    assert results([CONTROL, WORSE, SAME])["winner"] is None


def test_best_significant_treatment_wins_among_several():
    """With three treatments the largest significant improvement wins."""
    best = RateVariant("best", 5050, 5000, 700)
    assert results([CONTROL, BETTER, best, SAME])["winner"] == "best"


def test_holm_correction_applies_to_several_treatments():
    """p = 0.03 is a winner alone, but not among three treatments (Holm)."""
    rows = [
        {"key": "control", "p_value": None, "lift_abs": None},
        {"key": "t1", "p_value": 0.03, "lift_abs": 0.01},
    ]
    assert decide_winner(rows, {}, True, False) == "t1"
    rows += [
        {"key": "t2", "p_value": 0.5, "lift_abs": 0.001},
        {"key": "t3", "p_value": 0.6, "lift_abs": -0.001},
    ]
    assert decide_winner(rows, {}, True, False) is None


def test_sequential_mode_is_more_cautious_early():
    """The same counts give a larger, always-valid p-value in sequential mode."""
    fixed = results([CONTROL, BETTER])["variants"][1]
    sequential = results([CONTROL, BETTER], sequential_tuning=5000)["variants"][1]
    assert sequential["p_value"] > fixed["p_value"]
    low, high = sequential["lift_abs_ci"]
    assert low < fixed["lift_abs_ci"][0] and high > fixed["lift_abs_ci"][1]


def test_bad_inputs_fail_loudly():
    """Unknown metrics and mismatched weights are errors, not silent defaults."""
    with pytest.raises(ValueError):
        metric_kind("clicks")
    with pytest.raises(ValueError):
        results([CONTROL, BETTER], weights=[1.0])
    with pytest.raises(ValueError):
        results([CONTROL, BETTER], metric="mean_roi")

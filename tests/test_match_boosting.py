"""Gradient boosting tuned on time (``plugins.match_success.boosting``): no app, no database."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss
from test_match_success_plugin import no_progress, synthetic

from plugins.match_success import boosting
from plugins.match_success.plugin import MatchSuccessModel, fit_candidate
from webapp.learning.features import FEATURE_NAMES


def late_labels(n: int = 3000, seed: int = 0):
    """Synthetic rows whose labels become known 0-60 days after the proposal."""
    data = synthetic(n=n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    data.label_times = data.times + rng.integers(0, 60, n).astype("timedelta64[D]")
    return data


def test_the_validation_tail_is_later_than_every_row_it_is_judged_against():
    data = late_labels()
    rows = np.arange(2400)  # a training part; rows 2400+ stand for its test window
    fit_rows, tail = boosting.validation_tail(data, rows)
    assert len(tail) == 480 and set(tail) <= set(rows) and set(fit_rows) <= set(rows)
    assert not set(fit_rows) & set(tail)
    # No tail row was proposed before a fit row, and every fit row's label was
    # known before the tail starts (the rows labelled later are left out).
    assert data.times[tail].min() > data.times[fit_rows].max()
    assert data.label_times[fit_rows].max() < data.times[tail[0]]
    assert len(fit_rows) < len(rows) - len(tail)
    # Never the test window, never a shuffle: the tail is the latest training rows.
    assert tail.max() < 2400 and np.all(np.diff(tail) == 1)


def test_the_search_is_judged_on_the_tail_never_on_later_rows():
    data = late_labels()
    rows = np.arange(2400)
    before = boosting.tune(data, rows)
    assert before.record["tuned"] and len(before.record["tried"]) == len(
        boosting.SEARCH
    )
    planted = late_labels()
    planted.y[2400:] = np.random.default_rng(5).permutation(planted.y[2400:])
    assert boosting.tune(planted, rows).record == before.record
    # The tail does judge: other labels there change the figures it records.
    planted.y[rows[-480:]] = 1 - planted.y[rows[-480:]]
    assert boosting.tune(planted, rows).record["tried"] != before.record["tried"]


def test_the_chosen_configuration_has_the_lowest_tail_loss_it_reproduces():
    data = late_labels()
    rows = np.arange(2400)
    tuned = boosting.tune(data, rows)
    tried = tuned.record["tried"]
    best = min(t["validation_log_loss"] for t in tried)
    assert tuned.record["chosen"]["validation_log_loss"] == best
    # Refitted on the fit rows for the kept iterations, it scores that loss on the tail.
    fit_rows, tail = boosting.validation_tail(data, rows)
    model = boosting.estimator(tuned, data.feature_names)
    model.fit(data.X[fit_rows], data.y[fit_rows])
    p = model.predict_proba(data.X[tail])[:, 1]
    assert log_loss(data.y[tail], p) == pytest.approx(best, abs=1e-4)
    assert tuned.params["max_iter"] < boosting.MAX_ITER  # early stopping stopped it


def test_monotonic_constraints_follow_the_names_not_the_order():
    names = list(FEATURE_NAMES)
    forward = boosting.monotonic_constraints(names)
    assert boosting.monotonic_constraints(names[::-1]) == forward[::-1]
    assert forward[names.index("influencer_success_rate")] == 1
    assert forward[names.index("log_engagement")] == 0
    assert boosting.monotonic_constraints(["a_feature_added_later", *names])[0] == 0
    # A constraint on a name no feature has any longer would be silently dead.
    assert set(boosting.MONOTONIC) <= set(names)


def test_a_constrained_feature_only_moves_the_probability_its_way():
    data = synthetic(n=3000, seed=6)
    rate = list(data.feature_names).index("influencer_success_rate")
    # Here the label falls with the feature: the +1 constraint must hold it flat.
    data.y = (data.X[:, rate] < 0).astype(int)
    model, tuned = fit_candidate("gradient_boosting", data, np.arange(3000))
    record = tuned.record
    assert (
        model.monotonic_cst[rate] == 1
        and record["monotonic"]["influencer_success_rate"] == 1
    )
    grid = np.tile(np.median(data.X, axis=0), (50, 1))
    grid[:, rate] = np.linspace(-3, 3, 50)
    assert np.all(np.diff(model.predict_proba(grid)[:, 1]) >= -1e-12)


def test_the_served_and_per_window_choices_are_recorded():
    data = synthetic(n=6000, seed=7)
    result = MatchSuccessModel().fit(
        data, {"algorithm": "gradient_boosting", "n_splits": 2}, no_progress
    )
    record = result.metrics["boosting"]
    assert len(record["folds"]) == 2 and record["served"]["tuned"]
    chosen = record["served"]["chosen"]
    shown = result.metrics["hyperparameters"]
    served = result.artifact.estimator.get_params()
    for key in ("learning_rate", "max_leaf_nodes", "min_samples_leaf", "max_iter"):
        assert shown[key] == chosen[key] == served[key]

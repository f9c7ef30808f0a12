"""Monitoring figures shared through Redis: the job computes them, every process reads."""

from __future__ import annotations

import numpy as np
import pytest
from monitoring_support import labelled_collaborations, serve_before
from test_auth import sibling_app
from training_helpers import seed_small_world, train_version

from webapp.extensions import db
from webapp.monitoring import joins, live_features, report, snapshots
from webapp.registry import versions
from webapp.serving.state import serving_state
from workers import scheduled


@pytest.fixture
def served(app):
    """A trained match version that served 60 pairs before their labels."""
    seed_small_world()
    version = train_version()
    serve_before(labelled_collaborations(60))
    return version


def computing_refused(monkeypatch):
    """Make computing a report fail loudly: what follows must read a snapshot."""

    def refuse(plugin):
        raise AssertionError(f"{plugin.name}'s report was computed, not read")

    monkeypatch.setattr(report, "compute", refuse)


def test_another_process_renders_the_jobs_figures_without_computing(
    app, served, monkeypatch
):
    assert scheduled.refresh_monitoring() == 4  # every installed type
    assert scheduled.refresh_monitoring() == 0  # fresh: nothing is due
    computed = report.type_report("match_success")
    other = sibling_app(app)
    try:
        with other.app_context():
            computing_refused(monkeypatch)
            assert report.type_report("match_success") == computed
            assert report.type_report("trend")["model_type"] == "trend"
    finally:
        with other.app_context():
            db.engine.dispose()


def test_new_data_is_shown_within_the_lag_allowed(app, served, monkeypatch):
    scheduled.refresh_monitoring()
    before = report.type_report("match_success")
    serve_before(labelled_collaborations(70)[60:])  # ten more served and rated
    app.extensions.pop(report._CACHE_KEY)  # as a process that never computed
    # Within MONITORING_MAX_LAG_SECONDS the snapshot still serves (live traffic
    # moves the data with every request) ...
    assert report.type_report("match_success") == before
    # ... past it, the figures are computed again.
    app.config["MONITORING_MAX_LAG_SECONDS"] = 0
    after = report.type_report("match_success")
    assert after["versions"][0]["predictions"] == (
        before["versions"][0]["predictions"] + 10
    )
    # Now shared as well: the next process reads it.
    app.extensions.pop(report._CACHE_KEY)
    computing_refused(monkeypatch)
    assert report.type_report("match_success") == after


def test_a_new_version_is_shown_at_once_whatever_the_lag(app, served, monkeypatch):
    scheduled.refresh_monitoring()
    before = report.type_report("match_success")
    second = train_version()
    versions.promote(second, None, confirm_worse=True)
    after = report.type_report("match_success")

    def statuses(figures):
        return {(v["label"], v["status"]) for v in figures["versions"]}

    assert (served.label, "active") in statuses(before)
    assert (served.label, "active") not in statuses(after)


def test_a_snapshot_past_its_age_is_computed_again(app, served, monkeypatch):
    scheduled.refresh_monitoring()
    app.config["MONITORING_CACHE_SECONDS"] = 0  # every snapshot is too old now
    app.extensions.pop(report._CACHE_KEY, None)
    calls = []
    compute = report.compute
    monkeypatch.setattr(report, "compute", lambda p: calls.append(p) or compute(p))
    report.type_report("match_success")
    assert len(calls) == 1


def test_figures_are_computed_without_redis(app, served):
    cut_off = sibling_app(app, REDIS_URL="unix:///nonexistent/redis.sock")
    try:
        with cut_off.app_context():
            assert snapshots.load("match_success", report.fingerprint(), 60, 30) is None
            figures = report.type_report("match_success")  # computed, not shared
            assert figures["versions"][0]["predictions"] == 60
    finally:
        with cut_off.app_context():
            db.engine.dispose()


def test_snapshots_are_kept_apart_per_database_and_settings(app):
    first = snapshots.key("match_success")
    app.config["MONITORING_WINDOWS"] = 3
    assert snapshots.key("match_success") != first
    assert snapshots.key("match_success").startswith(snapshots.database_prefix())


def test_one_rebuild_for_every_version_gives_each_its_own_rows(app, served):
    second = train_version()
    versions.promote(second, None, confirm_worse=True)
    serving_state().routing.warm()
    serve_before(labelled_collaborations(90)[60:])
    logs = joins.pair_logs("match_success")
    keys = [served.id, second.id]
    assert set(logs["version_key"]) == set(keys)
    together = live_features.rows_by_version(logs, keys, 25, "pair", 4)
    for key in keys:
        alone = live_features.pair_rows(
            live_features.recent_pairs(logs, key, 25), "pair", 4
        )
        assert together[key].keys() == alone.keys()
        for name, values in alone.items():
            np.testing.assert_array_equal(together[key][name], values)

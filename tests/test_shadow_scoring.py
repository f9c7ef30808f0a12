"""Shadow passes: the served rows scored once, with serving's features, failures marked."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from shadow_support import TYPE, active_and_candidate, some_pairs
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.learning import feature_sets
from webapp.models import PredictionLog, ShadowPeriod
from webapp.registry.plugins import installed_types
from webapp.serving import pools, predict_pairs, serving_state
from webapp.serving.predict import loaded_artifact
from webapp.serving.routing import ServedVersion
from webapp.shadow import scoring, store
from workers import scheduled


@pytest.fixture
def shadowing(app):
    """v1 active, v2 shadowing since before 12 pairs were served (3 ranked lists too)."""
    active, candidate = active_and_candidate()
    before = predict_pairs(some_pairs(3, offset=40))  # served before: not shadowed
    assert len(before) == 3
    period = store.start(candidate, None)
    pairs = some_pairs(12)
    answers = predict_pairs(pairs)
    assert {a["model"]["version"] for a in answers} == {active.version}
    return active, candidate, period, pairs


def served_rows():
    """Return the served (not shadow) log rows, oldest first."""
    return db.session.scalars(
        select(PredictionLog)
        .where(PredictionLog.source != "shadow")
        .order_by(PredictionLog.id)
    ).all()


def shadow_rows():
    """Return the shadow log rows, by the served row they score."""
    return db.session.scalars(
        select(PredictionLog)
        .where(PredictionLog.source == "shadow")
        .order_by(PredictionLog.shadow_of_id)
    ).all()


def test_a_pass_scores_exactly_the_rows_served_since_the_start_once(app, shadowing):
    active, candidate, period, pairs = shadowing
    served_after = served_rows()[3:]
    assert len(served_after) == 12

    assert scheduled.score_shadows() == 12
    shadows = shadow_rows()
    assert [s.shadow_of_id for s in shadows] == [r.id for r in served_after]
    for shadow, served in zip(shadows, served_after, strict=True):
        assert shadow.version_id == candidate.id and not shadow.fallback
        assert (shadow.influencer_id, shadow.company_id, shadow.subject) == (
            served.influencer_id,
            served.company_id,
            served.subject,
        )
        assert shadow.created_at == served.created_at
        assert shadow.rollout_id is None and shadow.variant is None
        assert 0 <= shadow.score <= 1

    # Re-running finds nothing new; a new request is scored by the next pass only.
    assert scheduled.score_shadows() == 0
    predict_pairs(some_pairs(2, offset=70))
    assert scheduled.score_shadows() == 2
    assert scheduled.score_shadows() == 0
    count = db.session.scalar(
        select(func.count()).where(PredictionLog.source == "shadow")
    )
    distinct = db.session.scalar(
        select(func.count(func.distinct(PredictionLog.shadow_of_id))).where(
            PredictionLog.source == "shadow"
        )
    )
    assert count == distinct == 14
    db.session.refresh(period)
    assert (period.scored, period.last_pass_status, period.last_pass_error) == (
        14,
        "succeeded",
        None,
    )


def test_shadow_features_and_scores_equal_serving_for_the_same_pair_and_moment(
    app, shadowing
):
    active, candidate, period, pairs = shadowing
    pool = serving_state().pool.get(int(app.config["SUCCESS_MIN_RATING"]))
    served_features = pools.pair_rows(
        pool, [i for i, _ in pairs], [c for _, c in pairs], [None] * len(pairs)
    )
    plugin = installed_types(app).get(TYPE)
    due = scoring.due_rows(db.session.get(ShadowPeriod, period.id), 100)
    rebuilt = scoring.rebuilt_rows(due, plugin.features)
    assert feature_sets.names(plugin.features) == list(candidate.feature_names)
    np.testing.assert_allclose(rebuilt, served_features, rtol=1e-9, atol=1e-12)

    scheduled.score_shadows()
    artifact, _ = loaded_artifact(
        ServedVersion.of(candidate), list(candidate.feature_names)
    )
    expected = plugin.predict(artifact, served_features).score
    np.testing.assert_allclose([s.score for s in shadow_rows()], expected, rtol=1e-9)
    # v2 really is another model: its scores are not the served ones.
    assert [s.score for s in shadow_rows()] != [r.score for r in served_rows()[3:]]


def test_a_second_pass_racing_the_first_writes_nothing(app, shadowing):
    active, candidate, period, pairs = shadowing
    stale = db.session.get(ShadowPeriod, period.id)
    watermark = stale.watermark
    assert scoring.run_pass(period.id) == 12
    # A pass that read the old watermark before the first committed loses the claim.
    db.session.execute(
        ShadowPeriod.__table__.update()
        .where(ShadowPeriod.id == period.id)
        .values(watermark=watermark)
    )
    db.session.commit()
    assert scoring.run_pass(period.id) == 0  # the unique index refuses a second score
    assert len(shadow_rows()) == 12


def test_a_corrupt_shadow_artifact_fails_the_pass_and_serving_is_unaffected(
    app, shadowing
):
    active, candidate, period, pairs = shadowing
    path = f"{app.config['MODEL_DIR']}/{candidate.artifact_path}"
    with open(path, "r+b") as handle:
        handle.seek(10)
        handle.write(b"corrupted!")
    serving_state().artifacts.clear()

    with pytest.raises(scoring.ShadowPassFailed, match="sha256"):
        scheduled.score_shadows()
    db.session.expire_all()
    failed = db.session.get(ShadowPeriod, period.id)
    assert failed.last_pass_status == "failed"
    assert "sha256" in failed.last_pass_error
    assert failed.watermark == period.watermark and failed.scored == 0
    assert shadow_rows() == []

    answers = predict_pairs(some_pairs(4, offset=90))
    assert {a["model"]["version"] for a in answers} == {active.version}
    assert not any(a["fallback"] for a in answers)
    assert db.session.get(type(active), active.id).artifact_error is None


def test_starting_twice_or_shadowing_the_active_version_is_refused(app, shadowing):
    active, candidate, period, pairs = shadowing
    with pytest.raises(store.ShadowError, match="already shadowing"):
        store.start(candidate, None)
    with pytest.raises(store.ShadowError, match="is active"):
        store.start(active, None)
    with pytest.raises(store.ShadowError, match="not shadowing"):
        store.stop(active, None)
    stopped = store.stop(candidate, None)
    assert not stopped.running
    predict_pairs(some_pairs(2, offset=5))
    assert scheduled.score_shadows() == 0  # a stopped period scores nothing
    assert store.shadowed_minutes(candidate.id) >= 0


def test_two_simultaneous_passes_score_each_row_once(app, shadowing):
    active, candidate, period, pairs = shadowing
    barrier = threading.Barrier(2)
    results: list[int | str] = []

    def attempt() -> None:
        with app.app_context():
            barrier.wait()
            try:
                results.append(scoring.run_pass(period.id))
            except Exception as error:  # reported below, with its type
                results.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results, key=str) == [0, 12], results
    assert len(shadow_rows()) == 12
    db.session.expire_all()
    assert db.session.get(ShadowPeriod, period.id).scored == 12

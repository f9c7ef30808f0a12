"""A stale candidate pool is rebuilt beside the old one; no request waits for it."""

from __future__ import annotations

import threading

from webapp.serving import pools
from webapp.serving.state import serving_state


def test_a_stale_pool_keeps_serving_while_the_new_one_is_built(app, world, monkeypatch):
    cache = serving_state().pool
    old = cache.get(4)
    old.built_at -= cache.ttl + 1
    release, started = threading.Event(), threading.Event()
    build = pools.CandidatePool.build

    def slow_build(min_rating):
        started.set()
        assert release.wait(10), "the test never released the rebuild"
        return build(min_rating)

    monkeypatch.setattr(pools.CandidatePool, "build", staticmethod(slow_build))
    # The request that finds the pool stale starts the rebuild and is answered at once.
    assert cache.get(4) is old
    assert started.wait(10)
    # While the rebuild runs, every request still gets the old pool (one rebuild only).
    assert cache.get(4) is old and cache.get(4) is old
    release.set()
    cache.wait_for_rebuild(10)
    fresh = cache.get(4)
    assert fresh is not old and fresh.built_at > old.built_at
    assert list(fresh.influencer_ids) == list(old.influencer_ids)


def test_an_unknown_entity_gets_a_pool_that_knows_it(app, world):
    from conftest import make_company

    from webapp.extensions import db

    cache = serving_state().pool
    old = cache.get(4)
    newcomer = make_company("CO-NEW")
    db.session.add(newcomer)
    db.session.commit()
    assert not old.knows("company", newcomer.id)
    pool = cache.get(4, require=("company", newcomer.id))
    assert pool.knows("company", newcomer.id) and cache.get(4) is pool


def test_a_failed_rebuild_leaves_the_old_pool_serving(app, world, monkeypatch):
    cache = serving_state().pool
    old = cache.get(4)
    old.built_at -= cache.ttl + 1

    def broken(min_rating):
        raise RuntimeError("database went away")

    monkeypatch.setattr(pools.CandidatePool, "build", staticmethod(broken))
    assert cache.get(4) is old
    cache.wait_for_rebuild(10)
    assert cache.get(4) is old


def test_a_built_pool_has_todays_estimates_so_no_request_computes_them(
    app, world, monkeypatch
):
    from webapp.learning import history, profile_signals

    computed = []
    strength, fit = (
        history.track_records.prior_strength,
        (profile_signals.ProfileRevisions.engagement_fit),
    )
    monkeypatch.setattr(
        history.track_records,
        "prior_strength",
        lambda *a: computed.append("strength") or strength(*a),
    )
    monkeypatch.setattr(
        profile_signals.ProfileRevisions,
        "engagement_fit",
        lambda self, day: computed.append("fit") or fit(self, day),
    )
    pool = pools.CandidatePool.build(4)
    # Built: one prior strength per shrunk track record, one engagement fit.
    assert sorted(computed) == ["fit"] + ["strength"] * len(history.SHRUNK_RECORDS)
    computed.clear()
    for company_id in pool.company_ids.tolist():
        pool.rows_for_company(company_id, None)
    for influencer_id in pool.influencer_ids.tolist():
        pool.rows_for_influencer(influencer_id)
    assert computed == []


def test_a_starting_worker_builds_its_pool_once_and_requests_wait_for_it(
    app, world, monkeypatch
):
    from webapp.serving.state import warm_in_background

    serving_state().clear()
    release, started = threading.Event(), threading.Event()
    builds = []
    build = pools.CandidatePool.build

    def slow_build(min_rating):
        builds.append(min_rating)
        started.set()
        assert release.wait(10), "the test never released the build"
        return build(min_rating)

    monkeypatch.setattr(pools.CandidatePool, "build", staticmethod(slow_build))
    warm = warm_in_background(app)
    assert started.wait(10)
    # The routing table (and its artifacts) was loaded before the pool build began.
    assert serving_state().routing._table is not None
    answers = []
    request = threading.Thread(
        target=lambda: answers.append(serving_state(app).pool.get(4))
    )
    with app.app_context():
        request.start()
        request.join(0.3)
        assert request.is_alive()  # it waits for the build under way ...
        release.set()
        request.join(10)
    warm.join(10)
    # ... and gets that pool: one build, not two.
    assert builds == [4]
    assert answers == [serving_state().pool.get(4)]

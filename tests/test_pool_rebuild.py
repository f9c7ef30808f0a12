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

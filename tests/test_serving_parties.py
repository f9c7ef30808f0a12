"""Serving's light lookup of pairs: the same feature rows as the ORM rows give."""

from __future__ import annotations

import numpy as np

from webapp.extensions import db
from webapp.models import Company, Influencer
from webapp.serving import pools, serving_state
from webapp.serving.parties import parties


def test_parties_give_the_feature_rows_the_orm_rows_give(app, world):
    influencers = [
        db.session.scalar(db.select(Influencer).filter_by(external_id=i))
        for i in ("INF-A", "INF-B")
    ]
    companies = [
        db.session.scalar(db.select(Company).filter_by(external_id=c))
        for c in ("CO-B", "CO-A")
    ]
    found_inf = parties(Influencer, {"INF-A", "INF-B", "INF-NOPE"})
    found_co = parties(Company, {"CO-A", "CO-B"})
    assert sorted(found_inf) == ["INF-A", "INF-B"]
    light_inf = [found_inf[i.external_id] for i in influencers]
    light_co = [found_co[c.external_id] for c in companies]
    for light, row in zip(light_inf + light_co, influencers + companies, strict=True):
        assert (light.id, light.external_id, light.joined_on) == (
            row.id,
            row.external_id,
            row.joined_on,
        )
        assert light.profile() == row.profile()
    pool = serving_state().pool.get(app.config["SUCCESS_MIN_RATING"])
    budgets = [None, 2500.0]
    np.testing.assert_array_equal(
        pools.pair_rows(pool, light_inf, light_co, budgets),
        pools.pair_rows(pool, influencers, companies, budgets),
    )


def test_a_party_answers_profile_fields_as_attributes(app, world):
    party = parties(Influencer, {"INF-B"})["INF-B"]
    assert party.niche == "gaming"
    party.profile()["niche"] = "changed"  # a copy: the party stays as read
    assert party.niche == "gaming"

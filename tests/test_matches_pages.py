"""Find influencers / Find brands: ranked lists, who may see them, and proposing."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import pytest
from test_auth import csrf_token, login_with_token, sibling_app
from training_helpers import seed_small_world, train_version

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.learning.features import FEATURE_NAMES, from_snapshot
from webapp.models import Collaboration, Company

FALLBACK_BANNER = (
    "No trained model is active yet: these scores come from the rule-based fallback."
)


def ranked_ids(page: str) -> list[str]:
    """Return the external ids of the ranked rows, in order."""
    return re.findall(r'<tr id="match-([^"]+)"', page)


def probabilities(page: str) -> list[int]:
    return [
        int(p)
        for p in re.findall(r'class="num probability"><strong>(\d+) %</strong>', page)
    ]


def proposed() -> list[Collaboration]:
    return list(
        db.session.scalars(
            db.select(Collaboration).where(Collaboration.external_id.like("ML-%"))
        )
    )


# -- who sees which list ------------------------------------------------------


def test_a_brand_ranks_influencers_for_itself_with_the_fallback(client, auth, world):
    auth.login("brand@example.com")
    response = client.get("/matches/influencers")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Influencers ranked for <strong>Brand CO-A</strong>" in page
    # INF-A already has open collaborations with CO-A, so only INF-B is offered.
    assert ranked_ids(page) == ["INF-B"]
    assert FALLBACK_BANNER in page
    assert re.search(r"<meter [^>]*value=\"0\.2\"", page), "fallback confidence"
    assert 'name="budget" value="1200"' in page, "min(5,000 budget, 3 x 400 rate)"
    assert re.search(r'class="why-(good|bad)"', page)
    assert "Brand</label>" not in page, "members get no brand picker"
    # Their own id is fine; anyone else's is refused.
    assert client.get("/matches/influencers?company_id=CO-A").status_code == 200
    other = client.get("/matches/influencers?company_id=CO-B")
    assert other.status_code == 403
    assert "Brand CO-B" not in other.get_data(as_text=True)


def test_an_influencer_ranks_brands_for_themselves(client, auth, world):
    auth.login("creator@example.com")
    assert client.get("/matches/influencers").location == "/matches/brands"
    assert client.get("/matches/").location == "/matches/brands"
    page = client.get("/matches/brands").get_data(as_text=True)
    assert "Brands ranked for <strong>@creator_inf-a</strong>" in page
    assert ranked_ids(page) == ["CO-B"]
    assert FALLBACK_BANNER in page
    assert client.get("/matches/brands?influencer_id=INF-B").status_code == 403


def test_a_brand_is_sent_from_find_brands_to_find_influencers(client, auth, world):
    auth.login("brand@example.com")
    assert client.get("/matches/brands").location == "/matches/influencers"
    assert client.get("/matches/").location == "/matches/influencers"


def test_an_unlinked_member_gets_an_empty_state(client, auth, world):
    auth.login("loner@example.com")
    page = client.get("/matches/influencers").get_data(as_text=True)
    assert "not linked to a brand" in page and ranked_ids(page) == []
    page = client.get("/matches/brands").get_data(as_text=True)
    assert "not linked to an influencer" in page and ranked_ids(page) == []
    assert client.get("/matches/influencers?company_id=CO-A").status_code == 403


def test_an_admin_picks_any_brand(client, auth, world):
    auth.login("admin@example.com")
    page = client.get("/matches/influencers").get_data(as_text=True)
    assert "Choose a brand to rank influencers for." in page
    assert '<option value="CO-B">Brand CO-B (CO-B)</option>' in page
    page = client.get("/matches/influencers?company_id=CO-B").get_data(as_text=True)
    assert "Influencers ranked for <strong>Brand CO-B</strong>" in page
    assert sorted(ranked_ids(page)) == ["INF-A", "INF-B"]
    assert client.get("/matches/influencers?company_id=NOPE").status_code == 404


def test_an_admin_searches_for_an_influencer(client, auth, world):
    auth.login("admin@example.com")
    page = client.get("/matches/brands").get_data(as_text=True)
    assert "Search for an influencer to rank brands for." in page
    found = client.get("/matches/brands?q=inf-b").get_data(as_text=True)
    assert 'href="/matches/brands?influencer_id=INF-B"' in found
    assert "@creator_inf-a" not in found
    page = client.get("/matches/brands?influencer_id=INF-B").get_data(as_text=True)
    assert sorted(ranked_ids(page)) == ["CO-A", "CO-B"]


# -- proposing -------------------------------------------------------------------


def test_a_brand_proposes_and_the_snapshot_is_stored(client, auth, world):
    auth.login("brand@example.com")
    response = client.post(
        "/matches/propose",
        data={
            "influencer_id": "INF-B",
            "company_id": "CO-A",
            "budget": "1150",
            "next": "/matches/influencers?limit=10",
        },
    )
    assert response.status_code == 302
    assert response.location == "/matches/influencers?limit=10"
    [collaboration] = proposed()
    assert re.fullmatch(
        rf"ML-{utcnow():%Y%m%d}-[A-Z0-9]{{6}}", collaboration.external_id
    )
    assert collaboration.influencer.external_id == "INF-B"
    assert collaboration.company.external_id == "CO-A"
    assert (collaboration.status, collaboration.budget) == ("proposed", 1150.0)
    assert collaboration.proposed_on == utcnow().date()
    assert collaboration.proposed_by_id == world["brand"].id
    snapshot = collaboration.match_snapshot
    assert set(snapshot["features"]) == set(FEATURE_NAMES)
    assert from_snapshot(snapshot["features"]) is not None
    # The snapshot describes the budget actually proposed (INF-B's rate is 400).
    assert snapshot["features"]["log_budget"] == pytest.approx(math.log10(1151))
    assert snapshot["features"]["log_budget_ratio"] == pytest.approx(
        math.log(1150 / 400)
    )
    assert snapshot["fallback"] is True and snapshot["model_version"] is None
    assert 0 < snapshot["success_probability"] < 1

    page = client.get(response.location).get_data(as_text=True)
    assert f"Proposed {collaboration.external_id}: @creator_inf-b × Brand CO-A" in page
    assert ranked_ids(page) == [], "INF-B now has an open collaboration with CO-A"
    assert "already has an open collaboration" in page
    mine = client.get("/collaborations/").get_data(as_text=True)
    assert collaboration.external_id in mine


def test_an_influencer_proposes_to_a_brand(client, auth, world):
    auth.login("creator@example.com")
    response = client.post(
        "/matches/propose",
        data={"influencer_id": "INF-A", "company_id": "CO-B", "budget": "900"},
    )
    assert response.status_code == 302
    [collaboration] = proposed()
    assert collaboration.company.external_id == "CO-B"
    assert collaboration.proposed_by_id == world["creator"].id
    assert set(collaboration.match_snapshot["features"]) == set(FEATURE_NAMES)
    assert collaboration.external_id in client.get("/collaborations/").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("email", "data", "status", "message"),
    [
        # Proposing for another brand, or as another influencer.
        (
            "brand@example.com",
            {"influencer_id": "INF-B", "company_id": "CO-B"},
            403,
            None,
        ),
        (
            "creator@example.com",
            {"influencer_id": "INF-B", "company_id": "CO-A"},
            403,
            None,
        ),
        (
            "loner@example.com",
            {"influencer_id": "INF-B", "company_id": "CO-A"},
            403,
            None,
        ),
        (
            "brand@example.com",
            {"influencer_id": "NOPE", "company_id": "CO-A"},
            404,
            None,
        ),
        (
            "brand@example.com",
            {"influencer_id": "INF-A", "company_id": "CO-A"},
            302,
            "already have an open collaboration",
        ),
        (
            "brand@example.com",
            {"influencer_id": "INF-B", "company_id": "CO-A", "budget": "0"},
            302,
            "The budget must be between 1 and 10,000,000.",
        ),
        (
            "brand@example.com",
            {"influencer_id": "INF-B", "company_id": "CO-A", "budget": ""},
            302,
            "Give a budget.",
        ),
    ],
)
def test_refused_proposals_store_nothing(
    client, auth, world, email, data, status, message
):
    auth.login(email)
    form = {"budget": "1000", "next": "/matches/influencers", **data}
    response = client.post("/matches/propose", data=form)
    assert response.status_code == status
    assert proposed() == []
    if message:
        assert message in client.get(response.location).get_data(as_text=True)


def test_proposing_needs_the_lists_csrf_token(app, world):
    protected = sibling_app(app, WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    login_with_token(client, "brand@example.com")
    form = {"influencer_id": "INF-B", "company_id": "CO-A", "budget": "1000"}
    assert client.post("/matches/propose", data=form).status_code == 400
    assert proposed() == []
    page = client.get("/matches/influencers").get_data(as_text=True)
    response = client.post(
        "/matches/propose", data={**form, "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    assert len(proposed()) == 1
    with protected.app_context():
        db.engine.dispose()


def test_an_admin_proposes_for_any_brand(client, auth, world):
    auth.login("admin@example.com")
    client.post(
        "/matches/propose",
        data={"influencer_id": "INF-A", "company_id": "CO-B", "budget": "700"},
    )
    [collaboration] = proposed()
    assert collaboration.proposed_by_id == world["admin"].id
    assert collaboration.external_id in client.get("/collaborations/").get_data(
        as_text=True
    )


# -- with a trained model ---------------------------------------------------------


@pytest.fixture
def trained(app, make_user):
    """A seeded world, an active match_success v1 and a member of the first brand."""
    seed_small_world()
    version = train_version()
    company = db.session.scalars(db.select(Company).order_by(Company.id)).first()
    make_user("buyer@example.com", company=company)
    make_user("admin@example.com", role="admin")
    return version, company


def test_a_trained_model_ranks_and_its_version_is_snapshotted(client, auth, trained):
    version, company = trained
    auth.login("buyer@example.com")
    page = client.get("/matches/influencers?limit=15").get_data(as_text=True)
    assert FALLBACK_BANNER not in page
    assert "Scored by match_success v1." in page
    ranked = ranked_ids(page)
    assert len(ranked) == 15
    shown = probabilities(page)
    assert shown == sorted(shown, reverse=True)
    assert not re.search(r"\d+ % – \d+ %", page), "no interval is claimed"
    assert "95 % interval" not in page

    client.post(
        "/matches/propose",
        data={
            "influencer_id": ranked[0],
            "company_id": company.external_id,
            "budget": "800",
        },
    )
    [collaboration] = proposed()
    snapshot = collaboration.match_snapshot
    assert (snapshot["model_version"], snapshot["fallback"]) == (1, False)
    assert set(snapshot["features"]) == set(FEATURE_NAMES)
    assert ranked[0] not in ranked_ids(
        client.get("/matches/influencers?limit=15").get_data(as_text=True)
    )


def test_filters_narrow_the_ranking(client, auth, trained):
    auth.login("buyer@example.com")
    page = client.get("/matches/influencers?niche=fashion&limit=5").get_data(
        as_text=True
    )
    niches = re.findall(r'data-niche="([^"]+)"', page)
    assert niches and set(niches) == {"fashion"}
    assert len(niches) <= 5
    page = client.get("/matches/influencers?country=US&limit=100").get_data(
        as_text=True
    )
    countries = re.findall(r'data-country="([^"]+)"', page)
    assert countries and set(countries) == {"US"}
    bad = client.get("/matches/influencers?limit=1000").get_data(as_text=True)
    assert "Number must be between 1 and 100." in bad
    assert len(ranked_ids(bad)) == 20, "a bad limit falls back to the default"


def test_an_altered_artifact_is_refused_logged_and_shown(
    app, client, auth, trained, caplog
):
    version, _ = trained
    path = Path(app.config["MODEL_DIR"]) / version.artifact_path
    path.write_bytes(path.read_bytes() + b"tampered")
    auth.login("buyer@example.com")
    with caplog.at_level(logging.ERROR):
        page = client.get("/matches/influencers").get_data(as_text=True)
    assert "The active model could not serve" in page
    assert "Reason:" not in page, "members do not see the technical reason"
    assert any("refusing artifact" in r.getMessage() for r in caplog.records)
    db.session.expire_all()
    assert "was altered" in version.artifact_error

    auth.logout()
    auth.login("admin@example.com")
    models = client.get("/models/match_success").get_data(as_text=True)
    assert 'id="artifact-error-v1"' in models and "was altered" in models
    admin_list = client.get(
        f"/matches/influencers?company_id={trained[1].external_id}"
    ).get_data(as_text=True)
    assert "Reason: match_success v1 unavailable" in admin_list

"""The collaboration lifecycle through the JSON API: the same rules as the pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_support import issue_token
from lifecycle_support import fresh, history, make_collaboration

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import Collaboration


@pytest.fixture
def tokens(world):
    """API tokens of the world's users by role."""
    return {
        role: issue_token(world[role])
        for role in ("admin", "brand", "creator", "loner")
    }


def post(api, tokens, role, external_id, action, status, json=None):
    """Take an action as ``role``; return the JSON answer."""
    kwargs = {} if json is None else {"json": json}
    url = f"/collaborations/{external_id}/{action}"
    return api.call("POST", url, status, token=tokens[role], **kwargs).get_json()


def test_a_proposal_runs_to_completion_through_the_api(api, tokens, world):
    collaboration = make_collaboration(world, "proposed")
    external_id = collaboration.external_id
    shown = api.call(
        "GET", f"/collaborations/{external_id}", 200, token=tokens["creator"]
    ).get_json()
    assert shown["allowed_actions"] == ["accept", "decline"]
    assert shown["proposer_side"] == "company"
    brand_view = api.call(
        "GET", f"/collaborations/{external_id}", 200, token=tokens["brand"]
    ).get_json()
    assert brand_view["allowed_actions"] == ["withdraw"]

    after = post(api, tokens, "creator", external_id, "accept", 200)
    assert after["status"] == "accepted"
    assert after["allowed_actions"] == ["start", "cancel"]
    post(
        api, tokens, "brand", external_id, "start", 200, {"note": "Kick-off call done"}
    )
    done = post(
        api,
        tokens,
        "creator",
        external_id,
        "complete",
        200,
        {"completed_on": "2025-06-01"},
    )
    assert done["status"] == "completed"
    assert done["completed_on"] == "2025-06-01"
    assert done["allowed_actions"] == []
    assert [(h["action"], h["by"]) for h in done["history"]] == [
        ("accept", "influencer"),
        ("start", "company"),
        ("complete", "influencer"),
    ]
    assert done["history"][1]["note"] == "Kick-off call done"
    # Members do not see emails; admins do.
    assert all(h["actor"] is None for h in done["history"])
    admin_view = api.call(
        "GET", f"/collaborations/{external_id}", 200, token=tokens["admin"]
    ).get_json()
    assert admin_view["history"][0]["actor"] == "creator@example.com"
    assert admin_view["ratings"] == {"company": None, "influencer": None}


def test_refusals_change_nothing(api, tokens, world):
    collaboration = make_collaboration(world, "proposed")
    external_id = collaboration.external_id
    refused = post(api, tokens, "brand", external_id, "accept", 403)
    assert "Only the side that was invited" in refused["details"]
    conflict = post(api, tokens, "creator", external_id, "complete", 409)
    assert conflict["error"] == "wrong_status"
    assert conflict["details"]["status"] == "proposed"
    post(api, tokens, "admin", external_id, "decline", 403)
    post(api, tokens, "loner", external_id, "accept", 404)
    post(api, tokens, "brand", "NO-SUCH", "withdraw", 404)
    assert fresh(external_id).status == "proposed"
    assert history(external_id) == []


def test_cancelling_needs_a_reason_and_records_it(api, tokens, world):
    collaboration = make_collaboration(world, "accepted")
    external_id = collaboration.external_id
    missing = post(api, tokens, "brand", external_id, "cancel", 422, {})
    assert missing["details"] == [{"path": "reason", "message": "reason is required"}]
    blank = post(api, tokens, "brand", external_id, "cancel", 422, {"reason": "   "})
    assert blank["details"][0]["path"] == "reason"
    assert fresh(external_id).status == "accepted"
    before = utcnow()
    done = post(
        api, tokens, "admin", external_id, "cancel", 200, {"reason": "Fraud report"}
    )
    assert done["status"] == "cancelled"
    assert done["cancel_reason"] == "Fraud report"
    assert done["history"][-1]["by"] == "admin"
    assert before <= fresh(external_id).cancelled_at <= utcnow()


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"completed_on": "2025-02-30"}, "completed_on"),
        ({"completed_on": "yesterday"}, "completed_on"),
        ({"completed_on": "2025-04-01"}, "completed_on"),  # before the proposal
        ({"note": "x", "extra": 1}, ""),
    ],
)
def test_bad_completion_bodies_are_422(api, tokens, world, payload, path):
    collaboration = make_collaboration(world, "active")
    answer = post(
        api, tokens, "brand", collaboration.external_id, "complete", 422, payload
    )
    assert answer["details"][0]["path"] == path
    assert fresh(collaboration.external_id).status == "active"


def test_the_match_snapshot_and_ratings_are_shown(api, tokens, client, auth, world):
    auth.login("brand@example.com")
    client.post(
        "/matches/propose",
        data={"influencer_id": "INF-B", "company_id": "CO-A", "budget": "800"},
    )
    rated = api.call(
        "GET", "/collaborations/C-A-completed", 200, token=tokens["brand"]
    ).get_json()
    assert rated["match"] is None
    client.post(
        "/collaborations/C-A-completed/rate",
        data={
            "success_rating": "5",
            "completion_status": "completed",
            "would_collaborate_again": "yes",
        },
    )
    rated = api.call(
        "GET", "/collaborations/C-A-completed", 200, token=tokens["creator"]
    ).get_json()
    assert rated["ratings"]["company"]["success_rating"] == 5
    assert rated["ratings"]["influencer"] is None
    external_id = db.session.scalar(
        sa.select(Collaboration.external_id).where(
            Collaboration.proposed_by_id.is_not(None)
        )
    )
    shown = api.call(
        "GET", f"/collaborations/{external_id}", 200, token=tokens["brand"]
    ).get_json()
    match = shown["match"]
    assert match["fallback"] is True and match["model_version"] is None
    assert 0 < match["success_probability"] < 1
    assert match["factors"] and {"feature", "label", "value", "contribution"} == set(
        match["factors"][0]
    )
    assert shown["history"] == [
        {
            "from_status": None,
            "status": "proposed",
            "action": "propose",
            "by": "company",
            "actor": None,
            "note": None,
            "at": shown["history"][0]["at"],
        }
    ]

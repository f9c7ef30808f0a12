"""Rollout pages: admin only, the form re-renders with errors, buttons record who."""

from __future__ import annotations

import pytest
from rollout_support import active_and_candidate

from webapp.extensions import db
from webapp.models import Rollout


@pytest.fixture
def admin(client, auth, world):
    auth.login("admin@example.com")
    active_and_candidate()
    return client


FORM = {
    "model_type": "match_success",
    "candidate_version": "2",
    "baseline_version": "",
    "unit": "company",
    "steps": "5, 25, 100",
    "hold_minutes": "10",
    "min_outcomes": "0",
    "tolerance": "0.05",
    "alpha": "0.05",
    "on_breach": "pause",
}


def test_members_get_no_rollout_pages(client, auth, world):
    auth.login("brand@example.com")
    assert client.get("/rollouts/").status_code in (302, 403)
    assert client.post("/rollouts/new", data=FORM).status_code in (302, 403)
    assert db.session.scalar(db.select(db.func.count(Rollout.id))) == 0


def test_the_form_re_renders_bad_steps_with_a_field_error(admin):
    response = admin.post("/rollouts/new", data={**FORM, "steps": "50, 10, 100"})
    assert response.status_code == 422
    assert "steps must increase strictly" in response.get_data(as_text=True)
    response = admin.post("/rollouts/new", data={**FORM, "steps": "a, b"})
    assert response.status_code == 422
    assert "numbers separated by commas" in response.get_data(as_text=True)
    response = admin.post("/rollouts/new", data={**FORM, "hold_minutes": "1e30"})
    assert response.status_code == 422


def test_create_start_pause_from_the_pages(admin):
    response = admin.post("/rollouts/new", data=FORM, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "created; start it when ready" in page
    rollout = db.session.scalars(db.select(Rollout)).one()
    page = admin.post(f"/rollouts/{rollout.id}/start", follow_redirects=True).get_data(
        as_text=True
    )
    assert "now running at 5 %" in page
    page = admin.post(f"/rollouts/{rollout.id}/pause", follow_redirects=True).get_data(
        as_text=True
    )
    assert "now paused at 5 %" in page
    assert "admin@example.com" in page  # the timeline says who paused it
    listing = admin.get("/rollouts/").get_data(as_text=True)
    assert f'id="rollout-{rollout.id}"' in listing
    assert "Page 50 is past the end" in admin.get("/rollouts/?page=50").get_data(
        as_text=True
    )

"""Rollout pages: admin only, the form re-renders with errors, buttons record who."""

from __future__ import annotations

import re

import pytest
from rollout_support import active_and_candidate, add_version

from webapp.extensions import db
from webapp.models import ModelVersion, Rollout


@pytest.fixture
def admin(client, auth, world):
    auth.login("admin@example.com")
    active_and_candidate()
    return client


FORM = {
    "model_type": "match_success",
    "baseline_version": "",
    "unit": "company",
    "steps": "5, 25, 100",
    "hold_minutes": "10",
    "min_outcomes": "0",
    "tolerance": "0.05",
    "alpha": "0.05",
    "on_breach": "pause",
}


def version_id(number: int, model_type: str = "match_success") -> str:
    """Return the form value (the id) of version ``number`` of ``model_type``."""
    return str(
        db.session.scalar(
            db.select(ModelVersion.id).filter_by(model_type=model_type, version=number)
        )
    )


@pytest.fixture
def form(admin):
    """Return the set-up form's fields: candidate v2, the active v1 as baseline."""
    return {**FORM, "candidate_version": version_id(2)}


def test_members_get_no_rollout_pages(client, auth, world):
    auth.login("brand@example.com")
    assert client.get("/rollouts/").status_code in (302, 403)
    assert client.post("/rollouts/new", data=FORM).status_code in (302, 403)
    assert db.session.scalar(db.select(db.func.count(Rollout.id))) == 0


def test_the_form_re_renders_bad_steps_with_a_field_error(admin, form):
    response = admin.post("/rollouts/new", data={**form, "steps": "50, 10, 100"})
    assert response.status_code == 422
    assert "steps must increase strictly" in response.get_data(as_text=True)
    response = admin.post("/rollouts/new", data={**form, "steps": "a, b"})
    assert response.status_code == 422
    assert "numbers separated by commas" in response.get_data(as_text=True)
    response = admin.post("/rollouts/new", data={**form, "hold_minutes": "1e30"})
    assert response.status_code == 422


def test_create_start_pause_from_the_pages(admin, form):
    response = admin.post("/rollouts/new", data=form, follow_redirects=True)
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


def field_error(page: str, field: str) -> str:
    """Return the text of ``field``'s error on a rendered form ('' when none)."""
    found = re.search(rf'id="{field}-error">([^<]*)<', page)
    return found.group(1) if found else ""


def test_the_calibration_tolerance_is_set_in_the_form_and_stored(admin, form):
    page = admin.get("/rollouts/new").get_data(as_text=True)
    assert 'id="calibration_tolerance"' in page
    assert "expected calibration error" in page  # its help text
    admin.post("/rollouts/new", data={**form, "calibration_tolerance": "0.2"})
    rollout = db.session.scalars(db.select(Rollout)).one()
    assert rollout.guardrails["calibration_tolerance"] == pytest.approx(0.2)


def test_a_blank_calibration_tolerance_leaves_the_gates_default(admin, form):
    admin.post("/rollouts/new", data={**form, "calibration_tolerance": ""})
    rollout = db.session.scalars(db.select(Rollout)).one()
    assert "calibration_tolerance" not in rollout.guardrails


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1", "1e400", "nan", "x"])
def test_a_bad_calibration_tolerance_is_a_field_error(admin, form, value):
    response = admin.post(
        "/rollouts/new", data={**form, "calibration_tolerance": value}
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "calibration_tolerance")
    assert db.session.scalar(db.select(db.func.count(Rollout.id))) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tolerance", "1.5", "the tolerance lies in 0..1"),
        ("alpha", "0", "the significance level lies in (0, 0.5]"),
        ("calibration_tolerance", "0", "the calibration error allowed lies in (0, 1]"),
        ("hold_minutes", "-1", "a whole number of minutes"),
        ("min_outcomes", "99999999999", "a whole number, 0.."),
    ],
)
def test_the_form_refuses_what_the_api_refuses(
    admin, form, admin_token, field, value, message
):
    response = admin.post("/rollouts/new", data={**form, field: value})
    assert response.status_code == 422
    # The store's words (``store.check_setup``, the API's rule) on the field.
    assert message in field_error(response.get_data(as_text=True), field)
    body = {"model_type": "match_success", "candidate_version": 2}
    path = field
    if field in ("hold_minutes", "min_outcomes"):
        body[field] = int(value)
    else:
        body["guardrails"] = {field: float(value)}
        path = f"guardrails/{field}"
    answer = admin.post(
        "/api/v1/rollouts",
        json=body,
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert answer.status_code == 422
    assert [item["path"] for item in answer.get_json()["details"]] == [path]


def test_versions_are_grouped_by_model_type(admin):
    add_version(1, "roi")
    page = admin.get("/rollouts/new").get_data(as_text=True)
    candidate = page[page.index('id="candidate_version"') :]
    candidate = candidate[: candidate.index("</select>")]
    assert re.findall(r'<optgroup label="([^"]+)"', candidate) == [
        "match_success",
        "roi",
    ]
    roi_group = candidate[candidate.index('label="roi"') :]
    assert f'value="{version_id(1, "roi")}"' in roi_group
    assert f'value="{version_id(2)}"' not in roi_group


def test_a_version_of_another_type_is_a_field_error_not_a_500(admin, form):
    add_version(1, "roi")
    for field in ("candidate_version", "baseline_version"):
        response = admin.post(
            "/rollouts/new", data={**form, field: version_id(1, "roi")}
        )
        assert response.status_code == 422
        assert field_error(response.get_data(as_text=True), field) == (
            "roi v1 is not a match_success version; choose one of match_success."
        )
    assert db.session.scalar(db.select(db.func.count(Rollout.id))) == 0


@pytest.mark.parametrize("value", ["999", "abc", "99999999999999999999999"])
def test_an_unknown_version_is_a_field_error(admin, form, value):
    response = admin.post("/rollouts/new", data={**form, "candidate_version": value})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "candidate_version")


def test_a_step_without_outcomes_for_two_weeks_says_it_is_stalled(admin, form):
    from datetime import timedelta

    admin.post("/rollouts/new", data={**form, "min_outcomes": "20"})
    rollout = db.session.scalars(db.select(Rollout)).one()
    admin.post(f"/rollouts/{rollout.id}/start")
    page = admin.get(f"/rollouts/{rollout.id}").get_data(as_text=True)
    assert re.search(r'id="step-pace">0 of 20 in 0 days</dd>', page)
    rollout.step_started_at -= timedelta(days=15)
    db.session.commit()
    page = admin.get(f"/rollouts/{rollout.id}").get_data(as_text=True)
    assert "0 of 20 in 15 days" in page
    assert "share of units may be too small to gather outcomes" in page


def test_proof_before_promoting_is_chosen_in_the_form_and_shown_on_the_page(
    admin, form
):
    assert 'name="prove_before_promoting"' in admin.get("/rollouts/new").get_data(
        as_text=True
    )
    admin.post("/rollouts/new", data={**form, "prove_before_promoting": "y"})
    rollout = db.session.scalars(db.select(Rollout)).one()
    assert rollout.guardrails["prove_before_promoting"] is True
    admin.post(f"/rollouts/{rollout.id}/start")
    page = admin.get(f"/rollouts/{rollout.id}").get_data(as_text=True)
    assert 'id="promotion-proof"' in page
    assert "too few rated outcomes yet" in page


def test_without_the_box_the_rollout_goes_ahead_without_proof(admin, form):
    admin.post("/rollouts/new", data=form)
    rollout = db.session.scalars(db.select(Rollout)).one()
    assert rollout.guardrails["prove_before_promoting"] is False
    admin.post(f"/rollouts/{rollout.id}/start")
    page = admin.get(f"/rollouts/{rollout.id}").get_data(as_text=True)
    assert 'id="promotion-proof"' not in page
    assert 'id="step-pace"' not in page  # no sample minimum (0): no pace to show

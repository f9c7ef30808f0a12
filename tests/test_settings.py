"""A member's settings: training opt-out and password change."""

from __future__ import annotations

from conftest import PASSWORD

from webapp.extensions import db


def test_settings_page_shows_the_current_choice(client, auth, world):
    auth.login("brand@example.com")
    page = client.get("/auth/settings")
    assert page.status_code == 200
    assert 'name="training_opt_out"' in page.get_data(as_text=True)


def test_opting_out_is_saved_and_confirmed(client, auth, world):
    auth.login("brand@example.com")
    response = client.post("/auth/settings", data={"training_opt_out": "y"})
    assert response.status_code == 302
    db.session.refresh(world["brand"])
    assert world["brand"].training_opt_out is True
    page = client.get(response.location).get_data(as_text=True)
    assert "Your settings are saved." in page
    assert "left out of model training" in page
    client.post("/auth/settings", data={"submit": "Save settings"})
    db.session.refresh(world["brand"])
    assert world["brand"].training_opt_out is False


def test_a_new_password_needs_the_current_one(client, auth, world):
    auth.login("brand@example.com")
    missing = client.post("/auth/settings", data={"new_password": "another-secret"})
    assert missing.status_code == 422
    assert "Enter your current password" in missing.get_data(as_text=True)
    wrong = client.post(
        "/auth/settings",
        data={"current_password": "nope", "new_password": "another-secret"},
    )
    assert wrong.status_code == 422
    assert "not your current password" in wrong.get_data(as_text=True)
    db.session.refresh(world["brand"])
    assert world["brand"].check_password(PASSWORD)


def test_password_change_takes_effect(client, auth, world):
    auth.login("brand@example.com")
    client.post(
        "/auth/settings",
        data={"current_password": PASSWORD, "new_password": "another-secret"},
    )
    auth.logout()
    assert (
        auth.login("brand@example.com").status_code == 200
    )  # old password: form again
    assert auth.login("brand@example.com", "another-secret").status_code == 302

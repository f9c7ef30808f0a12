"""A NUL character anywhere in a request is a 400 on every backend, never a 500.

PostgreSQL refuses U+0000 in text columns; SQLite stores it. One rule at the door
keeps both backends answering the same.
"""

from __future__ import annotations

import pytest
from api_support import issue_token

from webapp.extensions import db


@pytest.mark.parametrize(
    "path",
    [
        "/collaborations/?q=%00",
        "/collaborations/%00",
        "/matches/influencers?niche=%00",
        "/outcomes/?page=1&status=x%00",
    ],
)
def test_a_nul_in_a_page_path_or_query_is_a_400(client, auth, world, path):
    auth.login("admin@example.com")
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_a_nul_in_a_form_field_is_a_400_and_saves_nothing(client, auth, world):
    auth.login("admin@example.com")
    response = client.post(
        "/settings", data={"training_opt_out": "y", "current_password": "x\x00"}
    )
    assert response.status_code == 400
    db.session.refresh(world["admin"])
    assert world["admin"].training_opt_out is False


def test_a_nul_in_a_json_string_is_a_json_400(client, world):
    token = issue_token(world["admin"])
    response = client.post(
        "/api/v1/predict/match",
        json={"influencer_id": "INF-A\x00", "company_id": "CO-A"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"


def test_a_nul_in_an_api_path_is_a_json_400(client, world):
    token = issue_token(world["admin"])
    response = client.get(
        "/api/v1/collaborations/%00", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]

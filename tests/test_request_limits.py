"""Bodies over MAX_CONTENT_LENGTH answer 413, whether sized or chunked; huge ids are 404."""

from __future__ import annotations

import io

import pytest
from api_support import issue_token


def chunked(client, path: str, size: int, **headers):
    """POST ``size`` bytes with no Content-Length, as a chunked upload arrives."""
    return client.post(
        path,
        input_stream=io.BytesIO(b"{" + b" " * size + b"}"),
        headers={"Transfer-Encoding": "chunked", **headers},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize(
    "path", ["/api/v1/predict/match", "/api/v1/predict/match/batch", "/api/v1/train"]
)
def test_a_chunked_api_body_over_the_limit_is_a_json_413(app, client, world, path):
    token = issue_token(world["admin"])
    response = chunked(
        client,
        path,
        app.config["MAX_CONTENT_LENGTH"] + 10,
        Authorization=f"Bearer {token}",
        **{"Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.get_data(as_text=True)
    assert response.get_json()["error"] == "payload_too_large"


def test_a_chunked_form_over_the_limit_is_413(app, client, world):
    response = chunked(
        client,
        "/auth/login",
        app.config["MAX_CONTENT_LENGTH"] + 10,
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_a_chunked_body_under_the_limit_is_read(app, client, world):
    token = issue_token(world["admin"])
    body = b'{"influencer_id": "INF-A", "company_id": "CO-A"}'
    response = client.post(
        "/api/v1/predict/match",
        input_stream=io.BytesIO(body),
        headers={
            "Transfer-Encoding": "chunked",
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    ["/runs/99999999999999999999", "/runs/2147483648/status.json"],
)
def test_ids_larger_than_the_database_holds_are_404(client, auth, world, path):
    auth.login("admin@example.com")
    assert client.get(path).status_code == 404


def test_an_api_id_larger_than_the_database_holds_is_a_json_404(client, world):
    token = issue_token(world["admin"])
    response = client.get(
        "/api/v1/runs/99999999999999999999",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("page", ["99999999999999999999", "-5", "x", "0", "9999"])
@pytest.mark.parametrize("path", ["/outcomes/", "/collaborations/", "/runs/"])
def test_any_page_number_shows_a_real_page(client, auth, world, path, page):
    auth.login("admin@example.com")
    assert client.get(path, query_string={"page": page}).status_code == 200


def test_a_huge_page_number_is_capped_and_keeps_the_real_total(app, world):
    from webapp.core.pagination import MAX_PAGE, paginate
    from webapp.models import Collaboration

    with app.test_request_context("/?page=99999999999999999999"):
        page = paginate(db_select(Collaboration), per_page=2)
    assert (page.page, page.pages, page.total, page.items) == (MAX_PAGE, 3, 5, [])


def db_select(model):
    from webapp.extensions import db

    return db.select(model).order_by(model.id)


def test_a_lone_surrogate_in_a_json_body_is_a_400(client, world):
    token = issue_token(world["admin"])
    response = client.post(
        "/api/v1/predict/match",
        data='{"influencer_id": "\\ud800", "company_id": "CO-A"}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert "surrogate" in response.get_json()["details"]


@pytest.mark.parametrize("value", ["sNaN", "NaN", "-Infinity", "Infinity", "snan"])
def test_non_finite_decimals_are_field_errors(client, auth, world, value):
    auth.login("brand@example.com")
    page = client.get(
        "/matches/influencers", query_string={"company_id": "CO-A", "max_rate": value}
    )
    assert page.status_code == 200
    assert "not NaN or infinity" in page.get_data(as_text=True)

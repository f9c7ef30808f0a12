"""The trends page and GET /api/v1/trends: forecasts members can read, honest when empty."""

from __future__ import annotations

import pytest
from api_support import ApiClient, issue_token
from trend_support import seed_activity, train_trend


@pytest.fixture
def trained(app):
    """Three monthly niches and a trained, active trend version."""
    seed_activity()
    return train_trend()


def test_members_see_the_trends_page_with_a_model(client, auth, world, trained):
    auth.login(world["brand"].email)
    page = client.get("/trends/").get_data(as_text=True)
    assert f"Forecasts by trend v{trained.version}" in page
    assert 'id="chart-niche-fitness"' in page
    assert 'href="/trends/"' in page  # linked in the navigation
    emerging = page[page.index('id="emerging"') : page.index('id="niche-table"')]
    assert "Fitness" in emerging and "Travel" not in emerging
    table = page[page.index('id="niche-travel"') :]
    assert "declining" in table[:600]


def test_without_a_model_the_page_shows_the_naive_forecast_and_says_so(
    client, auth, world
):
    seed_activity(months=30)
    auth.login(world["creator"].email)
    page = client.get("/trends/?horizon=4").get_data(as_text=True)
    assert 'id="trends-fallback"' in page
    assert "No trained trend model serves" in page
    assert "No niche is rising with a forecast that beat" in page
    assert 'id="chart-niche-gaming"' in page


def test_without_any_activity_the_page_says_what_to_do(client, auth, world):
    auth.login(world["brand"].email)
    response = client.get("/trends/?horizon=abc")
    assert response.status_code == 200
    assert "import it with" in response.get_data(as_text=True)


def test_api_trends_answers_the_documented_shape(app, client, world, trained):
    api = ApiClient(client)
    token = issue_token(world["brand"])
    body = api.call("GET", "/trends?horizon=3", 200, token=token).get_json()
    assert body["model"]["version"] == trained.version and body["fallback"] is False
    niches = {n["niche"]: n for n in body["niches"]}
    assert set(niches) == {"fitness", "gaming", "travel"}
    fitness = niches["fitness"]
    assert len(fitness["forecast"]) == 3
    assert fitness["forecast"][0]["period_start"] == "2025-01-01"
    for point in fitness["forecast"]:
        assert point["lower"] <= point["value"] <= point["upper"]
    assert fitness["trend"] == "rising" and fitness["beats_naive"] is True
    assert niches["travel"]["trend"] == "declining"
    assert [e["niche"] for e in body["emerging"]] == ["fitness"]
    assert body["emerging"][0]["rank"] == 1


@pytest.mark.parametrize(
    "query", ["horizon=0", "horizon=53", "horizon=x", "horizon=1.5"]
)
def test_api_trends_refuses_a_bad_horizon_with_400(app, client, world, query):
    api = ApiClient(client)
    response = api.call(
        "GET", f"/trends?{query}", 400, token=issue_token(world["brand"])
    )
    body = response.get_json()
    assert body["error"] == "invalid_query"
    assert body["details"][0]["path"] == "horizon"


def test_api_trends_without_a_model_falls_back_and_says_so(app, client, world):
    seed_activity(months=30)
    api = ApiClient(client)
    body = api.call("GET", "/trends", 200, token=issue_token(world["admin"])).get_json()
    assert body["fallback"] is True and body["emerging"] == []
    assert all("No trend model" in n["note"] for n in body["niches"])
    assert len(body["niches"][0]["forecast"]) == 12

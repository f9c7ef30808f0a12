"""Expected ROI with its interval on Find influencers and the collaboration page."""

from __future__ import annotations

import re

import pytest
from api_support import ApiClient, issue_token
from sqlalchemy import select
from training_helpers import seed_small_world, train_roi_version

from webapp.extensions import db
from webapp.models import Company, PredictionLog

ROI_CELL = re.compile(
    r'<tr id="match-([^"]+)".*?<td class="num roi">\s*<span class="roi-estimate[^"]*"\s*'
    r'title="([^"]*)">\s*<strong class="roi-expected">([+-]\d+) %</strong>\s*'
    r'<span class="small roi-interval">([+-]\d+) % to ([+-]\d+) %</span>',
    re.S,
)


def roi_cells(page: str) -> list[tuple[str, str, int, int, int]]:
    """Return (influencer id, title, expected, low, high) of each ranked row."""
    return [
        (i, title, int(e), int(lo), int(hi))
        for i, title, e, lo, hi in ROI_CELL.findall(page)
    ]


def test_find_influencers_shows_the_fallback_roi_without_a_model(client, auth, world):
    auth.login("brand@example.com")
    page = client.get("/matches/influencers").get_data(as_text=True)
    assert "Expected ROI" in page
    [(influencer, title, expected, low, high)] = roi_cells(page)
    assert influencer == "INF-B"
    # No reported ROI anywhere yet: the honest answer is 0 within a total loss .. +100 %.
    assert (expected, low, high) == (0, -100, 100)
    assert "no roi model serves" in title
    logged = db.session.scalars(
        select(PredictionLog).where(PredictionLog.model_type == "roi")
    ).all()
    assert [(r.source, r.fallback) for r in logged] == [("web", True)]


@pytest.fixture
def trained_world(app, make_user):
    seed_small_world()
    version = train_roi_version()
    admin = make_user("roi-pages@example.com", role="admin")
    company = db.session.scalars(select(Company).order_by(Company.id)).first()
    return version, admin, company


def test_find_influencers_shows_the_models_expected_roi_and_interval(
    client, auth, trained_world
):
    version, admin, company = trained_world
    auth.login(admin.email)
    page = client.get(
        f"/matches/influencers?company_id={company.external_id}&limit=5"
    ).get_data(as_text=True)
    cells = roi_cells(page)
    assert len(cells) == 5
    for _, title, expected, low, high in cells:
        assert low <= expected <= high
        assert f"roi v{version.version}" in title
        assert "90 % interval" in title
    # The page shows what the API answers for the same pair and offered budget.
    first = cells[0][0]
    budget = re.search(
        rf'name="influencer_id" value="{first}">.*?name="budget" value="(\d+)"',
        page,
        re.S,
    ).group(1)
    api = ApiClient(client).call(
        "POST",
        "/predict/roi",
        200,
        token=issue_token(admin),
        json={
            "influencer_id": first,
            "company_id": company.external_id,
            "budget": float(budget),
        },
    )
    assert round(api.get_json()["expected_roi"] * 100) == cells[0][2]


def test_the_collaboration_page_shows_the_expected_roi(client, auth, world):
    auth.login("brand@example.com")
    page = client.get("/collaborations/C-A-completed").get_data(as_text=True)
    shown = re.search(r'<dd id="expected-roi">(.*?)</dd>', page, re.S).group(1)
    assert "+0 %" in shown and "-100 % to +100 %" in shown
    assert "90 % interval" in shown and "no roi model serves" in shown

"""A member opens Trends from the navigation and sees the charts drawn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from test_browser_training import log_in
from trend_support import seed_activity, train_trend

pytestmark = pytest.mark.browser


def drawn(page, canvas_id: str) -> bool:
    """True when Chart.js drew a chart on the canvas with data in every series."""
    return page.evaluate(
        """id => {
          const chart = Chart.getChart(document.getElementById(id));
          return !!chart && chart.data.datasets.length === 4
            && chart.data.datasets.every(d => d.data.some(v => v !== null));
        }""",
        canvas_id,
    )


def test_a_member_reads_the_trends_page(app, live_server, browser_page, world):
    seed_activity()
    version = train_trend()
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, world["brand"].email)
    page.get_by_role("link", name="Trends").click()
    expect(page.get_by_role("heading", name="Niche trends")).to_be_visible()
    expect(page.locator("#trends-model")).to_contain_text(f"v{version.version}")
    expect(page.locator("#emerging li")).to_have_count(1)
    expect(page.locator("#emerging li").first).to_contain_text("Fitness")
    expect(page.locator("#niche-travel")).to_contain_text("declining")
    assert drawn(page, "chart-niche-fitness")
    assert drawn(page, "chart-niche-travel")
    page.get_by_label("Horizon").select_option("4")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"horizon=4"))
    assert (
        len(
            page.locator("#chart-niche-fitness").evaluate(
                "c => Chart.getChart(c).data.labels.slice(-4)"
            )
        )
        == 4
    )
    assert errors == []


def test_without_a_model_the_page_says_it_shows_naive_forecasts(
    app, live_server, browser_page, world
):
    seed_activity(months=30)
    page = browser_page
    log_in(page, world["creator"].email)
    page.goto("/trends/")
    expect(page.locator("#trends-fallback")).to_contain_text("No trained trend model")
    expect(page.locator("#emerging")).to_contain_text("No niche is rising")
    assert drawn(page, "chart-niche-gaming")

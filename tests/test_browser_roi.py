"""A brand member sees expected ROI with its interval on Find influencers, in a browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_browser_rating import log_in
from training_helpers import seed_small_world, train_roi_version


@pytest.mark.browser
def test_find_influencers_shows_expected_roi_with_an_interval(
    browser_page, live_server, world
):
    page = browser_page
    log_in(page, "brand@example.com")
    page.goto("/matches/influencers")
    expect(page.get_by_role("columnheader", name="Expected ROI")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="@")
    cell = row.locator("td.roi")
    expect(cell.locator(".roi-expected")).to_have_text("+0 %")
    expect(cell.locator(".roi-interval")).to_have_text("-100 % to +100 %")
    expect(cell.locator(".roi-estimate")).to_have_attribute(
        "title", "90 % interval: median ROI reported in the past (no roi model serves)"
    )


@pytest.mark.browser
def test_the_roi_model_page_draws_its_interval_charts(browser_page, live_server, world):
    seed_small_world()
    train_roi_version()
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "admin@example.com")
    page.goto("/models/roi")
    header = page.get_by_role("columnheader", name="Coverage", exact=True)
    expect(header.first).to_be_visible()
    for key, datasets in (("roi_intervals", 4), ("coverage", 2)):
        drawn = page.evaluate(
            "id => { const c = Chart.getChart(document.getElementById(id));"
            " return c ? c.data.datasets.length : 0; }",
            f"chart-{key}",
        )
        assert drawn == datasets, key
    assert errors == []

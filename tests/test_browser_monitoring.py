"""An admin opens the monitoring dashboard after a version was trained and served."""

from __future__ import annotations

import pytest
from monitoring_support import labelled_collaborations, serve_before
from playwright.sync_api import expect
from test_browser_experiments import log_in
from training_helpers import seed_small_world, train_version


@pytest.mark.browser
@pytest.mark.slow
def test_admin_reads_live_figures_and_drift_on_a_phone(
    app, live_server, browser_page, make_user
):
    seed_small_world()
    version = train_version()
    serve_before(labelled_collaborations(60))
    make_user("admin@example.com", role="admin")
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "admin@example.com")
    page.goto("/")
    menu = page.locator("details.nav-menu")
    menu.locator("summary").click()
    menu.get_by_role("link", name="Monitoring", exact=True).click()
    expect(page.get_by_role("heading", name="Monitoring: ")).to_be_visible()
    row = page.locator(f"#version-{version.id}")
    expect(row).to_contain_text(version.label)
    expect(row).to_contain_text("60")
    expect(page.locator("canvas#chart-calibration")).to_be_visible()
    expect(page.locator(f"canvas#chart-drift-{version.id}")).to_be_visible()
    expect(page.locator(".drift-table").first).to_contain_text("log_followers")
    # The page itself never scrolls sideways at 390 px; wide tables scroll inside.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    page.get_by_role("link", name="roi", exact=True).click()
    expect(page.get_by_text("Nothing to chart yet")).to_be_visible()

"""An admin creates a rollout in the browser, sees it running and pauses it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from rollout_support import active_and_candidate
from test_browser_experiments import log_in


@pytest.mark.browser
@pytest.mark.slow
def test_admin_creates_starts_and_pauses_a_rollout(
    app, live_server, browser_page, make_user
):
    make_user("admin@example.com", role="admin")
    active_and_candidate()
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "admin@example.com")

    page.goto("/rollouts/")
    expect(page.get_by_text("No rollouts yet.")).to_be_visible()
    page.get_by_role("button", name="New rollout").click()
    page.get_by_label("Candidate version").select_option("2")
    page.get_by_label("Steps (%)").fill("5, 25, 100")
    page.get_by_label("Hold (minutes)").fill("30")
    page.get_by_role("button", name="Create rollout").click()

    expect(page).to_have_url(re.compile(r"/rollouts/\d+$"))
    expect(page.get_by_text("created; start it when ready")).to_be_visible()
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_text("now running at 5 %")).to_be_visible()
    expect(page.locator("#steps li.current")).to_contain_text("5 %")
    # Nothing overflows the phone's width.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')]"
        ".filter((e) => e.getBoundingClientRect().right > 391)"
        ".map((e) => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
    )
    assert width <= 390, wide
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_text("now paused at 5 %")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("paused by hand")
    expect(page.locator("#timeline")).to_contain_text("admin@example.com")

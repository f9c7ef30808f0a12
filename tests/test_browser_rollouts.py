"""An admin creates a rollout in the browser, sees it running and pauses it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from rollout_support import active_and_candidate, add_version
from test_browser_experiments import log_in


@pytest.mark.browser
@pytest.mark.slow
def test_admin_creates_starts_and_pauses_a_rollout(
    app, live_server, browser_page, make_user
):
    make_user("admin@example.com", role="admin")
    _, candidate = active_and_candidate()
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "admin@example.com")

    page.goto("/rollouts/")
    expect(page.get_by_text("No rollouts yet.")).to_be_visible()
    page.get_by_role("button", name="New rollout").click()
    page.get_by_label("Candidate version").select_option(str(candidate.id))
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


@pytest.mark.browser
def test_the_rollout_form_offers_only_the_chosen_types_versions(
    app, live_server, browser_page, make_user
):
    make_user("admin@example.com", role="admin")
    match_active, match_candidate = active_and_candidate()
    roi = add_version(1, "roi")
    page = browser_page
    log_in(page, "admin@example.com")
    page.goto("/rollouts/new")

    def offered(label: str) -> list[str]:
        return page.get_by_label(label).evaluate(
            "(select) => [...select.options].map((option) => option.value)"
        )

    page.get_by_label("Model type").select_option("match_success")
    assert offered("Candidate version") == [
        str(match_candidate.id),
        str(match_active.id),
    ]
    assert offered("Baseline version") == [
        "",
        str(match_candidate.id),
        str(match_active.id),
    ]
    page.get_by_label("Model type").select_option("roi")
    assert offered("Candidate version") == [str(roi.id)]
    assert offered("Baseline version") == ["", str(roi.id)]
    # Back again: the match versions return, the roi one is gone.
    page.get_by_label("Model type").select_option("match_success")
    assert str(roi.id) not in offered("Candidate version")
    assert page.get_by_label("Candidate version").input_value() == str(
        match_candidate.id
    )

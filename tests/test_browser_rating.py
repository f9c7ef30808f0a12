"""A member rates a collaboration in a real browser; an admin then sees the outcome."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD, outcome_count
from playwright.sync_api import Page, expect

from webapp.extensions import db
from webapp.models import Outcome


def log_in(page: Page, email: str) -> None:
    """Sign in through the login form."""
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Welcome back, {email}.")).to_be_visible()


@pytest.mark.browser
def test_member_rates_a_collaboration_and_the_admin_sees_it(
    browser_page, live_server, world
):
    page = browser_page
    log_in(page, "brand@example.com")
    page.get_by_role("link", name="My collaborations").click()
    expect(page.get_by_role("heading", name="My collaborations")).to_be_visible()

    row = page.get_by_role("row").filter(has_text="C-A-completed")
    row.get_by_role("button", name="Rate").click()
    expect(page.get_by_role("heading", name="Rate this collaboration")).to_be_visible()

    # Saving without choosing a star keeps the page with the error at the stars.
    page.get_by_role("button", name="Save rating").click()
    expect(page.locator("#success_rating-error")).to_have_text(
        "Give a rating from 1 to 5."
    )
    expect(page.locator("#success_rating-group")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert outcome_count() == 0

    page.get_by_title("4 stars").click()
    expect(page.get_by_label("4 stars")).to_be_checked()
    page.get_by_label("How did it end?").select_option("partially_completed")
    page.get_by_label("ROI achieved").fill("0.3")
    page.get_by_label("Yes").check()
    page.get_by_label("Delivered on time").check()
    page.get_by_label("Good communication").check()
    page.get_by_label("Feedback").fill("Posts went out late, audience loved them.")
    page.get_by_role("button", name="Save rating").click()

    expect(page.get_by_text("Thank you, your rating is saved.")).to_be_visible()
    # Back on the list the rating form came from.
    expect(page.get_by_role("heading", name="My collaborations")).to_be_visible()
    rated_row = page.get_by_role("row").filter(has_text="C-A-completed")
    expect(rated_row.get_by_role("img", name="4 of 5 stars")).to_be_visible()
    expect(rated_row).to_contain_text(re.compile(r"★★★★(?!★)"))
    expect(rated_row.get_by_role("link", name="Edit")).to_be_visible()

    db.session.expire_all()
    [outcome] = db.session.scalars(db.select(Outcome)).all()
    assert (outcome.success_rating, outcome.rater_side) == (4, "company")
    assert outcome.completion_status == "partially_completed"
    assert outcome.would_collaborate_again is True
    assert outcome.success_factors == ["on_time", "communication"]

    admin_context = page.context.browser.new_context(base_url=live_server)
    try:
        admin = admin_context.new_page()
        log_in(admin, "admin@example.com")
        admin.goto("/outcomes/")
        admin_row = admin.get_by_role("row").filter(has_text="C-A-completed")
        expect(admin_row).to_contain_text("4/5")
        expect(admin_row).to_contain_text("Partially completed")
        expect(admin_row).to_contain_text("Posts went out late")
        expect(admin.locator(".stats")).to_contain_text(re.compile(r"1\s+rating(?!s)"))
        drawn = admin.evaluate("Chart.getChart('rating-chart').data.datasets[0].data")
        assert drawn == [0, 0, 0, 1, 0]
    finally:
        admin_context.close()

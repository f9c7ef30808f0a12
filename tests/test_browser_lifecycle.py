"""The marketplace loop closes in a real browser: proposal to two ratings, all in the UI.

The brand proposes from "Find influencers", the creator accepts (with
JavaScript switched off: every step is a plain form), the brand starts and
completes it, both rate it from their "To rate" queue with the star control,
and the admin sees both ratings on the collaboration's page and in Outcomes.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from conftest import PASSWORD
from playwright.sync_api import Browser, Page, expect

from webapp.extensions import db
from webapp.models import Collaboration, Outcome


def signed_in(browser: Browser, base_url: str, email: str, **options) -> Page:
    """Return a page of a new browser context signed in as ``email``."""
    page = browser.new_context(base_url=base_url, **options).new_page()
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Welcome back, {email}.")).to_be_visible()
    return page


def rate_from_queue(page: Page, external_id: str, choose_stars, again: str) -> None:
    """Open the To rate queue, rate ``external_id`` and come back to the queue."""
    page.get_by_role("link", name="To rate").click()
    expect(page.get_by_role("heading", name="To rate")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=external_id)
    row.get_by_role("button", name="Rate").click()
    expect(page.get_by_role("heading", name="Rate this collaboration")).to_be_visible()
    choose_stars(page)
    page.get_by_label("How did it end?").select_option("completed")
    page.get_by_label(again, exact=True).check()
    page.get_by_role("button", name="Save rating").click()
    expect(page.get_by_text("Thank you, your rating is saved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/collaborations/to-rate$"))
    expect(page.get_by_role("row").filter(has_text=external_id)).to_have_count(0)


def click_four_stars(page: Page) -> None:
    """Choose 4 stars with the mouse (the radios are unseen; the stars are labels)."""
    page.get_by_title("4 stars").click()
    expect(page.get_by_label("4 stars")).to_be_checked()


def type_five_stars(page: Page) -> None:
    """Choose 5 stars with the keyboard: focus the first star, arrow right four times."""
    page.get_by_label(re.compile(r"\b1 star$")).focus()
    page.keyboard.press("Space")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.get_by_label("5 stars")).to_be_checked()


@pytest.mark.browser
def test_a_proposal_becomes_two_ratings_through_the_ui(
    browser_page, live_server, world
):
    # Free the pair INF-A x CO-A so the brand can propose to the world's creator.
    db.session.execute(
        sa.update(Collaboration)
        .where(Collaboration.status.in_(("proposed", "active")))
        .values(status="cancelled")
    )
    db.session.commit()
    browser = browser_page.context.browser

    brand = signed_in(browser, live_server, "brand@example.com")
    brand.get_by_role("link", name="Find influencers").click()
    brand.locator("#match-INF-A").get_by_role("button", name="Propose").click()
    flash = brand.get_by_text(re.compile(r"Proposed ML-\d{8}-[A-Z0-9]{6}"))
    expect(flash).to_be_visible()
    external_id = re.search(r"ML-\d{8}-[A-Z0-9]{6}", flash.inner_text()).group(0)

    creator = signed_in(
        browser, live_server, "creator@example.com", java_script_enabled=False
    )
    creator.get_by_role("link", name="My collaborations").click()
    creator.get_by_role("link", name=external_id).click()
    expect(creator.locator("#status")).to_have_text("Proposed")
    expect(creator.get_by_role("button", name="Withdraw")).to_have_count(0)
    creator.get_by_role("button", name="Accept").click()
    expect(creator.get_by_text(f"{external_id} is accepted.")).to_be_visible()
    expect(creator.locator("#status")).to_have_text("Accepted")

    brand.goto(f"/collaborations/{external_id}")
    expect(brand.locator("#status")).to_have_text("Accepted")
    brand.get_by_role("button", name="Start").click()
    expect(brand.locator("#status")).to_have_text("Active")
    brand.get_by_role("button", name="Mark completed").click()
    expect(brand).to_have_url(re.compile(r"/collaborations/to-rate$"))
    expect(brand.get_by_text(f"{external_id} is completed.")).to_be_visible()
    rate_from_queue(brand, external_id, click_four_stars, "Yes")

    creator.reload()
    expect(creator.locator("[data-nav=to-rate]:visible")).to_contain_text(
        re.compile(r"\d")
    )
    rate_from_queue(creator, external_id, type_five_stars, "Yes")

    db.session.expire_all()
    ratings = dict(
        db.session.execute(
            sa.select(Outcome.rater_side, Outcome.success_rating)
            .join(Outcome.collaboration)
            .where(Collaboration.external_id == external_id)
        ).all()
    )
    assert ratings == {"company": 4, "influencer": 5}

    admin = signed_in(browser, live_server, "admin@example.com")
    admin.goto(f"/collaborations/{external_id}")
    expect(admin.locator("#rating-company")).to_contain_text("4/5")
    expect(admin.locator("#rating-influencer")).to_contain_text("5/5")
    timeline = admin.locator("ol.timeline li")
    expect(timeline).to_have_count(4)
    expect(timeline.nth(0)).to_contain_text("brand@example.com")
    expect(timeline.nth(1)).to_contain_text("creator@example.com")
    admin.goto("/outcomes/")
    rows = admin.get_by_role("row").filter(has_text=external_id)
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="4/5")).to_have_count(1)
    expect(rows.filter(has_text="5/5")).to_have_count(1)

"""Every main page works on a 390 x 844 phone; the run page's flash follows the run."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD
from playwright.sync_api import Page, expect
from training_helpers import seed_small_world, train_version

from webapp.extensions import db
from webapp.models import Company, Influencer, TrainingRun

PHONE = {"width": 390, "height": 844}
SCREENSHOTS = "/tmp/matchloop-mobile"


def log_in(page: Page, email: str) -> None:
    """Sign in through the login form (at whatever size the page is)."""
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Welcome back, {email}.")).to_be_visible()


def overflow(page: Page) -> int:
    """Return by how many pixels the page is wider than the window (0 = no sideways scroll)."""
    return page.evaluate(
        "Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )


def widest_charts(page: Page) -> list[int]:
    """Return the drawn width of every chart on the page."""
    return page.evaluate(
        "[...document.querySelectorAll('canvas')].map(c => c.getBoundingClientRect().right)"
    )


@pytest.fixture
def market(app, make_user):
    """A seeded marketplace with one trained version, an admin and a brand member."""
    seed_small_world()
    version = train_version()
    company = db.session.scalar(db.select(Company).order_by(Company.id).limit(1))
    influencer = db.session.scalar(
        db.select(Influencer).order_by(Influencer.id).limit(1)
    )
    make_user("admin@example.com", role="admin")
    make_user("brand@example.com", company=company)
    return {"version": version, "company": company, "influencer": influencer}


def admin_pages(market) -> list[str]:
    company, influencer = market["company"], market["influencer"]
    return [
        "/collaborations/",
        f"/matches/influencers?company_id={company.external_id}",
        f"/matches/brands?influencer_id={influencer.external_id}",
        "/outcomes/",
        "/models/",
        "/models/match_success",
        "/runs/",
        f"/runs/{market['version'].run_id}",
        "/auth/settings",
    ]


@pytest.mark.browser
@pytest.mark.slow
def test_no_main_page_scrolls_sideways_on_a_phone(browser_page, market):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto("/auth/login")
    too_wide = {"/auth/login": overflow(page)}
    log_in(page, "admin@example.com")
    for url in admin_pages(market):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        too_wide[url] = overflow(page)
        charts = widest_charts(page)
        assert all(right <= PHONE["width"] for right in charts), (url, charts)
        if too_wide[url]:
            page.screenshot(path=f"{SCREENSHOTS}{url.replace('/', '_')}.png")
    assert {url: px for url, px in too_wide.items() if px} == {}


@pytest.mark.browser
@pytest.mark.slow
def test_charts_shrink_when_the_window_does(browser_page, market):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "admin@example.com")
    page.goto("/models/match_success")
    page.wait_for_function("Chart.getChart('roc-chart') !== undefined")
    assert max(widest_charts(page)) > PHONE["width"]
    page.set_viewport_size(PHONE)
    page.wait_for_function(
        f"[...document.querySelectorAll('canvas')]"
        f".every(c => c.getBoundingClientRect().right <= {PHONE['width']})"
    )
    assert overflow(page) == 0


@pytest.mark.browser
@pytest.mark.slow
def test_a_members_pages_fit_a_phone_too(browser_page, market):
    page = browser_page
    page.set_viewport_size(PHONE)
    log_in(page, "brand@example.com")
    for url in ("/collaborations/", "/matches/influencers", "/auth/settings"):
        page.goto(url)
        assert overflow(page) == 0, url


@pytest.mark.browser
@pytest.mark.slow
def test_the_phone_menu_opens_and_reaches_every_page(browser_page, market):
    page = browser_page
    page.set_viewport_size(PHONE)
    log_in(page, "admin@example.com")
    menu = page.locator("details.nav-menu")
    expect(menu.locator("summary")).to_be_visible()
    # The wide row of links is folded away; the menu's links are hidden until opened.
    expect(page.locator(".nav-wide")).to_be_hidden()
    expect(menu.get_by_role("link", name="Runs")).to_be_hidden()
    for name, path in [
        ("Outcomes", "/outcomes/"),
        ("Collaborations", "/collaborations/"),
        ("Find matches", "/matches/influencers"),
        ("Models", "/models/"),
        ("Runs", "/runs/"),
        ("Settings", "/auth/settings"),
    ]:
        menu.locator("summary").click()
        link = menu.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
        link.click()
        expect(page).to_have_url(re.compile(re.escape(path) + r"$"))
        current = page.locator('details.nav-menu a[aria-current="page"]')
        expect(current).to_have_count(1)
        expect(current).to_have_text(name)
    menu.locator("summary").click()
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.browser
def test_the_wide_navigation_marks_the_current_page(browser_page, world):
    page = browser_page
    log_in(page, "brand@example.com")
    nav = page.locator(".nav-wide")
    expect(page.locator("details.nav-menu")).to_be_hidden()
    nav.get_by_role("link", name="Find influencers").click()
    expect(nav.locator('[aria-current="page"]')).to_have_text("Find influencers")
    nav.get_by_role("link", name="My collaborations").click()
    expect(nav.locator('[aria-current="page"]')).to_have_text("My collaborations")


@pytest.mark.browser
def test_the_queued_flash_goes_once_the_run_moves_on(
    browser_page, app, redis, make_user
):
    make_user("admin@example.com", role="admin")
    page = browser_page
    log_in(page, "admin@example.com")
    page.goto("/runs/new?type=match_success")
    page.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    run_id = int(page.url.rsplit("/", 1)[1])
    queued = page.get_by_text(f"Training run {run_id} of match_success is queued.")
    expect(queued).to_be_visible()
    expect(page.locator("#run-status")).to_have_text("queued")

    # Play the worker's part: the page learns of the change by polling.
    run = db.session.get(TrainingRun, run_id)
    run.status, run.stage, run.progress = "running", "fitting", 0.5
    run.started_at = run.created_at
    db.session.commit()
    expect(page.locator("#run-status")).to_have_text("running")
    expect(queued).to_have_count(0)
    expect(page.locator("#run-started")).to_contain_text(" UTC")

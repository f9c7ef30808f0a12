"""An admin sets up an experiment in the browser, starts it, reads it and concludes it."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD
from playwright.sync_api import Page, expect

from webapp.experiments import store, units
from webapp.experiments.units import AssignmentRule
from webapp.extensions import db


def log_in(page: Page, email: str) -> None:
    """Sign in through the login form."""
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Welcome back, {email}.")).to_be_visible()


def expose_units(key: str, count: int) -> None:
    """Assign and expose ``count`` companies; every third one converts."""
    experiment = store.by_key(key)
    rule = AssignmentRule.of(experiment)
    for n in range(count):
        unit = f"CO-{n}"
        units.assignment_for(rule, unit)
        units.record_exposure(experiment.id, unit)
        db.session.commit()
        if n % 3 == 0:
            units.record_event(experiment.id, unit, "acceptance", None, "api")


@pytest.mark.browser
@pytest.mark.slow
def test_admin_creates_starts_reads_and_concludes_an_experiment(
    app, live_server, browser_page, make_user
):
    make_user("admin@example.com", role="admin")
    page = browser_page
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, "admin@example.com")

    page.get_by_role("link", name="Experiments", exact=True).first.click()
    expect(page.get_by_text("No experiments yet.")).to_be_visible()
    page.get_by_role("button", name="New experiment").click()
    page.get_by_label("Key", exact=True).fill("browser-test")
    page.get_by_label("Name", exact=True).fill("Browser test")
    page.get_by_label("Hypothesis").fill("The treatment gets more acceptances.")
    page.get_by_label("Primary metric").select_option("acceptance_rate")
    page.get_by_label("Minimum detectable effect").fill("0.25")
    page.get_by_label("Baseline").fill("0.3")
    page.get_by_role("button", name="Compute the sample size").click()
    size = store.power.rate_sample_size(0.3, 0.25)
    expect(page.locator("#size-acceptance_rate")).to_contain_text(f"{size:,}")
    expect(page.get_by_label("Key of variant 0")).to_have_value("control")
    page.get_by_label("Key of variant 1").fill("treatment")
    page.get_by_role("button", name="Create draft").click()

    expect(page).to_have_url(re.compile(r"/experiments/browser-test$"))
    expect(
        page.get_by_text("Experiment browser-test created as a draft.")
    ).to_be_visible()
    page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_text("Experiment browser-test is running.")).to_be_visible()

    expose_units("browser-test", 30)
    page.reload()
    expect(page.locator("#srm-verdict")).to_contain_text("Sample ratio OK")
    document = store.outcomes.results(store.by_key("browser-test"))
    for row in document["variants"]:
        expect(page.locator(f"#variant-{row['key']}")).to_contain_text(
            str(row["exposures"])
        )
    assert sum(row["exposures"] for row in document["variants"]) == 30
    # The charts were drawn by Chart.js (a drawn canvas has a chart instance).
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('canvas.spec-chart')]"
        ".map((c) => !!Chart.getChart(c))"
    )
    assert drawn == [True, True]

    page.get_by_role("link", name="Experiments", exact=True).first.click()
    expect(page.locator("#experiment-browser-test")).to_contain_text("running")

    page.locator("#experiment-browser-test a").first.click()
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Experiment browser-test is stopped.")).to_be_visible()
    page.get_by_role("button", name="Conclude", exact=True).click()
    expect(page.get_by_text("nothing was shipped")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("conclude")

"""An admin trains a model from the UI and watches a real RQ worker finish it live."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import PASSWORD, PROJECT_ROOT
from playwright.sync_api import Page, expect
from training_helpers import seed_small_world

from webapp.extensions import db
from webapp.models import ModelVersion, TrainingRun

WORKER_TIMEOUT = 180


def log_in(page: Page, email: str) -> None:
    """Sign in through the login form."""
    page.goto("/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Welcome back, {email}.")).to_be_visible()


def start_worker(app) -> subprocess.Popen:
    """Start ``flask worker --burst`` on the test database, Redis and model directory."""
    env = {
        **os.environ,
        "MATCHLOOP_ENV": "testing",
        "MATCHLOOP_SECRET_KEY": app.config["SECRET_KEY"],
        "MATCHLOOP_DATABASE_URL": app.config["DATABASE_URL"],
        "MATCHLOOP_REDIS_URL": app.config["REDIS_URL"],
        "MATCHLOOP_INSTANCE_PATH": app.instance_path,
        "MATCHLOOP_MODEL_DIR": app.config["MODEL_DIR"],
        "MATCHLOOP_MIN_TRAINING_SAMPLES": str(app.config["MIN_TRAINING_SAMPLES"]),
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"]
    return subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.browser
@pytest.mark.queue
@pytest.mark.slow
def test_admin_trains_from_the_ui_and_watches_the_progress_bar(
    app, redis, live_server, browser_page, make_user
):
    seed_small_world()
    make_user("admin@example.com", role="admin")
    page = browser_page
    log_in(page, "admin@example.com")

    page.get_by_role("link", name="Models", exact=True).click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible()
    expect(page.locator("#type-match_success")).to_contain_text("never trained")
    page.get_by_role("button", name="Train match_success").click()
    expect(page.get_by_role("heading", name="Train Match success")).to_be_visible()
    page.get_by_label("Algorithm").select_option("logistic_regression")
    page.get_by_label("Validation folds").fill("3")
    page.get_by_role("button", name="Start training").click()

    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    run_id = int(page.url.rsplit("/", 1)[1])
    expect(
        page.get_by_text(f"Training run {run_id} of match_success is queued.")
    ).to_be_visible()
    expect(page.locator("#run-stage")).to_have_text("waiting for a worker")
    expect(page.locator("#run-progress")).to_have_js_property("value", 0)
    # Remember this document: the result must arrive without a page load.
    page.evaluate("window.sameDocument = true")
    run = db.session.get(TrainingRun, run_id)
    assert (run.status, run.job_id) == ("queued", f"train-run-{run_id}")

    worker = start_worker(app)
    try:
        expect(page.locator("#run-progress")).to_have_js_property(
            "value", 1, timeout=WORKER_TIMEOUT * 1000
        )
        expect(page.locator("#run-percent")).to_have_text("100 %")
        expect(page.locator("#run-status")).to_have_text("succeeded")
        expect(page.locator("#run-stage")).to_have_text("created match_success v1")
        link = page.locator("#run-version-link")
        expect(link).to_have_text("match_success v1")
        assert page.evaluate("window.sameDocument") is True
        output, _ = worker.communicate(timeout=WORKER_TIMEOUT)
        assert worker.returncode == 0, output
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    db.session.expire_all()
    run = db.session.get(TrainingRun, run_id)
    assert (run.status, run.progress) == ("succeeded", 1.0)
    version = db.session.get(ModelVersion, run.version_id)
    assert (version.version, version.status) == (1, "active")

    link.click()
    expect(page.locator("#version-1")).to_contain_text("active")
    expect(page.locator("#deployments")).to_contain_text("first successful version")
    drawn = page.evaluate("Chart.getChart('roc-chart').data.datasets.map(d => d.label)")
    assert drawn == ["v1 (active)", "chance"]

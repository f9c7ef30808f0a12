"""A newcomer's first minutes: ``flask up`` prints demo logins, and they work in Chromium.

This is the way a user meets it: a fresh instance, the commands ``make run``
runs (init-db, seed-demo, create-demo-users, up) on a free port, then the
credentials are read from what ``flask up`` printed and typed into the login
form of a real browser, as the admin, the brand and the creator.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
# "    brand:   brand@matchloop.test / brand-demo-pass  (brand Islewell Outfitters)"
LOGIN_LINE = re.compile(r"^\s+(admin|brand|creator):\s+(\S+@\S+) / (\S+)", re.M)
# Where each role lands after signing in, and what it shows there.
HOME = {
    "admin": ("/outcomes/", "Outcomes"),
    "brand": ("/collaborations/", "My collaborations"),
    "creator": ("/collaborations/", "My collaborations"),
}


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_banner(process: subprocess.Popen, timeout: float = 120) -> str:
    """Read ``flask up``'s output until the demo logins have been printed."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    os.set_blocking(process.stdout.fileno(), False)
    while time.monotonic() < deadline:
        assert process.poll() is None, "flask up exited early:\n" + "".join(lines)
        line = process.stdout.readline()
        if not line:
            time.sleep(0.2)
            continue
        lines.append(line)
        text = "".join(lines)
        if len(LOGIN_LINE.findall(text)) == 3:
            return text
    raise AssertionError("flask up never printed three demo logins:\n" + "".join(lines))


def wait_until_serving(port: int, timeout: float = 90) -> None:
    """Wait until the login page answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/auth/login", timeout=2
            ) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the login page never answered")


@pytest.fixture
def stack(tmp_path: Path):
    """Run make run's commands on a fresh instance; yield (base URL, banner)."""
    env = {
        **os.environ,
        "MATCHLOOP_INSTANCE_PATH": str(tmp_path / "instance"),
        "MATCHLOOP_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("MATCHLOOP_REDIS_URL", "MATCHLOOP_DATABASE_URL"):
        env.pop(name, None)

    def run(*args: str) -> str:
        done = subprocess.run(
            [*FLASK, *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("init-db")
    run(
        "seed-demo",
        *("--influencers", "200", "--companies", "40", "--collaborations", "800"),
    )
    run("seed-demo", "--if-empty")  # what make run does on the second start
    created = run("create-demo-users")
    assert len(LOGIN_LINE.findall(created)) == 3, created
    port = free_port()
    process = subprocess.Popen(
        [*FLASK, "up", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = read_banner(process)
        wait_until_serving(port)
        yield f"http://127.0.0.1:{port}", banner
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0


@pytest.fixture
def chromium():
    """Yield Debian's Chromium under Playwright (launched as ``browser_page`` does)."""
    executable = "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(f"browser tests need Chromium at {executable}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_printed_demo_logins_work_in_chromium(stack, chromium):
    base_url, banner = stack
    logins = LOGIN_LINE.findall(banner)
    assert [role for role, _, _ in logins] == ["admin", "brand", "creator"]
    assert any(email.endswith("@matchloop.test") for _, email, _ in logins)
    from playwright.sync_api import expect

    for role, email, password in logins:
        context = chromium.new_context(base_url=base_url)
        try:
            page = context.new_page()
            page.goto("/")
            expect(page).to_have_url(re.compile(r"/auth/login"))
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            path, heading = HOME[role]
            expect(page).to_have_url(base_url + path)
            expect(page.get_by_text(f"Welcome back, {email}.")).to_be_visible()
            expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
            expect(page.locator("footer")).to_contain_text(f"Signed in as {email}")
            if role != "admin":
                expect(page.locator("[data-nav=to-rate]:visible")).to_be_visible()
        finally:
            context.close()

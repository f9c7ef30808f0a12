"""What every page shares: numbers, money, plurals, UTC times, pagination past the end."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from test_outcomes_admin import ROWS, add_outcome, notes

from webapp import create_app
from webapp.config import ConfigError
from webapp.core import formatting
from webapp.extensions import db
from webapp.models import TrainingRun

# -- the formatting rules ---------------------------------------------------------


def test_numbers_have_thousands_separators():
    assert formatting.number(15659) == "15,659"
    assert formatting.number(1_234_567.8) == "1,234,568"
    assert formatting.number(0.25, digits=2) == "0.25"
    assert formatting.number(None) == "–"


def test_money_carries_the_marketplace_currency(app):
    assert formatting.money(12500.4) == "$12,500"
    assert formatting.money(None) == "–"
    app.config["CURRENCY"] = "EUR"
    assert formatting.money(1500) == "€1,500"


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 runs"), (1, "1 run"), (2, "2 runs"), (15659, "15,659 runs")],
)
def test_nouns_agree_with_their_count(count, text):
    assert formatting.plural(count, "run") == text


def test_irregular_plurals_are_given():
    assert formatting.plural(3, "category", "categories") == "3 categories"
    assert formatting.noun(1, "category", "categories") == "category"


def test_times_are_shown_in_utc_with_a_marker():
    moment = datetime(2025, 3, 1, 14, 5, 9)
    assert formatting.utc_text(moment) == "2025-03-01 14:05 UTC"
    assert str(formatting.utc(moment)) == (
        '<time datetime="2025-03-01T14:05:09Z">2025-03-01 14:05 UTC</time>'
    )
    assert str(formatting.utc(None)) == "–"


def test_the_currency_setting_must_be_an_iso_code(database_url, tmp_path):
    config = {"ENV": "testing", "SECRET_KEY": "k", "DATABASE_URL": database_url}
    assert create_app({**config, "CURRENCY": "eur"}).config["CURRENCY"] == "EUR"
    with pytest.raises(ConfigError, match="ISO 4217"):
        create_app({**config, "CURRENCY": "dollars"})


# -- the pages --------------------------------------------------------------------


@pytest.fixture
def admin(client, auth, world):
    auth.login("admin@example.com")
    return client


@pytest.fixture
def rated(world):
    for index, row in enumerate(ROWS):
        add_outcome(world, index, *row)
    db.session.commit()
    return world


def add_runs(count: int) -> None:
    """Store ``count`` finished training runs at once."""
    created = datetime(2025, 3, 1, 9, 30)
    db.session.execute(
        sa.insert(TrainingRun),
        [
            {"model_type": "match_success", "status": "failed", "created_at": created}
            for _ in range(count)
        ],
    )
    db.session.commit()


def test_a_page_past_the_end_says_so_and_links_to_the_last_page(admin, rated):
    response = admin.get("/outcomes/?niche=fitness&page=9999")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "No outcomes match these filters yet." not in page
    assert "Page 9,999 is past the end: there are 3 outcomes" in page
    last = re.search(r'href="([^"]+)" role="button"[^>]*>Go to the last page', page)
    assert last, "a link to the last page"
    target = html.unescape(last.group(1))
    assert "page=1" in target and "niche=fitness" in target
    assert len(notes(admin.get(target).get_data(as_text=True))) == 3


def test_every_paginated_list_says_when_it_is_past_the_end(admin, rated):
    add_runs(1)
    # 6 outcomes, 1 run, 11 collaborations (the world's 5 and 6 rated): 10 a page.
    lists = {"/outcomes/": 1, "/runs/": 1, "/collaborations/": 2}
    for url, last in lists.items():
        page = admin.get(f"{url}?page=50").get_data(as_text=True)
        assert "Page 50 is past the end" in page, url
        assert f"Go to the last page ({last})" in page, url


def test_counts_use_thousands_separators_and_agree_in_number(admin):
    add_runs(1)
    page = admin.get("/runs/").get_data(as_text=True)
    assert "1 run</p>" in page and "1 runs" not in page
    add_runs(1_004)
    page = admin.get("/runs/").get_data(as_text=True)
    assert "1,005 runs, page 1 of 101" in page
    assert ">101</a>" in page, "the last page link"


def test_times_on_pages_are_marked_utc(admin, rated):
    add_runs(1)
    runs = admin.get("/runs/").get_data(as_text=True)
    assert '<time datetime="2025-03-01T09:30:00Z">2025-03-01 09:30 UTC</time>' in runs
    outcomes = admin.get("/outcomes/").get_data(as_text=True)
    assert "2025-04-01 12:00 UTC" in outcomes


def test_budgets_rates_and_followers_show_currency_and_separators(client, auth, world):
    auth.login("brand@example.com")
    collaborations = client.get("/collaborations/").get_data(as_text=True)
    assert "$1,500" in collaborations
    matches = client.get("/matches/influencers").get_data(as_text=True)
    assert "budget $5,000 per campaign" in matches
    assert '<td class="num">25,000</td>' in matches, "INF-B's followers"
    assert '<td class="num">$400</td>' in matches, "INF-B's rate per post"
    assert "Offer (USD)" in matches


def test_a_from_date_after_the_until_date_is_a_field_error(admin, rated):
    page = admin.get("/outcomes/?rated_from=2025-05-01&rated_to=2025-04-01").get_data(
        as_text=True
    )
    error = re.search(r'<small class="field-error">([^<]*)</small>', page)
    assert error, "the until field shows an error"
    assert html.unescape(error.group(1)) == (
        'Must be on or after the "Rated from" date (2025-05-01).'
    )
    # The valid "from" date still applies: only outcomes rated from May on.
    assert notes(page) == {3, 4, 5}


# -- navigation -------------------------------------------------------------------


def current_entries(page: str) -> list[str]:
    """Return the labels of the navigation links marked as the current page."""
    wide = re.search(r'<ul class="nav-wide">(.*?)</ul>', page, re.S).group(1)
    return re.findall(r'aria-current="page"[^>]*>([^<]+)<', wide)


def test_the_navigation_marks_the_page_and_the_section_it_is_in(admin):
    add_runs(1)
    run_id = db.session.scalar(sa.select(TrainingRun.id))
    expected = {
        "/outcomes/": ["Outcomes"],
        "/collaborations/": ["Collaborations"],
        "/matches/influencers": ["Find matches"],
        "/matches/brands": ["Find matches"],
        "/models/": ["Models"],
        "/models/match_success": ["Models"],
        "/runs/new?type=match_success": ["Models"],
        "/runs/": ["Runs"],
        f"/runs/{run_id}": ["Runs"],
        "/auth/settings": ["Settings"],
    }
    for url, entries in expected.items():
        page = admin.get(url).get_data(as_text=True)
        assert current_entries(page) == entries, url
        # The phone menu carries the same entries, marked the same way.
        menu = re.search(
            r'<details class="dropdown nav-menu">(.*?)</details>', page, re.S
        )
        assert menu.group(1).count('aria-current="page"') == len(entries), url

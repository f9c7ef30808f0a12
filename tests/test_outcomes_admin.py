"""The admin's outcome list at /outcomes: filters, pagination and the rating chart."""

from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.models import Collaboration, Outcome

# (niche of the influencer, rating, completion status, rater side, rated on)
ROWS = [
    ("fitness", 5, "completed", "company", date(2025, 4, 1)),
    ("fitness", 4, "completed", "influencer", date(2025, 4, 2)),
    ("fitness", 2, "disputed", "company", date(2025, 4, 10)),
    ("gaming", 1, "cancelled", "company", date(2025, 5, 1)),
    ("gaming", 4, "partially_completed", "influencer", date(2025, 5, 2)),
    ("gaming", 4, "completed", "company", date(2025, 6, 15)),
]


def add_outcome(
    world, index: int, niche: str, rating: int, status: str, side: str, day
):
    """Store one rated collaboration; its feedback ``note-<index>`` identifies it."""
    inf_a, inf_b = world["influencers"]
    influencer = inf_a if niche == inf_a.niche else inf_b
    company = world["companies"][0 if influencer is inf_a else 1]
    collaboration = Collaboration(
        external_id=f"C-OUT-{index:03d}",
        influencer=influencer,
        company=company,
        proposed_on=day - timedelta(days=40),
        status="completed",
        budget=1000.0,
        completed_on=day - timedelta(days=5),
    )
    db.session.add(
        Outcome(
            collaboration=collaboration,
            rater_side=side,
            success_rating=rating,
            completion_status=status,
            roi_achieved=0.1,
            would_collaborate_again=rating >= 4,
            success_factors=["on_time"],
            feedback=f"note-{index}",
            rated_at=datetime.combine(day, datetime.min.time()) + timedelta(hours=12),
        )
    )


@pytest.fixture
def rated(world):
    """The world plus the outcomes in ROWS (inf A is fitness, inf B gaming)."""
    assert world["influencers"][0].niche == "fitness"
    assert world["influencers"][1].niche == "gaming"
    for index, row in enumerate(ROWS):
        add_outcome(world, index, *row)
    db.session.commit()
    return world


@pytest.fixture
def admin(client, auth, rated):
    auth.login("admin@example.com")
    return client


def notes(page: str) -> set[int]:
    """Return the indexes of the outcomes listed on ``page``."""
    return {int(n) for n in re.findall(r"note-(\d+)", page)}


def chart_counts(page: str) -> list[int]:
    """Return the rating distribution the chart is drawn from."""
    match = re.search(r'data-counts="([^"]*)"', page)
    assert match, "no chart on the page"
    return json.loads(html.unescape(match.group(1)))


def expected(predicate) -> tuple[set[int], list[int]]:
    """Return which ROWS match ``predicate`` and their rating distribution."""
    indexes = {i for i, row in enumerate(ROWS) if predicate(*row)}
    counts = [sum(1 for i in indexes if ROWS[i][1] == r) for r in range(1, 6)]
    return indexes, counts


def test_admin_sees_every_outcome_and_the_distribution(admin):
    response = admin.get("/outcomes/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert notes(page) == set(range(len(ROWS)))
    assert chart_counts(page) == [1, 1, 0, 3, 1]
    assert "<strong>6</strong> ratings" in page
    assert "<strong>3.33</strong> mean rating" in page


@pytest.mark.parametrize(
    ("query", "predicate"),
    [
        ("niche=gaming", lambda n, r, s, side, d: n == "gaming"),
        ("rating=4", lambda n, r, s, side, d: r == 4),
        ("status=completed", lambda n, r, s, side, d: s == "completed"),
        ("side=influencer", lambda n, r, s, side, d: side == "influencer"),
        ("rated_from=2025-04-02", lambda n, r, s, side, d: d >= date(2025, 4, 2)),
        ("rated_to=2025-04-10", lambda n, r, s, side, d: d <= date(2025, 4, 10)),
        (
            "rated_from=2025-04-02&rated_to=2025-05-01",
            lambda n, r, s, side, d: date(2025, 4, 2) <= d <= date(2025, 5, 1),
        ),
        (
            "niche=fitness&side=company&status=completed",
            lambda n, r, s, side, d: (
                (n, side, s) == ("fitness", "company", "completed")
            ),
        ),
    ],
)
def test_each_filter_narrows_the_list_and_the_chart(admin, query, predicate):
    indexes, counts = expected(predicate)
    assert 0 < len(indexes) < len(ROWS), "the case must actually narrow the list"
    page = admin.get(f"/outcomes/?{query}").get_data(as_text=True)
    assert notes(page) == indexes
    assert chart_counts(page) == counts
    rating_noun = "rating" if len(indexes) == 1 else "ratings"
    assert f"<strong>{len(indexes)}</strong> {rating_noun}" in page


def test_no_match_shows_the_empty_state(admin):
    page = admin.get("/outcomes/?niche=pets").get_data(as_text=True)
    assert notes(page) == set()
    assert "No outcomes match these filters yet." in page
    assert chart_counts(page) == [0, 0, 0, 0, 0]


def test_a_bad_filter_value_does_not_drop_the_good_ones(admin):
    page = admin.get("/outcomes/?niche=gaming&rated_from=not-a-date").get_data(
        as_text=True
    )
    assert notes(page) == expected(lambda n, r, s, side, d: n == "gaming")[0]
    assert "Not a valid date value." in page


def test_list_is_newest_first_and_paginated(admin, rated):
    base = date(2024, 1, 1)
    for offset in range(17):
        add_outcome(
            rated,
            100 + offset,
            "fitness",
            3,
            "completed",
            "company",
            base + timedelta(days=offset),
        )
    db.session.commit()
    # 6 outcomes in 2025 plus 17 in January 2024: 23 over three pages of 10.
    first = admin.get("/outcomes/").get_data(as_text=True)
    order = [int(n) for n in re.findall(r"note-(\d+)", first)]
    assert order == [5, 4, 3, 2, 1, 0, 116, 115, 114, 113]
    assert "23 outcomes, page 1 of 3" in first
    assert chart_counts(first) == [1, 1, 17, 3, 1], "the chart counts every page"

    last = admin.get("/outcomes/?page=3").get_data(as_text=True)
    assert [int(n) for n in re.findall(r"note-(\d+)", last)] == [102, 101, 100]


def test_pagination_keeps_the_filters(admin, rated):
    for offset in range(12):
        add_outcome(
            rated,
            200 + offset,
            "gaming",
            2,
            "completed",
            "company",
            date(2024, 2, 1) + timedelta(days=offset),
        )
    db.session.commit()
    page = admin.get("/outcomes/?niche=gaming").get_data(as_text=True)
    assert "15 outcomes, page 1 of 2" in page
    next_link = re.search(r'href="([^"]+)" rel="next"', page).group(1)
    assert "niche=gaming" in html.unescape(next_link)
    second = admin.get(html.unescape(next_link)).get_data(as_text=True)
    assert all(ROWS[i][0] == "gaming" for i in notes(second) if i < len(ROWS))
    assert len(notes(second)) == 5


@pytest.mark.parametrize(
    "email", ["brand@example.com", "creator@example.com", "loner@example.com"]
)
def test_members_get_403(client, auth, rated, email):
    auth.login(email)
    response = client.get("/outcomes/?niche=gaming")
    assert response.status_code == 403
    assert "note-" not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client, rated):
    response = client.get("/outcomes/")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")

"""A member's collaborations and the rating form at /collaborations/<id>/rate."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from conftest import outcome_count

from webapp.core import taxonomy
from webapp.extensions import db
from webapp.models import Collaboration, Outcome

RATE_URL = "/collaborations/{}/rate"
VALID = {
    "success_rating": "4",
    "completion_status": "partially_completed",
    "roi_achieved": "0.25",
    "would_collaborate_again": "no",
    "success_factors": ["clear_brief", "on_time"],
    "feedback": "  Good brief, late posts.  ",
}


def rate(client, external_id: str = "C-A-completed", **changes):
    """POST the rating form with VALID data, some fields changed (None drops one)."""
    data = {**VALID, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(RATE_URL.format(external_id), data=data)


def outcomes_of(external_id: str) -> list[Outcome]:
    """Return the outcome rows of one collaboration, read fresh from the database."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(Outcome)
            .join(Outcome.collaboration)
            .where(Collaboration.external_id == external_id)
        )
    )


def field_error(page: str, field: str) -> str | None:
    """Return the error text shown under ``field``, or None."""
    match = re.search(
        rf'<small class="field-error" id="{field}-error">([^<]*)</small>', page
    )
    return html.unescape(match.group(1)) if match else None


def checked_star(page: str) -> str | None:
    """Return the value of the checked star radio button, or None."""
    found = re.findall(r'<input[^>]*name="success_rating"[^>]*>', page)
    chosen = [tag for tag in found if "checked" in tag]
    assert len(chosen) <= 1, chosen
    return re.search(r'value="(\d)"', chosen[0]).group(1) if chosen else None


@pytest.fixture
def brand(client, auth, world):
    """A client logged in as the brand member of company CO-A."""
    auth.login("brand@example.com")
    return client


# -- the form -------------------------------------------------------------------


def test_rate_page_shows_every_field(brand):
    response = brand.get(RATE_URL.format("C-A-completed"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in (
        "success_rating",
        "completion_status",
        "roi_achieved",
        "would_collaborate_again",
        "success_factors",
        "feedback",
    ):
        assert f'name="{name}"' in page, name
    for factor, label in taxonomy.SUCCESS_FACTORS.items():
        assert f'value="{factor}"' in page
        assert html.escape(label) in page
    assert "Rate this collaboration" in page


def test_valid_rating_is_saved_for_the_users_side(brand, world):
    response = rate(brand)
    assert response.status_code == 302
    assert response.location == "/collaborations/"
    [outcome] = outcomes_of("C-A-completed")
    assert outcome.rater_side == "company"
    assert outcome.rated_by_id == world["brand"].id
    assert outcome.success_rating == 4
    assert outcome.completion_status == "partially_completed"
    assert outcome.roi_achieved == pytest.approx(0.25)
    assert outcome.would_collaborate_again is False
    assert outcome.success_factors == ["clear_brief", "on_time"]
    assert outcome.feedback == "Good brief, late posts."
    listing = brand.get("/collaborations/").get_data(as_text=True)
    assert "Thank you, your rating is saved." in listing
    assert "★★★★" in listing and "★★★★★" not in listing


def test_optional_fields_may_stay_empty(brand):
    response = rate(brand, roi_achieved="", success_factors=None, feedback="")
    assert response.status_code == 302
    [outcome] = outcomes_of("C-A-completed")
    assert outcome.roi_achieved is None
    assert outcome.success_factors == []
    assert outcome.feedback is None


def test_a_cancelled_collaboration_can_be_rated(brand):
    assert (
        rate(brand, "C-A-cancelled", completion_status="cancelled").status_code == 302
    )
    assert len(outcomes_of("C-A-cancelled")) == 1


@pytest.mark.parametrize("rating", ["1", "5"])
def test_rating_boundaries_are_accepted(brand, rating):
    assert rate(brand, success_rating=rating).status_code == 302
    assert outcomes_of("C-A-completed")[0].success_rating == int(rating)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"success_rating": "0"}, "success_rating", "Ratings go from 1 to 5."),
        ({"success_rating": "6"}, "success_rating", "Ratings go from 1 to 5."),
        ({"success_rating": "-3"}, "success_rating", "Ratings go from 1 to 5."),
        ({"success_rating": "four"}, "success_rating", None),
        ({"success_rating": "3.5"}, "success_rating", None),
        ({"success_rating": None}, "success_rating", "Give a rating from 1 to 5."),
        ({"success_rating": ""}, "success_rating", "Give a rating from 1 to 5."),
        ({"completion_status": None}, "completion_status", None),
        ({"completion_status": "abandoned"}, "completion_status", None),
        ({"would_collaborate_again": None}, "would_collaborate_again", None),
        ({"would_collaborate_again": "maybe"}, "would_collaborate_again", None),
        ({"roi_achieved": "-1.01"}, "roi_achieved", "ROI must be between -1 and 100."),
        ({"roi_achieved": "100.5"}, "roi_achieved", "ROI must be between -1 and 100."),
        ({"roi_achieved": "lots"}, "roi_achieved", None),
        ({"success_factors": ["on_time", "luck"]}, "success_factors", None),
        ({"feedback": "x" * 2001}, "feedback", None),
    ],
    ids=lambda value: str(value)[:40] if not isinstance(value, dict) else None,
)
def test_invalid_input_rerenders_with_a_field_error(brand, changes, field, message):
    response = rate(brand, **changes)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = field_error(page, field)
    assert error, f"no error shown under {field}"
    if message:
        assert error == message
    assert "Rate this collaboration" in page
    assert outcome_count() == 0


def test_several_errors_share_one_described_element(brand):
    page = rate(brand, roi_achieved="lots").get_data(as_text=True)
    assert page.count('id="roi_achieved-error"') == 1
    assert "Not a valid decimal value." in field_error(page, "roi_achieved")


def test_invalid_input_keeps_what_was_typed(brand):
    page = rate(brand, success_rating="3", roi_achieved="lots", feedback="Keep me")
    page = page.get_data(as_text=True)
    assert checked_star(page) == "3"
    assert "Keep me" in page
    assert re.search(r'value="on_time"[^>]*checked|checked[^>]*value="on_time"', page)


@pytest.mark.parametrize(("roi", "feedback"), [("-1", "x" * 2000), ("100", "")])
def test_roi_and_feedback_limits_are_inclusive(brand, roi, feedback):
    assert rate(brand, roi_achieved=roi, feedback=feedback).status_code == 302
    assert outcomes_of("C-A-completed")[0].roi_achieved == float(roi)


def test_cannot_rate_another_companys_collaboration(brand):
    url = RATE_URL.format("C-B-completed")
    assert brand.get(url).status_code == 404
    assert rate(brand, "C-B-completed").status_code == 404
    assert outcome_count() == 0


def test_cannot_rate_another_influencers_collaboration(client, auth, world):
    auth.login("creator@example.com")
    assert rate(client, "C-B-completed").status_code == 404
    assert outcome_count() == 0


def test_unknown_collaboration_is_404(brand):
    assert brand.get(RATE_URL.format("NO-SUCH-ID")).status_code == 404


@pytest.mark.parametrize("member", ["loner@example.com", "admin@example.com"])
def test_users_without_a_side_cannot_rate(client, auth, world, member):
    auth.login(member)
    assert rate(client).status_code == 404
    assert outcome_count() == 0


@pytest.mark.parametrize("external_id", ["C-A-active", "C-A-proposed"])
def test_unfinished_collaboration_redirects_with_a_message(brand, external_id):
    for response in (brand.get(RATE_URL.format(external_id)), rate(brand, external_id)):
        assert response.status_code == 302
        assert response.location == "/collaborations/"
    assert outcome_count() == 0
    listing = brand.get("/collaborations/").get_data(as_text=True)
    assert "Only completed or cancelled collaborations can be rated." in listing


def test_second_submission_edits_the_same_rating(brand):
    rate(brand, success_rating="2")
    [first] = outcomes_of("C-A-completed")
    rated_at = first.rated_at

    page = brand.get(RATE_URL.format("C-A-completed")).get_data(as_text=True)
    assert "Edit your rating" in page
    assert checked_star(page) == "2"
    assert re.search(r'checked[^>]*value="no"|value="no"[^>]*checked', page)

    response = rate(brand, success_rating="5", would_collaborate_again="yes")
    assert response.status_code == 302
    [outcome] = outcomes_of("C-A-completed")
    assert outcome.id == first.id
    assert outcome.success_rating == 5
    assert outcome.would_collaborate_again is True
    assert outcome.rated_at == rated_at
    assert "Rating updated." in brand.get("/collaborations/").get_data(as_text=True)


def test_double_submit_race_updates_instead_of_failing(brand, monkeypatch):
    """Two quick submissions both see 'not rated yet'; the second must not crash."""
    rate(brand, success_rating="2")
    monkeypatch.setattr(Collaboration, "outcome_for", lambda self, side: None)
    response = rate(brand, success_rating="3")
    assert response.status_code == 302
    [outcome] = outcomes_of("C-A-completed")
    assert outcome.success_rating == 3


def test_posted_side_is_ignored(brand):
    response = rate(brand, rater_side="influencer", rated_by_id="999")
    assert response.status_code == 302
    [outcome] = outcomes_of("C-A-completed")
    assert outcome.rater_side == "company"


def test_influencer_rates_as_the_influencer_side(client, auth, world):
    auth.login("brand@example.com")
    rate(client)
    auth.logout()
    auth.login("creator@example.com")
    response = rate(client, rater_side="company", success_rating="2")
    assert response.status_code == 302
    sides = {o.rater_side: o for o in outcomes_of("C-A-completed")}
    assert set(sides) == {"company", "influencer"}
    assert sides["influencer"].success_rating == 2
    assert sides["influencer"].rated_by_id == world["creator"].id
    assert sides["company"].success_rating == 4


# -- the list ---------------------------------------------------------------------


def test_member_without_a_link_sees_the_empty_state(client, auth, world):
    auth.login("loner@example.com")
    page = client.get("/collaborations/").get_data(as_text=True)
    assert "not linked to an influencer or a brand" in page
    assert "C-A-completed" not in page


def test_member_sees_only_their_own_collaborations(brand):
    page = brand.get("/collaborations/").get_data(as_text=True)
    for status in ("completed", "cancelled", "active", "proposed"):
        assert f"C-A-{status}" in page
    assert "C-B-completed" not in page
    assert page.count('role="button" class="small">Rate</a>') == 2
    assert page.count("not finished yet") == 2


def test_influencer_sees_their_collaborations_with_brand_names(client, auth, world):
    auth.login("creator@example.com")
    page = client.get("/collaborations/").get_data(as_text=True)
    assert "Brand CO-A" in page
    assert "C-B-completed" not in page


def test_list_is_newest_first_and_paginated(brand, world):
    company = world["companies"][0]
    influencer = world["influencers"][0]
    start = date(2024, 1, 1)
    db.session.add_all(
        Collaboration(
            external_id=f"C-OLD-{n:02d}",
            influencer=influencer,
            company=company,
            proposed_on=start + timedelta(days=n),
            status="completed",
            budget=100.0,
        )
        for n in range(19)
    )
    db.session.commit()
    # 4 collaborations from the world fixture (March 2025) + 19 older ones = 23.
    first = brand.get("/collaborations/").get_data(as_text=True)
    ids = re.findall(r"<code>([^<]+)</code>", first)
    assert ids[:4] == ["C-A-proposed", "C-A-active", "C-A-cancelled", "C-A-completed"]
    assert ids[4:] == [f"C-OLD-{n:02d}" for n in range(18, 12, -1)]
    assert "23 collaborations, page 1 of 3" in first

    last = brand.get("/collaborations/?page=3").get_data(as_text=True)
    assert re.findall(r"<code>([^<]+)</code>", last) == [
        "C-OLD-02",
        "C-OLD-01",
        "C-OLD-00",
    ]
    assert 'rel="next"' not in last and 'rel="prev"' in last


def test_list_filters_by_status(brand):
    page = brand.get("/collaborations/?status=active").get_data(as_text=True)
    assert re.findall(r"<code>([^<]+)</code>", page) == ["C-A-active"]


def test_a_bad_search_does_not_drop_the_status_filter(brand):
    response = brand.get(
        "/collaborations/", query_string={"status": "active", "q": "x" * 101}
    )
    page = response.get_data(as_text=True)
    assert re.findall(r"<code>([^<]+)</code>", page) == ["C-A-active"]
    assert "longer than 100 characters" in page

"""A collaboration's page, the "To rate" queue, proposals' history, rating's way back."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from lifecycle_support import act, fresh, history, make_collaboration

from webapp.extensions import db
from webapp.models import Collaboration, Outcome

RATING = {
    "success_rating": "4",
    "completion_status": "completed",
    "would_collaborate_again": "yes",
}


def nav_count(page: str) -> int | None:
    """Return the number in the navigation's "To rate" badge (None: no badge)."""
    item = re.search(r'data-nav="to-rate"[^>]*>To rate(.*?)</a>', page, re.S)
    assert item, "no To rate item in the navigation"
    number = re.search(r">(\d+)</span>", item.group(1))
    return int(number.group(1)) if number else None


def queue_ids(page: str) -> list[str]:
    """Return the collaboration ids listed in the To rate table."""
    return re.findall(r"<td><a href=\"/collaborations/([^\"]+)\"><code>", page)


def test_propose_writes_the_first_history_row_and_the_proposer_side(
    client, auth, world
):
    auth.login("creator@example.com")
    client.post(
        "/matches/propose",
        data={"influencer_id": "INF-A", "company_id": "CO-B", "budget": "900"},
    )
    collaboration = db.session.scalar(
        sa.select(Collaboration).where(Collaboration.proposed_by_id.is_not(None))
    )
    assert collaboration.proposer_side == "influencer"
    [row] = history(collaboration.external_id)
    assert (row.from_status, row.status, row.action) == (None, "proposed", "propose")
    assert row.actor_id == world["creator"].id
    # The stored snapshot keeps the top reasons shown on the page.
    factors = collaboration.match_snapshot["factors"]
    assert 1 <= len(factors) <= 5
    assert {"feature", "label", "value", "contribution"} == set(factors[0])
    page = client.get(f"/collaborations/{collaboration.external_id}").get_data(
        as_text=True
    )
    assert "by the influencer" in page
    assert factors[0]["label"] in page
    # The creator proposed, so the brand answers: the creator may only withdraw.
    assert "/withdraw" in page and "/accept" not in page


def test_an_admins_proposal_counts_as_the_brands(client, auth, world):
    auth.login("admin@example.com")
    client.post(
        "/matches/propose",
        data={"influencer_id": "INF-B", "company_id": "CO-A", "budget": "700"},
    )
    collaboration = db.session.scalar(
        sa.select(Collaboration).where(Collaboration.proposed_by_id.is_not(None))
    )
    assert collaboration.proposer_side == "company"
    assert history(collaboration.external_id)[0].actor_id == world["admin"].id


def test_the_page_shows_parties_terms_history_and_both_ratings(client, auth, world):
    collaboration = make_collaboration(world, "proposed")
    auth.login("creator@example.com")
    act(client, collaboration.external_id, "accept")
    auth.logout()
    auth.login("brand@example.com")
    act(client, collaboration.external_id, "start")
    act(client, collaboration.external_id, "complete")
    url = f"/collaborations/{collaboration.external_id}"
    client.post(f"{url}/rate", data=RATING)
    page = client.get(url).get_data(as_text=True)
    assert "@creator_inf-a × Brand CO-A" in page
    assert 'id="budget">$1,200<' in page
    steps = re.findall(
        r"<strong>(\w[\w ]*)</strong>\s*<span class=\"muted small\">\((\w+)\)", page
    )
    assert steps == [
        ("Accepted", "accept"),
        ("Active", "start"),
        ("Completed", "complete"),
    ]
    assert "by @creator_inf-a" in page and "by Brand CO-A" in page
    assert "not proposed through Matchloop" in page
    brand_card = page.split('id="rating-company"')[1].split("</article>")[0]
    creator_card = page.split('id="rating-influencer"')[1].split("</article>")[0]
    assert 'aria-label="4 of 5 stars"' in brand_card
    assert "Not rated yet." in creator_card
    # Members see who acted by side, never the other side's email.
    timeline = page.split('id="history-title"')[1].split("</section>")[0]
    assert "@example.com" not in timeline


def test_admins_see_every_collaboration_with_emails_and_members_only_theirs(
    client, auth, world
):
    collaboration = make_collaboration(world, "proposed")
    auth.login("creator@example.com")
    act(client, collaboration.external_id, "accept")
    auth.logout()
    auth.login("admin@example.com")
    page = client.get(f"/collaborations/{collaboration.external_id}")
    assert page.status_code == 200
    assert "creator@example.com" in page.get_data(as_text=True)
    other = world["collaborations"]["other"].external_id
    assert client.get(f"/collaborations/{other}").status_code == 200
    assert client.get("/collaborations/NOPE").status_code == 404


def test_the_list_links_each_page_and_labels_admin_ratings(client, auth, world):
    auth.login("admin@example.com")
    page = client.get("/collaborations/").get_data(as_text=True)
    assert 'href="/collaborations/C-A-completed"' in page
    assert "<th>Ratings</th>" in page and "Your rating" not in page
    assert "0 of 2 sides rated" in page
    auth.logout()
    auth.login("brand@example.com")
    page = client.get("/collaborations/").get_data(as_text=True)
    assert "<th>Your rating</th>" in page


def test_completing_sends_both_sides_to_their_queue(client, auth, world):
    collaboration = make_collaboration(world, "active")
    auth.login("brand@example.com")
    before = nav_count(client.get("/collaborations/").get_data(as_text=True))
    response = act(client, collaboration.external_id, "complete")
    assert response.location == "/collaborations/to-rate"
    queue = client.get(response.location).get_data(as_text=True)
    assert "is completed. Both sides are asked to rate it" in queue
    assert collaboration.external_id in queue_ids(queue)
    assert nav_count(queue) == (before or 0) + 1
    auth.logout()
    auth.login("creator@example.com")
    listing = client.get("/collaborations/").get_data(as_text=True)
    assert "wait for your rating" in listing or "waits for your rating" in listing
    queue = client.get("/collaborations/to-rate").get_data(as_text=True)
    assert collaboration.external_id in queue_ids(queue)


def test_the_queue_holds_exactly_the_unrated_finished_ones(client, auth, world):
    declined = make_collaboration(world, "proposed")
    auth.login("creator@example.com")
    act(client, declined.external_id, "decline")
    auth.logout()
    auth.login("brand@example.com")
    queue = client.get("/collaborations/to-rate").get_data(as_text=True)
    # World: C-A-completed and C-A-cancelled are finished and unrated.
    assert sorted(queue_ids(queue)) == ["C-A-cancelled", "C-A-completed"]
    assert nav_count(queue) == 2
    client.post("/collaborations/C-A-completed/rate", data=RATING)
    queue = client.get("/collaborations/to-rate").get_data(as_text=True)
    assert queue_ids(queue) == ["C-A-cancelled"]
    assert nav_count(queue) == 1
    # The creator's side has not rated C-A-completed: it stays in their queue.
    auth.logout()
    auth.login("creator@example.com")
    queue = client.get("/collaborations/to-rate").get_data(as_text=True)
    assert sorted(queue_ids(queue)) == ["C-A-cancelled", "C-A-completed"]
    assert declined.external_id not in queue


def test_an_empty_queue_says_so_and_admins_have_none(client, auth, world):
    for external_id in ("C-A-completed", "C-A-cancelled"):
        db.session.add(
            Outcome(
                collaboration=fresh(external_id),
                rater_side="company",
                success_rating=3,
                completion_status="completed",
                would_collaborate_again=False,
            )
        )
    db.session.commit()
    auth.login("brand@example.com")
    page = client.get("/collaborations/to-rate").get_data(as_text=True)
    assert "Nothing to rate" in page
    assert nav_count(page) is None
    auth.logout()
    auth.login("admin@example.com")
    page = client.get("/collaborations/to-rate").get_data(as_text=True)
    assert "Only members who act for a brand or an influencer rate" in page
    assert 'data-nav="to-rate"' not in page


def test_rating_returns_to_the_list_and_filters_it_came_from(client, auth, world):
    auth.login("brand@example.com")
    listing = client.get("/collaborations/?status=completed&q=C-A").get_data(
        as_text=True
    )
    link = re.search(
        r'href="(/collaborations/C-A-completed/rate\?next=[^"]+)"', listing
    )
    assert link, "the list's Rate link carries the way back"
    rate_url = link.group(1).replace("&amp;", "&")
    form = client.get(rate_url).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+/rate[^"]*)"', form).group(1)
    response = client.post(action.replace("&amp;", "&"), data=RATING)
    assert response.status_code == 302
    assert response.location == "/collaborations/?status=completed&q=C-A"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "javascript:alert(1)"]
)
def test_rating_never_returns_off_site(client, auth, world, target):
    auth.login("brand@example.com")
    response = client.post(
        "/collaborations/C-A-completed/rate",
        query_string={"next": target},
        data=RATING,
    )
    assert response.status_code == 302
    assert "evil" not in response.location and "javascript" not in response.location
    page = client.get(
        "/collaborations/C-A-cancelled/rate", query_string={"next": target}
    ).get_data(as_text=True)
    assert target not in page


def test_the_star_control_is_five_labelled_radios(client, auth, world):
    auth.login("brand@example.com")
    page = client.get("/collaborations/C-A-completed/rate").get_data(as_text=True)
    radios = re.findall(r'<input[^>]*name="success_rating"[^>]*>', page)
    assert len(radios) == 5
    assert all('type="radio"' in radio for radio in radios)
    for stars in range(1, 6):
        label = "1 star" if stars == 1 else f"{stars} stars"
        assert f'<span class="visually-hidden">{label}</span>' in page
    assert "<legend>Overall success</legend>" in page

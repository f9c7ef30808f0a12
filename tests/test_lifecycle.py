"""The collaboration lifecycle through the pages: who may do what from which status.

The expected outcomes below are written out by hand from the rules in the
issue, not derived from ``lifecycle.TRANSITIONS``, so a wrong table fails here.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from api_support import sibling_app
from lifecycle_support import act, fresh, history, make_collaboration

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.marketplace import lifecycle
from webapp.models import Collaboration, User

STATUSES = ("proposed", "accepted", "active", "completed", "cancelled")
ACTIONS = ("accept", "decline", "withdraw", "start", "complete", "cancel")
# From which status each role may take each action; absent = forbidden (403).
ALLOWED = {
    "proposer": {
        "withdraw": {"proposed"},
        "start": {"accepted"},
        "complete": {"active"},
        "cancel": {"accepted", "active"},
    },
    "invitee": {
        "accept": {"proposed"},
        "decline": {"proposed"},
        "start": {"accepted"},
        "complete": {"active"},
        "cancel": {"accepted", "active"},
    },
    "admin": {"cancel": {"accepted", "active"}},
}
TARGET = {
    "accept": "accepted",
    "decline": "cancelled",
    "withdraw": "cancelled",
    "start": "active",
    "complete": "completed",
    "cancel": "cancelled",
}


def role_of(email: str, proposer_side: str) -> str:
    """Return the role a world user plays for a collaboration of INF-A and CO-A."""
    if email == "admin@example.com":
        return "admin"
    side = "company" if email == "brand@example.com" else "influencer"
    return "proposer" if side == proposer_side else "invitee"


@pytest.mark.parametrize("proposer_side", ["company", "influencer"])
@pytest.mark.parametrize(
    "email", ["brand@example.com", "creator@example.com", "admin@example.com"]
)
def test_every_action_from_every_status_for_every_party(
    client, auth, world, email, proposer_side
):
    auth.login(email)
    user = User.by_email(email)
    role = role_of(email, proposer_side)
    for status in STATUSES:
        for action in ACTIONS:
            collaboration = make_collaboration(world, status, proposer_side)
            external_id = collaboration.external_id
            response = act(client, external_id, action, note="Plans changed")
            allowed = ALLOWED[role].get(action)
            case = f"{role} {action} from {status}"
            if allowed is None:
                assert response.status_code == 403, case
            elif status not in allowed:
                assert response.status_code == 409, case
                assert "cannot be" in response.get_data(as_text=True), case
            else:
                assert response.status_code == 302, case
            changed = allowed is not None and status in allowed
            after = fresh(external_id)
            rows = history(external_id)
            if not changed:
                assert after.status == status, case
                assert rows == [], case
                continue
            assert after.status == TARGET[action], case
            [row] = rows
            assert (row.from_status, row.status, row.action, row.actor_id) == (
                status,
                TARGET[action],
                action,
                user.id,
            ), case


def test_members_of_neither_side_see_404(client, auth, world):
    collaboration = make_collaboration(world, "proposed")
    auth.login("loner@example.com")
    for action in ACTIONS:
        assert act(client, collaboration.external_id, action).status_code == 404
    assert client.get(f"/collaborations/{collaboration.external_id}").status_code == 404
    auth.logout()
    auth.login("brand@example.com")
    other = world["collaborations"]["other"].external_id
    assert client.get(f"/collaborations/{other}").status_code == 404
    assert act(client, other, "cancel", note="x").status_code == 404
    assert fresh(collaboration.external_id).status == "proposed"


def test_cancel_records_when_and_why(client, auth, world):
    collaboration = make_collaboration(world, "active")
    auth.login("creator@example.com")
    before = utcnow()
    response = act(client, collaboration.external_id, "cancel", note="  Budget cut  ")
    assert response.status_code == 302
    assert response.location == "/collaborations/to-rate"
    after = fresh(collaboration.external_id)
    assert after.status == "cancelled"
    assert after.cancel_reason == "Budget cut"
    assert before <= after.cancelled_at <= utcnow()
    [row] = history(collaboration.external_id)
    assert row.note == "Budget cut"
    assert row.created_at == after.cancelled_at


@pytest.mark.parametrize("note", ["", "   "])
def test_cancel_without_a_reason_is_refused_and_changes_nothing(
    client, auth, world, note
):
    collaboration = make_collaboration(world, "active")
    auth.login("brand@example.com")
    response = act(client, collaboration.external_id, "cancel", note=note)
    assert response.status_code == 422
    assert "Say why the collaboration is cancelled." in response.get_data(as_text=True)
    assert fresh(collaboration.external_id).status == "active"
    assert history(collaboration.external_id) == []


def test_decline_and_withdraw_keep_a_default_reason(client, auth, world):
    declined = make_collaboration(world, "proposed")
    withdrawn = make_collaboration(world, "proposed")
    auth.login("creator@example.com")
    assert act(client, declined.external_id, "decline").status_code == 302
    auth.logout()
    auth.login("brand@example.com")
    assert (
        act(client, withdrawn.external_id, "withdraw", note="Found someone").status_code
        == 302
    )
    assert fresh(declined.external_id).cancel_reason == "Declined"
    assert fresh(withdrawn.external_id).cancel_reason == "Found someone"
    assert fresh(declined.external_id).cancelled_at is not None


def test_complete_records_the_day(client, auth, world):
    today_done = make_collaboration(world, "active")
    earlier = make_collaboration(world, "active")
    auth.login("brand@example.com")
    assert act(client, today_done.external_id, "complete").status_code == 302
    assert fresh(today_done.external_id).completed_on == utcnow().date()
    response = act(client, earlier.external_id, "complete", completed_on="2025-06-30")
    assert response.status_code == 302
    assert fresh(earlier.external_id).completed_on == date(2025, 6, 30)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ((date.today() + timedelta(days=2)).isoformat(), "cannot be in the future"),
        ("2025-04-30", "cannot be before the proposal"),
        ("not-a-day", "Not a valid date value."),
    ],
)
def test_complete_refuses_impossible_days(client, auth, world, day, message):
    collaboration = make_collaboration(world, "active")
    auth.login("brand@example.com")
    response = act(client, collaboration.external_id, "complete", completed_on=day)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(collaboration.external_id).status == "active"
    assert fresh(collaboration.external_id).completed_on is None
    assert history(collaboration.external_id) == []


def test_actions_need_the_csrf_token(app, world):
    collaboration = make_collaboration(world, "proposed")
    with sibling_app(app, WTF_CSRF_ENABLED=True) as protected:
        client = protected.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/auth/login",
            data={
                "email": "creator@example.com",
                "password": "correct-horse-battery",
                "csrf_token": token,
            },
        )
        url = f"/collaborations/{collaboration.external_id}/accept"
        refused = client.post(url)
        assert refused.status_code == 400
        with protected.app_context():
            assert fresh(collaboration.external_id).status == "proposed"
        detail = client.get(f"/collaborations/{collaboration.external_id}")
        form_token = (
            detail.get_data(as_text=True)
            .split(
                'id="accept-csrf_token" name="accept-csrf_token" type="hidden" value="'
            )[1]
            .split('"')[0]
        )
        accepted = client.post(url, data={"accept-csrf_token": form_token})
        assert accepted.status_code == 302
    assert fresh(collaboration.external_id).status == "accepted"


def test_a_stale_page_cannot_apply_a_second_transition(app, world):
    """The conditional UPDATE refuses a move from a status that just changed."""
    collaboration = make_collaboration(world, "proposed")
    creator = User.by_email("creator@example.com")
    stale = db.session.get(Collaboration, collaboration.id)
    assert stale.status == "proposed"
    # Someone else withdraws it through their own connection.
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(Collaboration)
            .where(Collaboration.id == collaboration.id)
            .values(status="cancelled")
        )
    assert stale.status == "proposed"  # this session has not seen it
    with pytest.raises(lifecycle.WrongStatus, match="it is now cancelled"):
        lifecycle.transition(stale, "accept", creator)
    assert fresh(collaboration.external_id).status == "cancelled"
    assert history(collaboration.external_id) == []


def test_simultaneous_transitions_apply_only_once(app, world):
    collaboration = make_collaboration(world, "proposed")
    ids = {
        "accept": User.by_email("creator@example.com").id,
        "decline": User.by_email("creator@example.com").id,
    }
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def attempt(action: str) -> None:
        with app.app_context():
            user = db.session.get(User, ids[action])
            row = db.session.get(Collaboration, collaboration.id)
            barrier.wait()
            try:
                lifecycle.transition(row, action, user)
                results[action] = "applied"
            except lifecycle.WrongStatus:
                results[action] = "refused"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(a,)) for a in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == ["applied", "refused"], results
    [row] = history(collaboration.external_id)
    winner = next(action for action, result in results.items() if result == "applied")
    assert row.action == winner
    assert fresh(collaboration.external_id).status == TARGET[winner]

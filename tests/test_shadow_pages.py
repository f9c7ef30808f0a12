"""Shadow buttons on the model page (admins only, CSRF), the API, rollouts that need a shadow."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from api_support import issue_token
from rollout_support import active_and_candidate, add_version, serve
from sqlalchemy import func, select
from test_auth import csrf_token, login_with_token, sibling_app

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import PredictionLog, Rollout, ShadowPeriod
from webapp.registry.contract import Predictions
from webapp.registry.plugins import installed_types
from webapp.rollouts import evidence, store
from webapp.serving.pair_types import TypedScored
from webapp.serving.routing import ServedVersion
from webapp.shadow import scoring
from webapp.shadow import store as shadow_store

PAGE = "/models/match_success"
START = "/models/match_success/versions/2/shadow/start"
STOP = "/models/match_success/versions/2/shadow/stop"


@pytest.fixture
def versions_and_users(app, make_user):
    """v1 active, v2 candidate (tiny artifacts), an admin and a member."""
    first, second = active_and_candidate()
    make_user("admin@example.com", role="admin")
    make_user("member@example.com")
    return first, second


def open_periods() -> int:
    return db.session.scalar(
        select(func.count()).where(ShadowPeriod.stopped_at.is_(None))
    )


def test_an_admin_starts_and_stops_shadowing_from_the_model_page(
    client, auth, versions_and_users
):
    first, second = versions_and_users
    auth.login("admin@example.com")
    page = client.get(PAGE).get_data(as_text=True)
    assert START in page and "/versions/1/shadow/start" not in page  # v1 is active

    response = client.post(START, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "now shadows serving" in html
    assert 'id="shadow-periods"' in html and STOP in html
    assert open_periods() == 1
    period = db.session.scalar(select(ShadowPeriod))
    assert period.started_by.email == "admin@example.com"

    again = client.post(START, follow_redirects=True).get_data(as_text=True)
    assert "already shadowing" in again and open_periods() == 1

    stopped = client.post(STOP, follow_redirects=True).get_data(as_text=True)
    assert "stopped shadowing" in stopped and open_periods() == 0
    assert client.post(STOP).status_code == 302  # not shadowing: flashed, no 500


def test_members_and_strangers_cannot_start_shadowing(
    app, client, auth, versions_and_users
):
    assert client.post(START).status_code == 302  # to the login page
    auth.login("member@example.com")
    assert client.post(START).status_code == 403
    assert client.post(
        "/models/match_success/versions/99/shadow/start"
    ).status_code in (
        403,
        404,
    )
    assert open_periods() == 0


def test_the_api_is_admin_only_and_says_why_a_start_is_refused(
    app, client, versions_and_users
):
    from webapp.models import User

    admin = issue_token(User.by_email("admin@example.com"))
    member = issue_token(User.by_email("member@example.com"))
    api = "/api/v1" + START

    def post(url, token):
        return client.post(url, headers={"Authorization": f"Bearer {token}"})

    assert post(api, member).status_code == 403
    assert open_periods() == 0
    created = post(api, admin)
    assert created.status_code == 201
    assert created.get_json()["running"] is True
    assert created.get_json()["started_by"] == "admin@example.com"
    add_version(3)
    refused = post("/api/v1/models/match_success/versions/3/shadow/start", admin)
    assert (
        refused.status_code == 409
        and "already shadowing" in refused.get_json()["details"]
    )
    listed = client.get(
        "/api/v1/models/match_success/shadow",
        headers={"Authorization": f"Bearer {admin}"},
    ).get_json()
    assert [p["version"] for p in listed["periods"]] == [2]
    assert post("/api/v1" + STOP, admin).get_json()["running"] is False


def test_the_form_needs_the_pages_csrf_token(app, versions_and_users):
    protected = sibling_app(app, WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    login_with_token(client, "admin@example.com")
    assert client.post(START).status_code == 400
    assert open_periods() == 0
    page = client.get(PAGE).get_data(as_text=True)
    assert client.post(START, data={"csrf_token": csrf_token(page)}).status_code == 302
    db.session.expire_all()
    assert open_periods() == 1
    with protected.app_context():
        db.engine.dispose()


def rollout_needing_shadow(minutes: int) -> Rollout:
    """Return a pending rollout of v2 that needs ``minutes`` of shadow first."""
    return store.create_rollout(
        {
            "model_type": "match_success",
            "candidate_version": 2,
            "steps": [10, 100],
            "shadow_minutes": minutes,
        },
        None,
    )


def test_a_rollout_needing_a_shadow_period_cannot_start_before_it(
    app, versions_and_users
):
    first, second = versions_and_users
    rollout = rollout_needing_shadow(30)
    assert rollout.shadow_minutes == 30
    with pytest.raises(store.WrongStatus, match="shadowed for 30 minutes first"):
        store.start(rollout, None)
    assert db.session.get(Rollout, rollout.id).status == "pending"

    period = shadow_store.start(second, None)
    period.started_at = utcnow() - timedelta(minutes=20)
    db.session.commit()
    shadow_store.stop(second, None)  # 20 minutes so far: not enough
    with pytest.raises(store.WrongStatus, match="it has shadowed 20"):
        store.start(rollout, None)
    again = shadow_store.start(second, None)
    again.started_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    store.start(rollout, None)  # 20 + 11 minutes in all
    assert db.session.get(Rollout, rollout.id).status == "running"


def test_the_rollout_api_answers_409_until_the_candidate_has_shadowed(
    app, client, versions_and_users
):
    from webapp.models import User

    token = issue_token(User.by_email("admin@example.com"))
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post(
        "/api/v1/rollouts",
        json={
            "model_type": "match_success",
            "candidate_version": 2,
            "steps": [10, 100],
            "shadow_minutes": 5,
        },
        headers=headers,
    )
    assert created.status_code == 201 and created.get_json()["shadow_minutes"] == 5
    url = f"/api/v1/rollouts/{created.get_json()['id']}/start"
    refused = client.post(url, headers=headers)
    assert refused.status_code == 409
    assert "shadowed for 5 minutes" in refused.get_json()["details"]["message"]
    bad = client.post(
        "/api/v1/rollouts",
        json={
            "model_type": "match_success",
            "candidate_version": 2,
            "shadow_minutes": -1,
        },
        headers=headers,
    )
    assert bad.status_code == 422


def test_shadow_rows_are_never_rollout_evidence(app, versions_and_users):
    first, second = versions_and_users
    third = add_version(3)
    rollout = store.create_rollout(
        {
            "model_type": "match_success",
            "candidate_version": 2,
            "steps": [10, 100],
            "min_outcomes": 0,
        },
        None,
    )
    store.start(rollout, None)
    at = utcnow() - timedelta(days=3)
    serve(rollout, "candidate", 6, at, success_every=2)
    serve(rollout, "baseline", 6, at, success_every=3, fail=2)
    counts = evidence.request_counts(rollout.id, utcnow())
    rated = evidence.rated_outcomes(rollout)

    period = shadow_store.start(third, None)
    period.watermark = 0
    db.session.commit()
    due = scoring.due_rows(period, 1000)
    assert len(due) == 12  # the fallback rows have no pair
    plugin = installed_types(app).get("match_success")
    scored = TypedScored(
        plugin,
        Predictions(score=np.linspace(0.1, 0.9, len(due)), confidence=None),
        ServedVersion.of(third),
        None,
        None,
    )
    db.session.execute(PredictionLog.__table__.insert(), scoring.entries(scored, due))
    db.session.commit()
    assert (
        db.session.scalar(select(func.count()).where(PredictionLog.source == "shadow"))
        == 12
    )

    assert evidence.request_counts(rollout.id, utcnow()) == counts
    assert evidence.rated_outcomes(rollout) == rated

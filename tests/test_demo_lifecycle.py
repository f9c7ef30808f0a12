"""The demo world's status histories and the demo logins built on top of it."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
import sqlalchemy as sa

from webapp.core.timeutil import start_of, utcnow
from webapp.extensions import db
from webapp.marketplace import accounts, demo, lifecycle, to_rate
from webapp.models import Collaboration, Outcome, StatusChange, User

PATHS = {
    "proposed": ["propose"],
    "accepted": ["propose", "accept"],
    "active": ["propose", "accept", "start"],
    "completed": ["propose", "accept", "start", "complete"],
}
CANCELLED_PATHS = (
    ["propose", "accept", "cancel"],
    ["propose", "accept", "start", "cancel"],
)
LOGIN = re.compile(r"^\s+(admin|brand|creator):\s+(\S+@\S+) / (\S+)", re.M)


@pytest.fixture
def seeded(app):
    """Seed a small world; return the moment it ends."""
    now = utcnow()
    demo.seed_world(
        n_influencers=200, n_companies=40, n_collaborations=800, seed=5, now=now
    )
    return now


def test_every_seeded_collaboration_has_a_plausible_history(seeded):
    now = seeded
    steps = defaultdict(list)
    for change in db.session.scalars(sa.select(StatusChange).order_by(StatusChange.id)):
        steps[change.collaboration_id].append(change)
    ends = {}
    collaborations = db.session.scalars(sa.select(Collaboration)).unique().all()
    assert len(steps) == len(collaborations) == 800
    seen_paths = set()
    for c in collaborations:
        rows = steps[c.id]
        actions = [row.action for row in rows]
        seen_paths.add(tuple(actions))
        if c.status == "cancelled":
            assert actions in CANCELLED_PATHS
            assert c.cancelled_at == rows[-1].created_at
            assert c.cancel_reason and rows[-1].note == c.cancel_reason
        else:
            assert actions == PATHS[c.status]
            assert c.cancelled_at is None and c.cancel_reason is None
        if c.status == "completed":
            assert rows[-1].created_at == start_of(c.completed_on)
        assert rows[0].created_at == start_of(c.proposed_on)
        assert [row.from_status for row in rows] == [None] + [
            row.status for row in rows[:-1]
        ]
        assert rows[-1].status == c.status
        times = [row.created_at for row in rows]
        assert times == sorted(times) and times[-1] <= now
        assert all(row.actor_id is None for row in rows)
        ends[c.id] = rows[-1].created_at
    # Both kinds of cancellation and every running status occur.
    assert {tuple(p) for p in CANCELLED_PATHS} <= seen_paths
    assert {tuple(p) for p in PATHS.values()} <= seen_paths
    # Nobody rated a collaboration before it ended.
    for outcome in db.session.scalars(sa.select(Outcome)):
        assert outcome.rated_at >= ends[outcome.collaboration_id]


def test_demo_users_get_something_to_do(seeded, client, auth):
    lines = accounts.ensure_demo_users()
    logins = LOGIN.findall("\n".join(lines))
    assert [role for role, _, _ in logins] == ["admin", "brand", "creator"]
    assert (logins[1][1], logins[1][2]) == ("brand@matchloop.test", "brand-demo-pass")
    brand = User.by_email("brand@matchloop.test")
    creator = User.by_email("creator@matchloop.test")
    assert brand.company is not None and creator.influencer is not None
    assert to_rate.count_awaiting(brand) > 0
    assert to_rate.count_awaiting(creator) > 0
    proposals = db.session.scalars(
        sa.select(Collaboration).where(
            Collaboration.influencer_id == creator.influencer_id,
            Collaboration.status == "proposed",
        )
    ).all()
    assert any(
        lifecycle.may_take(creator, proposal, "accept") for proposal in proposals
    )
    # Run twice (make run always does): nothing new, the same lines.
    assert accounts.ensure_demo_users() == lines
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3
    for _, email, password in logins:
        assert auth.login(email, password).status_code == 302
        auth.logout()


def test_demo_users_on_an_empty_marketplace_say_why_members_are_missing(app):
    lines = accounts.ensure_demo_users()
    assert [role for role, _, _ in LOGIN.findall("\n".join(lines))] == ["admin"]
    assert any("demo brand not created" in line for line in lines)
    assert any("demo creator not created" in line for line in lines)

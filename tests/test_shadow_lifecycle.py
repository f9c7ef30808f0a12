"""A shadow period ends, recorded with its reason, when its version serves or is retired."""

from __future__ import annotations

import pytest
from conftest import make_company, make_influencer
from rollout_support import TYPE, active_and_candidate, add_version
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import AuditEntry, PredictionLog, ShadowPeriod
from webapp.registry import versions as registry
from webapp.rollouts import store as rollouts
from webapp.shadow import scoring
from webapp.shadow import store as shadow


@pytest.fixture
def shadowing(app, make_user):
    """v1 active, v2 a candidate shadowing it (started by an admin)."""
    admin = make_user("admin@example.com", role="admin")
    first, second = active_and_candidate()
    shadow.start(second, admin)
    return first, second, admin


def stop_entries() -> list[AuditEntry]:
    """Return the audit rows of shadow periods that ended, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "shadow.stop")
            .order_by(AuditEntry.id)
        )
    )


def the_period(version) -> ShadowPeriod:
    db.session.expire_all()
    return db.session.scalars(
        select(ShadowPeriod).where(ShadowPeriod.version_id == version.id)
    ).one()


def test_promoting_a_shadowing_version_ends_its_period(shadowing):
    _, second, admin = shadowing
    registry.promote(second, admin, note="ship it", confirm_worse=True)
    period = the_period(second)
    assert not period.running and period.stopped_by_id == admin.id
    [entry] = stop_entries()
    assert entry.target_id == str(second.id) and entry.actor == "admin@example.com"
    assert entry.details["reason"] == f"{second.label} became active (promote)"
    assert entry.details["period"] == period.id
    # The type's one shadow slot is free again for the next candidate.
    third = add_version(3)
    assert shadow.start(third, admin).running


def test_a_promoted_version_scores_none_of_its_own_requests(shadowing):
    _, second, admin = shadowing
    registry.promote(second, admin, confirm_worse=True)
    influencer, company = make_influencer("I-own"), make_company("C-own")
    db.session.add_all([influencer, company])
    db.session.flush()
    db.session.add(
        PredictionLog(
            model_type=TYPE,
            version_id=second.id,
            fallback=False,
            subject=company.external_id,
            influencer_id=influencer.id,
            company_id=company.id,
            score=0.5,
        )
    )
    db.session.commit()
    assert scoring.open_period_ids() == []
    assert scoring.run_pass(the_period(second).id) == 0
    assert (
        db.session.scalar(
            select(func.count()).where(PredictionLog.shadow_of_id.is_not(None))
        )
        == 0
    )


def test_a_rollout_completing_ends_the_candidates_period(shadowing):
    _, second, admin = shadowing
    rollout = rollouts.create_rollout(
        {"model_type": TYPE, "candidate_version": 2, "steps": [50, 100]}, admin
    )
    rollouts.start(rollout, admin)
    rollouts.advance(rollout, admin)
    assert rollout.status == "completed" and second.status == "active"
    assert not the_period(second).running
    [entry] = stop_entries()
    assert entry.details["reason"] == f"{second.label} became active (promote)"


def test_a_rollout_rolled_back_ends_the_candidates_period(shadowing):
    _, second, admin = shadowing
    rollout = rollouts.create_rollout(
        {"model_type": TYPE, "candidate_version": 2, "steps": [50, 100]}, admin
    )
    rollouts.start(rollout, admin)
    rollouts.rollback(rollout, admin, "guardrail breached")
    assert second.status == "archived"
    assert not the_period(second).running
    [entry] = stop_entries()
    assert entry.details["reason"].startswith(
        f"{second.label} was archived: rolled back"
    )


def test_archiving_ends_the_period_and_a_failed_archive_keeps_it(shadowing):
    first, second, admin = shadowing
    with pytest.raises(registry.RegistryActionError):
        registry.archive(first, admin)  # the active one cannot be archived
    assert the_period(second).running and stop_entries() == []
    registry.archive(second, admin, note="not needed")
    assert not the_period(second).running
    assert stop_entries()[0].details["reason"] == (
        f"{second.label} was archived: not needed"
    )


def test_a_registry_rollback_to_a_shadowing_version_ends_its_period(app, make_user):
    admin = make_user("admin@example.com", role="admin")
    first, second = active_and_candidate()
    registry.promote(second, admin, confirm_worse=True)  # v1 is archived now
    shadow.start(first, admin)  # the old version shadows its successor
    registry.rollback(TYPE, admin)
    assert first.status == "active"
    assert not the_period(first).running
    assert stop_entries()[0].details["reason"] == (
        f"{first.label} became active (rollback)"
    )


def test_promoting_another_version_leaves_the_shadow_running(shadowing):
    _, second, admin = shadowing
    third = add_version(3)
    registry.promote(third, admin, confirm_worse=True)
    assert the_period(second).running and stop_entries() == []


def test_starting_and_stopping_by_hand_is_audited(shadowing):
    _, second, admin = shadowing
    shadow.stop(second, admin)
    started = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "shadow.start")
    ).one()
    assert started.target_id == str(second.id)
    assert stop_entries()[0].details["reason"] == "stopped by hand"

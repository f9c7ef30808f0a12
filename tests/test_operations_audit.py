"""The audit log: every admin action family leaves a row; the page and API filter it."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pytest
from api_support import issue_token
from conftest import PROJECT_ROOT
from rollout_support import TYPE, active_and_candidate, add_version

from webapp.experiments import store as experiment_store
from webapp.extensions import db
from webapp.marketplace.importer import KINDS
from webapp.models import AuditEntry
from webapp.operations import audit
from webapp.registry import versions as registry

SAMPLES = PROJECT_ROOT / "tests" / "data" / "csv"


def entries(action: str | None = None) -> list[AuditEntry]:
    """Return the audit rows (of ``action``), oldest first, read fresh."""
    db.session.expire_all()
    query = db.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def test_registry_actions_are_audited(app, world):
    admin = world["admin"]
    first, second = active_and_candidate()
    registry.promote(second, admin, "better", confirm_worse=True)
    registry.rollback(TYPE, admin)
    third = add_version(3)
    registry.archive(third, admin, "not needed")
    promotes = entries("model.promote")
    assert [e.actor for e in promotes] == ["system", "admin@example.com"]
    assert promotes[1].target_id == str(second.id)
    assert promotes[1].details["note"] == "better"
    (back,) = entries("model.rollback")
    assert back.target_id == str(first.id) and back.details["rolled_back"].endswith(
        "v2"
    )
    (archived,) = entries("model.archive")
    assert archived.target_id == str(third.id) and archived.actor_id == admin.id


def test_a_refused_promotion_leaves_no_audit_row(app, world):
    first, second = active_and_candidate()
    before = len(entries())
    with pytest.raises(registry.RegistryActionError):
        registry.promote(first, world["admin"])  # already active
    assert len(entries()) == before


def test_experiment_changes_are_audited(app, world):
    from test_experiments_store import setup

    admin = world["admin"]
    experiment = experiment_store.create_experiment(setup(), admin)
    experiment_store.change_running(
        experiment,
        {
            "variants": [
                {"key": "control", "weight": 0.6},
                {"key": "treatment", "weight": 0.4},
            ]
        },
        admin,
    )
    experiment_store.start(experiment, admin)
    experiment_store.stop(experiment, admin)
    experiment_store.conclude(experiment, admin)
    found = entries()
    assert [e.action for e in found] == [
        "experiment.create",
        "experiment.edit",
        "experiment.start",
        "experiment.stop",
        "experiment.conclude",
    ]
    assert {e.target_id for e in found} == {"ranker-test"}
    assert found[1].details["changes"]["weights"][1] == {
        "control": 0.6,
        "treatment": 0.4,
    }


def test_rollout_changes_by_hand_are_audited_not_the_jobs_holds(client, world):
    active_and_candidate()
    token = issue_token(world["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post(
        "/api/v1/rollouts",
        json={"model_type": TYPE, "candidate_version": 2},
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    rollout_id = created.get_json()["id"]
    for action in ("start", "pause", "resume", "advance", "rollback"):
        answer = client.post(f"/api/v1/rollouts/{rollout_id}/{action}", headers=headers)
        assert answer.status_code == 200, answer.get_json()
    rollout_rows = [e for e in entries() if e.target_type == "rollout"]
    assert [e.action for e in rollout_rows] == [
        *("rollout.create", "rollout.start", "rollout.pause"),
        *("rollout.resume", "rollout.advance", "rollout.rollback"),
    ]
    assert {e.actor for e in rollout_rows} == {"admin@example.com"}
    assert (
        rollout_rows[4].details["from"] == 1.0 and rollout_rows[4].details["to"] == 5.0
    )
    # The rollback archived the candidate through the registry: audited too.
    assert entries("model.archive")[0].actor == "admin@example.com"


def test_token_creation_and_revocation_are_audited(runner, world):
    created = runner.invoke(args=["create-token", "brand@example.com", "--name", "ci"])
    assert created.exit_code == 0, created.output
    (row,) = entries("token.create")
    assert row.actor == "cli" and row.details["user"] == "brand@example.com"
    assert row.details["name"] == "ci" and created.output.strip() not in str(
        row.details
    )
    revoked = runner.invoke(args=["revoke-token", row.target_id])
    assert revoked.exit_code == 0, revoked.output
    (gone,) = entries("token.revoke")
    assert gone.target_id == row.target_id


def test_a_successful_import_is_audited_a_refused_one_not(runner, app, tmp_path):
    args = ["import-csv"]
    for kind in KINDS:
        shutil.copy(SAMPLES / f"{kind}.csv", tmp_path / f"{kind}.csv")
        args += [f"--{kind.replace('_', '-')}", str(tmp_path / f"{kind}.csv")]
    assert runner.invoke(args=args).exit_code == 0
    (row,) = entries("import.csv")
    assert row.details["files"]["influencers"] == "influencers.csv"
    assert row.details["counts"]["influencers"].startswith("4 created")
    (tmp_path / "companies.csv").write_text("external_id\nbad,\n")
    assert runner.invoke(args=args).exit_code != 0
    assert len(entries("import.csv")) == 1


@pytest.fixture
def log(app, world):
    """Twelve audit rows over three days by two actors."""
    now = datetime(2026, 3, 10, 12)
    for index in range(12):
        entry = audit.record(
            "model.promote" if index % 2 else "token.create",
            "model_version",
            index,
            world["admin"] if index % 3 else None,
            {"n": index},
            via="cli",
        )
        entry.created_at = now - timedelta(days=index // 4)
    db.session.commit()
    return now


def test_audit_page_filters_and_paginates(client, auth, log):
    auth.login("admin@example.com")
    page = client.get("/operations/audit").get_data(as_text=True)
    assert page.count('id="audit-') == 10 and "page 1 of 2" in page
    second = client.get("/operations/audit?page=2").get_data(as_text=True)
    assert second.count('id="audit-') == 2
    promotes = client.get("/operations/audit?action=model.promote").get_data(
        as_text=True
    )
    assert promotes.count('id="audit-') == 6 and "token.create</code>" not in promotes
    cli = client.get("/operations/audit?actor=cli").get_data(as_text=True)
    assert cli.count('id="audit-') == 4
    day = client.get("/operations/audit?since=2026-03-09&until=2026-03-09")
    assert day.get_data(as_text=True).count('id="audit-') == 4
    none = client.get("/operations/audit?since=2030-01-01").get_data(as_text=True)
    assert "No admin action matches these filters" in none
    bad = client.get(
        "/operations/audit?until=2026-03-01&since=2026-03-09&page=99999999999999999999"
    )
    assert bad.status_code == 200 and "Must be on or after" in bad.get_data(
        as_text=True
    )


def test_audit_page_empty_state(client, auth, world):
    auth.login("admin@example.com")
    page = client.get("/operations/audit").get_data(as_text=True)
    assert "No admin action has been recorded yet" in page


def test_audit_api_filters_and_pages(api, log, world):
    token = issue_token(world["admin"])
    body = api.call(
        "GET", "/audit?action=model.promote&page=1", 200, token=token
    ).get_json()
    assert body["total"] == 6 and body["pages"] == 1
    assert all(e["action"] == "model.promote" for e in body["entries"])
    assert body["entries"][0]["created_at"] >= body["entries"][-1]["created_at"]
    body = api.call(
        "GET", "/audit?actor=ADMIN@example.com&since=2026-03-09", 200, token=token
    ).get_json()
    assert body["total"] == 5  # indices 1, 2, 4, 5, 7
    assert api.call("GET", "/audit?page=2", 200, token=token).get_json()["entries"]
    member = issue_token(world["brand"])
    api.call("GET", "/audit", 403, token=member)
    api.call("GET", "/audit", 401)


@pytest.mark.parametrize(
    "query",
    [
        "action=nope",
        "page=99999999999999999999",
        "page=0",
        "page=abc",
        "since=2026-13-01",
        "since=20260101",
        "until=9999-12-31",
        "since=0001-01-01",
        "until=2026-01-01&since=2026-02-01",
        "actor=" + "x" * 300,
        "actor=",
        "since=%ED%A0%80",
        "action=%ED%A0%80",
        "actor=%00",
        "since=%00",
    ],
)
def test_audit_api_hostile_filters_are_4xx_with_details(client, world, query):
    token = issue_token(world["admin"])
    answer = client.get(
        f"/api/v1/audit?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code in (400, 422), (query, answer.status_code)
    body = answer.get_json()
    assert body["error"] and body["details"]

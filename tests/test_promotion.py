"""Promoting a worse version asks first (without JavaScript); rollback offers the right one."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import joblib
import pytest
from flask import current_app

from webapp.extensions import db
from webapp.models import Deployment, ModelVersion, User
from webapp.registry import versions

TYPE = "match_success"


def add_version(number: int, roc_auc: float | None) -> ModelVersion:
    """Store a version with a real (tiny) verified artifact and the given ROC AUC.

    The artifact unpickles (a promotion preloads it in the promoting process).
    """
    buffer = io.BytesIO()
    joblib.dump(f"artifact {number}", buffer)
    data = buffer.getvalue()
    relative = f"{TYPE}/v{number}.joblib"
    path = Path(current_app.config["MODEL_DIR"]) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    version = ModelVersion(
        model_type=TYPE,
        version=number,
        algorithm="logistic_regression",
        metrics={} if roc_auc is None else {"roc_auc": roc_auc},
        artifact_path=relative,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
    )
    db.session.add(version)
    db.session.commit()
    return version


@pytest.fixture
def admin(client, auth, make_user):
    make_user("admin@example.com", role="admin")
    auth.login("admin@example.com")
    return client


@pytest.fixture
def active_v1(app, admin):
    """v1 active (ROC AUC 0.700) through a real promotion."""
    first = add_version(1, 0.7)
    versions.promote(first, None, "start")
    return first


def deployments() -> list[Deployment]:
    return list(db.session.scalars(db.select(Deployment).order_by(Deployment.id)))


def page_of(client) -> str:
    return client.get(f"/models/{TYPE}").get_data(as_text=True)


def row(page: str, number: int) -> str:
    return re.search(rf'<tr id="version-{number}".*?</tr>', page, re.S).group(0)


WORSE = (
    "match_success v2 has a worse held-out ROC AUC (0.650) than the active v1 (0.700)."
)


def test_a_worse_version_is_marked_and_its_button_asks_the_server(admin, active_v1):
    add_version(2, 0.65)
    add_version(3, 0.71)
    page = page_of(admin)
    worse, better = row(page, 2), row(page, 3)
    assert "worse than v1" in worse
    assert "data-confirm" not in worse, "the server asks, so it works without JS"
    assert 'aria-label="Promote… v2"' in worse
    assert "worse than v1" not in better and "data-confirm" in better
    assert 'name="note"' in worse and 'name="note"' in better


def test_promoting_a_worse_version_without_confirming_changes_nothing(admin, active_v1):
    add_version(2, 0.65)
    before = len(deployments())
    response = admin.post(
        f"/models/{TYPE}/versions/2/promote", data={"note": "try the new features"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    box = re.search(r'<article id="confirm-promote".*?</article>', page, re.S).group(0)
    assert WORSE in box
    assert 'name="confirm"' in box and 'aria-invalid="true"' in box
    assert 'value="try the new features"' in box, "the note is kept"
    assert "Keep v1 active" in box
    db.session.expire_all()
    assert versions.active_version(TYPE).version == 1
    assert len(deployments()) == before


def test_confirming_promotes_the_worse_version_with_its_note(admin, active_v1):
    add_version(2, 0.65)
    response = admin.post(
        f"/models/{TYPE}/versions/2/promote",
        data={"confirm": "y", "note": "newer data matters more"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert versions.active_version(TYPE).version == 2
    last = deployments()[-1]
    assert (last.action, last.note) == ("promote", "newer data matters more")
    assert last.actor_id == User.by_email("admin@example.com").id


def test_a_better_or_unscored_version_needs_no_confirmation(admin, active_v1):
    add_version(2, 0.75)
    add_version(3, None)
    assert admin.post(f"/models/{TYPE}/versions/2/promote").status_code == 302
    assert versions.active_version(TYPE).version == 2
    assert admin.post(f"/models/{TYPE}/versions/3/promote").status_code == 302
    assert versions.active_version(TYPE).version == 3


def test_the_registry_itself_refuses_an_unconfirmed_worse_promotion(active_v1):
    worse = add_version(2, 0.65)
    with pytest.raises(versions.ConfirmationNeeded, match="worse held-out ROC AUC"):
        versions.promote(worse, None)
    assert versions.active_version(TYPE).version == 1
    versions.promote(worse, None, confirm_worse=True)
    assert versions.active_version(TYPE).version == 2


def test_roll_back_offers_the_version_before_never_the_one_rolled_back_from(
    admin, active_v1
):
    add_version(2, 0.71)
    add_version(3, 0.72)
    admin.post(f"/models/{TYPE}/versions/2/promote")
    admin.post(f"/models/{TYPE}/versions/3/promote")
    assert "Roll back to v2" in page_of(admin)

    admin.post(f"/models/{TYPE}/rollback")
    db.session.expire_all()
    assert versions.active_version(TYPE).version == 2
    page = page_of(admin)
    assert "Roll back to v1" in page, "v2 was promoted over v1"
    assert "Roll back to v3" not in page, "v3 is what was just rolled back from"
    assert versions.rollback_target(TYPE).version == 1

    admin.post(f"/models/{TYPE}/rollback")
    db.session.expire_all()
    assert versions.active_version(TYPE).version == 1
    # v1 went live by promotion from nothing: there is nothing before it.
    assert "Roll back to" not in page_of(admin)

"""The admin's model pages: installed types, versions side by side, promote, roll back."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from test_auth import csrf_token, login_with_token, sibling_app
from training_helpers import seed_small_world, train_version
from wtforms import DecimalField, Form, IntegerField
from wtforms.validators import NumberRange

from webapp.extensions import db
from webapp.model_types import ModelType, installed_types
from webapp.models import Deployment, ModelVersion, TrainingRun, User
from webapp.registry import versions


@pytest.fixture
def admin(client, auth, make_user):
    make_user("admin@example.com", role="admin")
    auth.login("admin@example.com")
    return client


@pytest.fixture
def two_versions(app, admin):
    """A seeded world with v1 (active, first) and v2 (candidate) of match_success."""
    seed_small_world()
    first = train_version()
    second = train_version()
    assert (first.status, second.status) == ("active", "candidate")
    return first, second


def chart(page: str, canvas_id: str, attribute: str):
    """Return the JSON a chart is drawn from."""
    match = re.search(rf'id="{canvas_id}"[^>]*?{attribute}="([^"]*)"', page, re.S)
    assert match, f"no {canvas_id} with {attribute} on the page"
    return json.loads(html.unescape(match.group(1)))


def row(page: str, number: int) -> str:
    """Return the HTML of the versions-table row of version ``number``."""
    match = re.search(rf'<tr id="version-{number}".*?</tr>', page, re.S)
    assert match, f"no row for v{number}"
    return match.group(0)


def deployments() -> list[Deployment]:
    return list(db.session.scalars(db.select(Deployment).order_by(Deployment.id)))


class SpamScore(ModelType):
    """A model type from another package (only registered, never trained)."""

    name = "spam_score"
    title = "Spam score"
    description = "How likely a profile is spam."

    class params_form(Form):  # noqa: N801 - the contract's attribute name
        depth = IntegerField("Tree depth", default=3, validators=[NumberRange(1, 9)])
        threshold = DecimalField("Threshold", default=0.5, places=None)


# -- the index -------------------------------------------------------------------


def test_index_lists_every_installed_type_with_a_train_button(app, admin):
    installed_types(app).add(SpamScore())
    page = admin.get("/models/").get_data(as_text=True)
    for name in ("match_success", "spam_score", "trend"):
        assert f'id="type-{name}"' in page
        assert f'href="/runs/new?type={name}"' in page
    assert "How likely a profile is spam." in page
    assert page.count("never trained") == len(installed_types(app))


def test_a_third_party_type_gets_pages_and_its_own_train_form(app, admin):
    installed_types(app).add(SpamScore())
    detail = admin.get("/models/spam_score")
    assert detail.status_code == 200
    assert "No versions of spam_score yet." in detail.get_data(as_text=True)
    form = admin.get("/runs/new?type=spam_score").get_data(as_text=True)
    assert "Tree depth" in form
    assert 'name="params-depth"' in form


def test_a_third_party_type_can_be_trained_from_its_form(app, admin, redis):
    installed_types(app).add(SpamScore())
    bad = admin.post("/runs/new?type=spam_score", data={"params-depth": "12"})
    assert bad.status_code == 422
    response = admin.post(
        "/runs/new?type=spam_score",
        data={"params-depth": "4", "params-threshold": "0.25"},
    )
    assert response.status_code == 302
    [run] = db.session.scalars(db.select(TrainingRun)).all()
    assert (run.model_type, run.params) == (
        "spam_score",
        {"depth": 4, "threshold": 0.25},
    )
    assert run.job_id == f"train-run-{run.id}"


def test_promote_needs_the_pages_csrf_token(app, two_versions):
    protected = sibling_app(app, WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    login_with_token(client, "admin@example.com")
    assert client.post("/models/match_success/versions/2/promote").status_code == 400
    assert versions.active_version("match_success").version == 1
    page = client.get("/models/match_success").get_data(as_text=True)
    response = client.post(
        "/models/match_success/versions/2/promote",
        data={"csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert versions.active_version("match_success").version == 2
    with protected.app_context():
        db.engine.dispose()


def test_unknown_type_is_a_404(admin):
    assert admin.get("/models/no_such_type").status_code == 404
    response = admin.post("/models/no_such_type/versions/1/promote")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/models/"),
        ("GET", "/models/match_success"),
        ("POST", "/models/match_success/versions/1/promote"),
        ("POST", "/models/match_success/rollback"),
    ],
)
def test_members_get_403(client, auth, world, method, url):
    for email in ("brand@example.com", "creator@example.com"):
        auth.login(email)
        assert client.open(url, method=method).status_code == 403
        auth.logout()


def test_nav_shows_models_and_runs_to_admins_only(client, auth, world):
    auth.login("admin@example.com")
    nav = client.get("/collaborations/").get_data(as_text=True)
    for label in ("Outcomes", "Collaborations", "Find matches", "Models", "Runs"):
        assert f">{label}</a>" in nav
    auth.logout()
    auth.login("brand@example.com")
    nav = client.get("/collaborations/").get_data(as_text=True)
    assert ">Models</a>" not in nav and ">Runs</a>" not in nav
    assert ">Find influencers</a>" in nav and ">My collaborations</a>" in nav
    auth.logout()
    auth.login("creator@example.com")
    nav = client.get("/collaborations/").get_data(as_text=True)
    assert ">Find brands</a>" in nav and ">Find influencers</a>" not in nav


# -- versions side by side ----------------------------------------------------


def test_versions_are_compared_side_by_side_with_their_charts(admin, two_versions):
    first, second = two_versions
    page = admin.get("/models/match_success").get_data(as_text=True)
    for version in (first, second):
        cells = row(page, version.version)
        for key in ("roc_auc", "pr_auc", "brier", "log_loss", "accuracy", "ece"):
            assert f"{version.metrics[key]:.3f}" in cells, key
        assert f"{version.sample_count:,}" in cells
        assert version.data_start.isoformat() in cells
    assert "badge-active" in row(page, 1) and "badge-candidate" in row(page, 2)
    assert "Promote" in row(page, 2) and "Promote" not in row(page, 1)

    # By default the active version and the newest candidate are compared.
    roc = chart(page, "roc-chart", "data-datasets")
    assert [d["label"] for d in roc] == ["v2 (candidate)", "v1 (active)"]
    curve = second.metrics["curves"]["roc"]
    assert [p["x"] for p in roc[0]["data"]] == curve["fpr"]
    assert [p["y"] for p in roc[0]["data"]] == curve["tpr"]
    calibration = chart(page, "calibration-chart", "data-datasets")
    assert [p["x"] for p in calibration[1]["data"]] == (
        first.metrics["curves"]["calibration"]["predicted"]
    )
    # Feature importance and model selection of the focused (newest compared) version.
    top = max(second.metrics["importance"], key=lambda r: r["mean"])
    scores = chart(page, "importance-chart", "data-scores")
    assert scores[0] == round(top["mean"], 4)
    assert scores == sorted(scores, reverse=True)
    # Every feature's importance is listed, not only the charted top ones.
    table = page[page.index('id="importance-table"') :]
    for shown in second.metrics["importance"]:
        assert f'title="{shown["feature"]}"' in table
    assert f"({len(second.metrics['importance'])} features)" in table
    assert "v2 in detail" in page
    assert "logistic_regression" in page and "chosen" in page
    fold = second.metrics["candidates"]["logistic_regression"]["fold_roc_auc"]
    assert " · ".join(f"{s:.3f}" for s in fold) in page
    assert html.escape(second.metrics["selection"]["reason"]) in page
    # How reasons are computed, and each candidate's measured serving cost.
    assert html.escape(second.metrics["explanations"]["note"]) in page
    timed = bool(second.metrics["selection"].get("serving_ms"))
    assert ("Serving ms / 1,000 rows" in page) == timed


def test_the_chosen_hyperparameters_are_shown(app, admin):
    seed_small_world()
    version = train_version({"algorithm": "gradient_boosting", "n_splits": 3})
    page = admin.get("/models/match_success").get_data(as_text=True)
    shown = re.search(r'class="small hyperparameters">(.*?)</dd>', page, re.S)
    assert shown, "no hyperparameters on the model page"
    chosen = version.metrics["hyperparameters"]
    for key in ("learning_rate", "max_iter", "max_leaf_nodes", "l2_regularization"):
        assert f"{key} {chosen[key]}" in shown.group(1)
    tuning = version.metrics["boosting"]["served"]
    # The small world either tunes on a tail or says why it could not.
    assert ("time-ordered tail" if tuning["tuned"] else "untuned") in shown.group(1)


def test_ticked_versions_and_focus_come_from_the_query(admin, two_versions):
    page = admin.get("/models/match_success?compare=1").get_data(as_text=True)
    assert [d["label"] for d in chart(page, "roc-chart", "data-datasets")] == [
        "v1 (active)"
    ]
    assert "v1 in detail" in page
    both = admin.get("/models/match_success?compare=1&compare=2&focus=1")
    page = both.get_data(as_text=True)
    assert len(chart(page, "roc-chart", "data-datasets")) == 2
    assert "v1 in detail" in page
    # The focus links keep both ticked versions.
    link = re.search(r'href="([^"]*focus=2[^"]*)"', page).group(1)
    assert "compare=1" in link and "compare=2" in link


# -- promote and roll back ----------------------------------------------------


def test_promote_then_roll_back_changes_the_active_version(admin, two_versions):
    first, second = two_versions
    user = User.by_email("admin@example.com")
    response = admin.post(
        "/models/match_success/versions/2/promote", data={"note": "better AUC"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert versions.active_version("match_success").id == second.id
    assert db.session.get(ModelVersion, first.id).status == "archived"
    promoted = deployments()[-1]
    assert (promoted.action, promoted.actor_id, promoted.note) == (
        "promote",
        user.id,
        "better AUC",
    )
    assert (promoted.from_version_id, promoted.to_version_id) == (first.id, second.id)
    page = admin.get(response.location).get_data(as_text=True)
    assert "match_success v2 is now active (was v1)." in page
    assert "Roll back to v1" in page
    history = page.split('id="deployments"')[1]
    assert "v1 → v2" in history and "admin@example.com" in history
    assert "better AUC" in history

    response = admin.post("/models/match_success/rollback")
    db.session.expire_all()
    assert versions.active_version("match_success").id == first.id
    rolled = deployments()[-1]
    assert (rolled.action, rolled.from_version_id, rolled.to_version_id) == (
        "rollback",
        second.id,
        first.id,
    )
    page = admin.get(response.location).get_data(as_text=True)
    assert "Rolled back: match_success v1 is now active (was v2)." in page
    assert len(deployments()) == 3  # first, promote, rollback


def test_refused_actions_flash_a_warning_and_change_nothing(admin, two_versions):
    before = len(deployments())
    again = admin.post("/models/match_success/versions/1/promote")
    assert again.status_code == 302
    assert "match_success v1 is already active." in admin.get(again.location).get_data(
        as_text=True
    )
    # v1 was the first version: there is nothing to roll back to.
    page = admin.get("/models/match_success").get_data(as_text=True)
    assert "Roll back" not in page
    response = admin.post("/models/match_success/rollback")
    assert response.status_code == 302
    page = admin.get(response.location).get_data(as_text=True)
    assert "has no previous version to roll back to." in page
    assert "flash-warning" in page
    assert len(deployments()) == before
    assert versions.active_version("match_success").version == 1
    assert admin.post("/models/match_success/versions/9/promote").status_code == 404


def damage(app, version) -> None:
    """Alter a stored artifact and record it, as serving does when it refuses one."""
    path = Path(app.config["MODEL_DIR"]) / version.artifact_path
    path.write_bytes(path.read_bytes() + b"tampered")
    version.artifact_error = f"artifact {version.artifact_path} was altered"
    db.session.commit()


def test_artifact_error_is_shown_and_blocks_promotion(app, admin, two_versions):
    _, second = two_versions
    damage(app, second)
    page = admin.get("/models/match_success").get_data(as_text=True)
    warning = re.search(r'id="artifact-error-v2".*?</div>', page, re.S).group(0)
    assert f"artifact {second.artifact_path} was altered" in warning
    assert "artifact problem" in row(page, 2)
    assert "Promote" not in row(page, 2)
    response = admin.post("/models/match_success/versions/2/promote")
    page = admin.get(response.location).get_data(as_text=True)
    assert "cannot be promoted" in page
    assert versions.active_version("match_success").version == 1


def test_no_rollback_to_a_version_whose_artifact_is_broken(app, admin, two_versions):
    first, _ = two_versions
    admin.post("/models/match_success/versions/2/promote")
    damage(app, first)
    page = admin.get("/models/match_success").get_data(as_text=True)
    assert "Roll back to v1" not in page
    response = admin.post("/models/match_success/rollback")
    page = admin.get(response.location).get_data(as_text=True)
    assert "match_success v1 cannot be reactivated" in page
    assert versions.active_version("match_success").version == 2


def test_deployment_history_is_paginated(app, admin, two_versions):
    # PER_PAGE is 10 in tests: the first deployment plus 11 switches make 12 rows.
    for step in range(11):
        target = 2 if step % 2 == 0 else 1
        admin.post(f"/models/match_success/versions/{target}/promote")
    assert len(deployments()) == 12
    page = admin.get("/models/match_success").get_data(as_text=True)
    assert "12 deployments, page 1 of 2" in page
    history = page.split('id="deployments"')[1]
    assert history.count("<tr>") == 1 + 10  # header + one page
    second = admin.get("/models/match_success?page=2").get_data(as_text=True)
    assert second.split('id="deployments"')[1].count("<tr>") == 1 + 2
    assert "first successful version" in second

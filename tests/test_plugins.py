"""Model types come from the entry-point group matchloop.model_types."""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest
from conftest import PASSWORD

from webapp import create_app
from webapp.extensions import db
from webapp.model_types import InstalledTypes, ModelType, PluginError
from webapp.models import ApiToken


class Fake(ModelType):
    name = "fake"
    title = "Fake"


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="matchloop.model_types")


def test_installed_plugins_are_discovered():
    registry = InstalledTypes.from_entry_points()
    assert "match_success" in registry.names()
    assert registry.get("match_success").params_form is not None


def test_duplicate_names_raise():
    with pytest.raises(PluginError, match="declared twice"):
        InstalledTypes.from_entry_points(
            [point("fake", f"{__name__}:Fake"), point("fake", f"{__name__}:Fake")]
        )


def test_entry_point_name_must_match_the_class_name():
    with pytest.raises(PluginError, match="must match"):
        InstalledTypes.from_entry_points([point("other", f"{__name__}:Fake")])


def test_entry_point_must_be_a_model_type():
    with pytest.raises(PluginError, match="not a ModelType"):
        InstalledTypes.from_entry_points([point("dict", "builtins:dict")])


@pytest.fixture
def third_party_package(tmp_path, monkeypatch):
    """Install a model type the way another package would: a module plus dist-info."""
    package = tmp_path / "acme_lift"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            '''
            from webapp.model_types import ModelType

            class LiftModel(ModelType):
                """A third-party model type."""
                name = "acme_lift"
                title = "ACME audience lift"
                target = "roi"
            '''
        )
    )
    dist = tmp_path / "acme_lift-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-lift\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[matchloop.model_types]\nacme_lift = acme_lift:LiftModel\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "acme_lift"
    sys.modules.pop("acme_lift", None)


def test_a_third_party_type_appears_with_no_change_in_webapp(
    third_party_package, app, make_user
):
    fresh = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "x",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    registry = fresh.extensions["matchloop.model_types"]
    assert {"match_success", "acme_lift"} <= set(registry.names())
    assert registry.get("acme_lift").title == "ACME audience lift"

    admin = make_user("ops@example.com", role="admin")
    _, token = ApiToken.issue(admin, "test")
    db.session.commit()
    client = fresh.test_client()
    listed = client.get("/api/v1/models", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert "acme_lift" in listed.get_data(as_text=True)
    client.post("/auth/login", data={"email": "ops@example.com", "password": PASSWORD})
    page = client.get("/models/")
    assert page.status_code == 200 and "ACME audience lift" in page.get_data(
        as_text=True
    )
    assert client.get("/runs/new?type=acme_lift").status_code == 200

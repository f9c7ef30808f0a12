"""Model types come from the entry-point group matchloop.model_types."""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest

from webapp import create_app
from webapp.model_types import ModelType, ModelTypeRegistry, RegistryError


class Fake(ModelType):
    name = "fake"
    title = "Fake"


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="matchloop.model_types")


def test_installed_plugins_are_discovered():
    registry = ModelTypeRegistry.from_entry_points()
    assert "match_success" in registry.names()
    assert registry.get("match_success").params_form is not None


def test_duplicate_names_raise():
    with pytest.raises(RegistryError, match="declared twice"):
        ModelTypeRegistry.from_entry_points(
            [point("fake", f"{__name__}:Fake"), point("fake", f"{__name__}:Fake")]
        )


def test_entry_point_name_must_match_the_class_name():
    with pytest.raises(RegistryError, match="must match"):
        ModelTypeRegistry.from_entry_points([point("other", f"{__name__}:Fake")])


def test_entry_point_must_be_a_model_type():
    with pytest.raises(RegistryError, match="not a ModelType"):
        ModelTypeRegistry.from_entry_points([point("dict", "builtins:dict")])


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


def test_a_third_party_type_appears_with_no_change_in_webapp(third_party_package, app):
    fresh = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "x",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        }
    )
    registry = fresh.extensions["matchloop.model_types"]
    assert {"match_success", "acme_lift"} <= set(registry.names())
    assert registry.get("acme_lift").title == "ACME audience lift"

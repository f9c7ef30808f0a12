"""The Alembic migrations build exactly the models' schema from nothing, and undo it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import PROJECT_ROOT
from flask_migrate import downgrade

from webapp import create_app
from webapp.extensions import db

VERSION_TABLE = "alembic_version"


def schema_diff(connection: sa.Connection) -> list:
    """Return what autogenerate would change to make the database match the models."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def table_names(connection: sa.Connection) -> set[str]:
    """Return the tables in the connection's default schema."""
    return set(sa.inspect(connection).get_table_names())


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path, monkeypatch):
    """Yield the URL of a brand-new, empty database (PostgreSQL with --postgres)."""
    monkeypatch.setenv("MATCHLOOP_INSTANCE_PATH", str(tmp_path / "instance"))
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    if not request.config.getoption("--postgres"):
        pytest.skip("the PostgreSQL variant runs with --postgres")
    base = sa.make_url(os.environ["MATCHLOOP_TEST_DATABASE_URL"])
    # A private schema, so the suite's own migrated schema is never touched.
    schema = f"migrations_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def fresh_app(empty_database):
    """An app on the empty database; its engine is closed afterwards."""
    app = create_app(
        {"ENV": "testing", "SECRET_KEY": "t", "DATABASE_URL": empty_database}
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_migrations_have_a_single_head():
    script = ScriptDirectory(str(PROJECT_ROOT / "webapp" / "migrations"))
    assert len(script.get_heads()) == 1, script.get_heads()


def test_init_db_builds_exactly_the_models_schema(fresh_app):
    with fresh_app.app_context(), db.engine.connect() as connection:
        assert table_names(connection) == set()

    result = fresh_app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database is up to date" in result.output

    with fresh_app.app_context(), db.engine.connect() as connection:
        assert table_names(connection) == set(db.metadata.tables) | {VERSION_TABLE}
        assert schema_diff(connection) == []


def test_init_db_twice_is_harmless(fresh_app):
    runner = fresh_app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0, second.output
    with fresh_app.app_context(), db.engine.connect() as connection:
        assert schema_diff(connection) == []


def test_downgrade_to_base_leaves_no_tables(fresh_app):
    assert fresh_app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with fresh_app.app_context():
        downgrade(directory=fresh_app.extensions["migrate"].directory, revision="base")
        with db.engine.connect() as connection:
            assert table_names(connection) - {VERSION_TABLE} == set()
            versions = connection.execute(sa.text(f"SELECT * FROM {VERSION_TABLE}"))
            assert versions.all() == []


def test_flask_init_db_command_on_a_new_install(tmp_path):
    """``flask --app wsgi init-db`` with no settings creates instance/matchloop.sqlite."""
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHLOOP_")}
    env["MATCHLOOP_INSTANCE_PATH"] = str(instance)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    database = instance / "matchloop.sqlite"
    assert str(database) in result.stdout
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            assert table_names(connection) == set(db.metadata.tables) | {VERSION_TABLE}
            assert schema_diff(connection) == []
    finally:
        engine.dispose()

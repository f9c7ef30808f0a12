"""Database commands: ``init-db``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.extensions import db


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (applies Alembic migrations)."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo(f"Database is up to date: {safe_url()}")


def safe_url() -> str:
    """Return the database URL without its password, for messages."""
    return db.engine.url.render_as_string(hide_password=True)

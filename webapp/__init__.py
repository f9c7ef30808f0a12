"""Matchloop: a marketplace that learns which influencer-brand collaborations work."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from webapp import config as config_module

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure a Matchloop app.

    Configuration layers, later wins: ``webapp.config.DEFAULTS``, then
    ``instance/config.py``, then ``MATCHLOOP_*`` environment variables, then
    ``test_config``.
    """
    app = Flask(
        __name__,
        instance_path=os.environ.get("MATCHLOOP_INSTANCE_PATH")
        or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    load_config(app, test_config)
    configure_logging(app)
    register_extensions(app)
    register_model_types(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_cli(app)
    return app


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Apply the configuration layers to ``app.config``."""
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.from_environment(os.environ))
    if test_config is not None:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config_module.finalize(app.config, app.instance_path)


def configure_logging(app: Flask) -> None:
    """Set the app logger's level from LOG_LEVEL."""
    app.logger.setLevel(
        getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    )


def register_extensions(app: Flask) -> None:
    """Bind the shared extensions to ``app``."""
    from webapp.core import nul_bytes, request_limits, security
    from webapp.extensions import (
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
        register_sqlite_pragmas,
    )
    from webapp.serving import coherence
    from webapp.views.api import token_cache

    register_sqlite_pragmas()
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent / "migrations"),
        render_as_batch=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)
    request_limits.init_app(app)
    nul_bytes.init_app(app)
    coherence.init_app(app)
    token_cache.init_app(app)
    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)


def register_model_types(app: Flask) -> None:
    """Build this app's model-type registry from the entry-point group."""
    from webapp.registry import plugins

    plugins.install(app)


def register_blueprints(app: Flask) -> None:
    """Register every blueprint (after the URL converters their routes use)."""
    from webapp.core import urls
    from webapp.views import blueprints

    urls.init_app(app)
    for blueprint in blueprints():
        app.register_blueprint(blueprint)


def register_template_helpers(app: Flask) -> None:
    """Expose taxonomy labels and formatting filters to templates."""
    from webapp.core import template_helpers

    template_helpers.init_app(app)


def register_cli(app: Flask) -> None:
    """Attach the ``flask`` commands."""
    from webapp.cli import commands

    for command in commands():
        app.cli.add_command(command)

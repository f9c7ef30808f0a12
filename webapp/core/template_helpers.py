"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for

from webapp.core import formatting, navigation, taxonomy


def url_with(**changes: Any) -> str:
    """Return the current URL with some query arguments replaced (for pagination)."""
    # flat=False keeps repeated arguments (?compare=2&compare=3) on every link.
    args = request.args.to_dict(flat=False)
    args.update({key: value for key, value in changes.items() if value is not None})
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    """Register the filters and globals on ``app``."""
    app.jinja_env.filters.update(
        label=taxonomy.label,
        money=formatting.money,
        number=formatting.number,
        plural=formatting.plural,
        noun=formatting.noun,
        percent=formatting.percent,
        compact=formatting.compact,
        utc=formatting.utc,
    )
    app.jinja_env.globals.update(
        url_with=url_with,
        taxonomy=taxonomy,
        nav_current=navigation.is_current,
        currency=formatting.currency,
    )

"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from typing import Any

from flask import Flask, request, url_for

from webapp.core import taxonomy


def url_with(**changes: Any) -> str:
    """Return the current URL with some query arguments replaced (for pagination)."""
    # flat=False keeps repeated arguments (?compare=2&compare=3) on every link.
    args = request.args.to_dict(flat=False)
    args.update({key: value for key, value in changes.items() if value is not None})
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def money(value: float | None) -> str:
    """Format an amount of money without cents: 12500 -> 12,500."""
    return "–" if value is None else f"{value:,.0f}"


def percent(value: float | None, digits: int = 0) -> str:
    """Format a fraction as a percentage: 0.253 -> 25 %."""
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def compact(value: int | float | None) -> str:
    """Format a big count compactly: 1530000 -> 1.5M."""
    if value is None:
        return "–"
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.1f}{suffix}"
    return f"{value:.0f}"


def init_app(app: Flask) -> None:
    """Register the filters and globals on ``app``."""
    app.jinja_env.filters.update(
        label=taxonomy.label, money=money, percent=percent, compact=compact
    )
    app.jinja_env.globals.update(url_with=url_with, taxonomy=taxonomy)

"""No request may carry a NUL character into the app (400 at the door).

PostgreSQL text columns cannot hold U+0000 (SQLite can), so a path, query,
form or JSON value with a NUL would reach the database only to fail there as a
500 on one backend and be stored on the other. The one rule: refuse it before
any view runs, with the same answer on both backends.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request

NUL = "\x00"
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
MESSAGE = "The request contains a NUL character (\\x00), which no text field accepts."


def init_app(app: Flask) -> None:
    """Install the NUL check before every other request hook."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)


def has_nul(value: Any) -> bool:
    """True when ``value`` (a str, or JSON made of lists and dicts) holds a NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def refuse_nul() -> None:
    """Answer 400 when the path, query or form fields hold a NUL."""
    if NUL in request.path:
        abort(400, description=MESSAGE)
    sources = [request.args]
    if request.mimetype in FORM_TYPES:
        sources.append(request.form)
    for source in sources:
        for key, values in source.lists():
            if NUL in key or any(NUL in value for value in values):
                abort(400, description=MESSAGE)

"""Who may see what: login everywhere but the login page, admin-only views, safe redirects."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from webapp.extensions import db, login_manager

# Longer "next" targets are not ours (our own paths are far shorter).
MAX_NEXT_LENGTH = 2000

# Endpoints reachable without a session. The API authenticates with bearer tokens.
PUBLIC_ENDPOINTS = {"auth.login", "static"}
# Blueprints that check a bearer token themselves (the API, the Prometheus scrape).
TOKEN_BLUEPRINTS = {"api", "metrics"}


def init_app(app: Flask) -> None:
    """Install the user loader and the login-required hook on ``app``."""
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    app.before_request(require_login)


def load_user(user_id: str) -> Any:
    """Return the user stored in the session, or None."""
    from webapp.models import User

    if not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def require_login() -> Any:
    """Send anonymous visitors of any non-public page to the login page."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.blueprint in TOKEN_BLUEPRINTS:
        return None
    if request.endpoint is None:  # 404s: let the error handler answer
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def admin_required(view: Callable) -> Callable:
    """Answer 403 unless the logged-in user is an admin."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapped.admin_only = True  # lets tests find every admin view
    return wrapped


def _readings(target: str) -> list[str]:
    """Return the ways a browser or proxy might read ``target``: as is, decoded, folded."""
    once = unquote(target)
    return [target, once, unquote(once), unicodedata.normalize("NFKC", target)]


def _looks_local(reading: str) -> bool:
    """True when one reading is a plain path: one leading slash, no scheme, no host."""
    if not reading.startswith("/") or reading.startswith(("//", "/\\")):
        return False
    if "\\" in reading or any(
        char.isspace() or unicodedata.category(char).startswith("C") for char in reading
    ):
        # Browsers drop tabs and newlines and read backslashes as slashes.
        return False
    parts = urlsplit(reading)
    return not parts.scheme and not parts.netloc


def is_local_path(target: object) -> bool:
    """True when ``target`` can only lead to a page of this site.

    Only a path with exactly one leading slash is accepted, and it must stay one
    however it is read: percent-decoded (``/%2F/x``, ``/%09/x``), Unicode-folded
    (``/／x``), with tabs, newlines or leading spaces dropped, or with
    backslashes read as slashes (``/\\x``), as browsers do.
    """
    if not isinstance(target, str) or not target or len(target) > MAX_NEXT_LENGTH:
        return False
    return all(_looks_local(reading) for reading in _readings(target))


def safe_next(target: str | None, default: str | None = None) -> str:
    """Return ``target`` if it is a path on this site, else ``default`` (the home page)."""
    if is_local_path(target):
        return target
    return default or url_for("main.index")

"""Who may see what: login everywhere but the login page, admin-only views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

from webapp.extensions import db, login_manager

# Endpoints reachable without a session. The API authenticates with bearer tokens.
PUBLIC_ENDPOINTS = {"auth.login", "static"}
TOKEN_BLUEPRINTS = {"api"}


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

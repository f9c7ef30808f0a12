"""The ``api`` blueprint: token-authenticated JSON under /api/v1, one shared rate limit."""

from __future__ import annotations

from flask import Blueprint, current_app

from webapp.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def api_limit() -> str:
    """Return the configured API rate limit (per token, across every API route)."""
    return current_app.config["RATELIMIT_API"]


# Bearer tokens are not sent by browsers on their own, so CSRF does not apply.
csrf.exempt(bp)
limiter.shared_limit(api_limit, scope="api")(bp)

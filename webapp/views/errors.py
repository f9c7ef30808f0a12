"""Error pages: HTML for pages, JSON for the API."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

bp = Blueprint("errors", __name__)


def wants_json() -> bool:
    """True for API requests, which always get JSON errors."""
    return request.path.startswith("/api/")


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    """Explain a missing or stale CSRF token."""
    if wants_json():
        return jsonify(error="csrf", details=error.description), 400
    return render_template("errors/error.html", error=error, title="Form expired"), 400


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Render any HTTP error with the site layout (or JSON under /api)."""
    # Keep the headers the error carries (Allow on 405, Retry-After on 429).
    headers = [
        (name, value)
        for name, value in error.get_headers(request.environ)
        if name.lower() != "content-type"
    ]
    if wants_json():
        return (
            jsonify(
                error=error.name.lower().replace(" ", "_"), details=error.description
            ),
            error.code,
            headers,
        )
    return (
        render_template("errors/error.html", error=error, title=error.name),
        error.code,
        headers,
    )

"""JSON errors for the API: ``{"error": code, "details": ...}`` with the right status."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from webapp.extensions import db, limiter
from webapp.views.api.blueprint import bp

# Codes for the HTTP errors Flask and its extensions raise on their own.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error answer: HTTP ``status``, machine ``error`` code and ``details``."""

    def __init__(
        self,
        status: int,
        error: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error}: {details}")
        self.status = status
        self.error = error
        self.details = details
        self.headers = headers or {}


def answer(status: int, error: str, details: Any = None, headers=None):
    """Return a JSON error response."""
    return jsonify(error=error, details=details), status, headers or {}


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    """Answer an ApiError raised by a view or a hook."""
    return answer(error.status, error.error, error.details, error.headers)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Answer werkzeug and extension errors (413, 429, 405 ...) in the API's shape."""
    headers = {
        name: value
        for name, value in error.get_headers(request.environ)
        if name.lower() != "content-type"
    }
    details = error.description
    if error.code == 429:
        headers.setdefault("Retry-After", str(retry_after()))
    if error.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        details = f"The request body is larger than {limit} bytes."
    code = HTTP_CODES.get(error.code, (error.name or "error").lower().replace(" ", "_"))
    return answer(error.code or 500, code, details, headers)


def retry_after() -> int:
    """Return the seconds until the breached rate limit resets (at least 1)."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    return max(1, breached.reset_at - int(time.time()))


@bp.errorhandler(OperationalError)
def database_unavailable(error: OperationalError):
    """Answer 503 when the database cannot be reached (never a bare 500)."""
    db.session.rollback()
    current_app.logger.error("API: database unavailable: %s", error.orig)
    return answer(503, "database_unavailable", "The database does not answer.")

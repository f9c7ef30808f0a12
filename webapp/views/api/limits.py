"""The API's one rate limit: per token, per address before authentication, a batch per pair.

RATELIMIT_API is shared by every API route. A call with an active token counts
against that token; a call without one, or with an unknown or revoked one,
counts against the client's address, so random bearer strings share one
bucket instead of getting a fresh allowance each. A batch prediction costs one
call per pair. The counters live in Redis (RATELIMIT_STORAGE_URI), so every web
process counts the same calls.
"""

from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from webapp.extensions import db, limiter
from webapp.views.api.auth import known_caller
from webapp.views.api.blueprint import bp

BATCH_ENDPOINT = "api.predict_match_batch"


def api_limit() -> str:
    """Return the configured API rate limit."""
    return current_app.config["RATELIMIT_API"]


def caller_key() -> str:
    """Return whom a call counts against: its active token, else its address.

    It never raises: Flask-Limiter would take any error for a storage failure
    and switch to per-process counters.
    """
    try:
        caller = known_caller()
    except SQLAlchemyError:
        # No database: count by address; authentication then answers 503.
        db.session.rollback()
        caller = None
    if caller is not None:
        return f"token:{caller.token_id}"
    return f"address:{get_remote_address()}"


def call_cost() -> int:
    """Return what a call costs: its number of pairs for a batch, else 1 (never raises)."""
    if request.endpoint != BATCH_ENDPOINT:
        return 1
    try:
        body = request.get_json(silent=True)
    except HTTPException:
        return 1  # too large: the view answers 413
    pairs = body.get("pairs") if isinstance(body, dict) else None
    if not isinstance(pairs, list):
        return 1
    return max(1, min(len(pairs), int(current_app.config["API_MAX_BATCH"])))


limiter.shared_limit(api_limit, scope="api", key_func=caller_key, cost=call_cost)(bp)

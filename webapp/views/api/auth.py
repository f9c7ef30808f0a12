"""Bearer-token authentication and the API's permission rules."""

from __future__ import annotations

from datetime import timedelta

from flask import request

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import ApiToken, User
from webapp.views.api import token_cache
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError
from webapp.views.api.token_cache import Caller

# Endpoints anyone may call without a token (still rate limited).
PUBLIC_ENDPOINTS = {"api.openapi_json"}
# Write last_used_at at most this often per token: keeps the hot path read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Our tokens are ~46 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 200
KNOWN_CALLER = "matchloop.api_known_caller"
API_USER = "matchloop.api_user"
REVOKED = "The token is unknown or has been revoked."


def unauthorized(details: str, invalid: bool) -> ApiError:
    """Return the 401 error, with the WWW-Authenticate challenge RFC 6750 asks for."""
    challenge = 'Bearer realm="matchloop"'
    if invalid:
        challenge += ', error="invalid_token"'
    return ApiError(
        401,
        "invalid_token" if invalid else "unauthorized",
        details,
        {"WWW-Authenticate": challenge},
    )


def bearer_token() -> str | None:
    """Return the token of the Authorization header, or None when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def known_caller() -> Caller | None:
    """Return the caller of the active token this request carries, found once per request.

    The rate limiter asks first (to count the call against the token), then
    :func:`authenticate`; an unknown or revoked token is None for both. The
    lookup goes through this process's token cache (``token_cache``).
    """
    # Kept in the request's environ: ``g`` outlives a request when an app context
    # was already pushed (tests, CLI).
    cache = request.environ
    if KNOWN_CALLER not in cache:
        plain = bearer_token()
        valid = plain is not None and len(plain) <= MAX_TOKEN_LENGTH
        cache[KNOWN_CALLER] = (
            token_cache.token_cache().caller(ApiToken.hash(plain)) if valid else None
        )
    return cache[KNOWN_CALLER]


@bp.before_request
def authenticate() -> None:
    """Identify the token's caller for every API call but the public ones."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    if bearer_token() is None:
        raise unauthorized(
            "Send 'Authorization: Bearer <token>' "
            "(create one with: flask --app wsgi create-token EMAIL).",
            invalid=False,
        )
    caller = known_caller()
    if caller is None:
        raise unauthorized(REVOKED, invalid=True)
    note_use(caller)


def note_use(caller: Caller) -> None:
    """Write the token's ``last_used_at`` when it is older than LAST_USED_RESOLUTION."""
    now = utcnow()
    if caller.last_used_at is not None and now - caller.last_used_at < (
        LAST_USED_RESOLUTION
    ):
        return
    token = db.session.get(ApiToken, caller.token_id)
    if token is not None:
        token.last_used_at = now
        db.session.commit()  # drops this token from the cache, so it is read afresh


def api_caller() -> Caller:
    """Return the caller whose token authenticated this request."""
    return request.environ[KNOWN_CALLER]


def api_user() -> User:
    """Return the user whose token authenticated this request (loaded on first use)."""
    user = request.environ.get(API_USER)
    if user is None:
        user = db.session.get(User, api_caller().user_id)
        if user is None:  # deleted since the token was cached
            raise unauthorized(REVOKED, invalid=True)
        request.environ[API_USER] = user
    return user


def require_admin() -> User:
    """Return the caller's user, or raise 403 unless they are an admin."""
    if not api_caller().is_admin:
        raise ApiError(403, "forbidden", "Only admins may use this endpoint.")
    return api_user()


def own_ids(caller: Caller) -> tuple[str | None, str | None]:
    """Return the (influencer, company) external ids a member acts for."""
    return caller.influencer_id, caller.company_id


def may_see_pair(caller: Caller, influencer_id: str, company_id: str) -> bool:
    """True when ``caller`` may ask about this pair: admins always, members for their own."""
    if caller.is_admin:
        return True
    own_influencer, own_company = own_ids(caller)
    return (own_influencer is not None and influencer_id == own_influencer) or (
        own_company is not None and company_id == own_company
    )

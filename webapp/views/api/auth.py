"""Bearer-token authentication and the API's permission rules."""

from __future__ import annotations

from datetime import timedelta

from flask import g, request

from webapp.core.timeutil import utcnow
from webapp.extensions import db
from webapp.models import ApiToken, User
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError

# Endpoints anyone may call without a token (still rate limited).
PUBLIC_ENDPOINTS = {"api.openapi_json"}
# Write last_used_at at most this often per token: keeps the hot path read-only.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Our tokens are ~46 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 200
KNOWN_TOKEN = "matchloop.api_known_token"


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


def known_token() -> ApiToken | None:
    """Return the active token this request carries, looked up once per request.

    The rate limiter asks first (to count the call against the token), then
    :func:`authenticate`; an unknown or revoked token is None for both.
    """
    # Kept in the request's environ: ``g`` outlives a request when an app context
    # was already pushed (tests, CLI).
    cache = request.environ
    if KNOWN_TOKEN not in cache:
        plain = bearer_token()
        valid = plain is not None and len(plain) <= MAX_TOKEN_LENGTH
        cache[KNOWN_TOKEN] = ApiToken.find_active(plain) if valid else None
    return cache[KNOWN_TOKEN]


@bp.before_request
def authenticate() -> None:
    """Identify the token's user for every API call but the public ones."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    if bearer_token() is None:
        raise unauthorized(
            "Send 'Authorization: Bearer <token>' "
            "(create one with: flask --app wsgi create-token EMAIL).",
            invalid=False,
        )
    token = known_token()
    if token is None:
        raise unauthorized("The token is unknown or has been revoked.", invalid=True)
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    g.api_token = token
    g.api_user = token.user


def api_user() -> User:
    """Return the user whose token authenticated this request."""
    return g.api_user


def require_admin() -> User:
    """Return the caller, or raise 403 unless they are an admin."""
    user = api_user()
    if not user.is_admin:
        raise ApiError(403, "forbidden", "Only admins may use this endpoint.")
    return user


def own_ids(user: User) -> tuple[str | None, str | None]:
    """Return the (influencer, company) external ids a member acts for."""
    influencer = user.influencer.external_id if user.influencer else None
    company = user.company.external_id if user.company else None
    return influencer, company


def may_see_pair(user: User, influencer_id: str, company_id: str) -> bool:
    """True when ``user`` may ask about this pair: admins always, members for their own."""
    if user.is_admin:
        return True
    own_influencer, own_company = own_ids(user)
    return (own_influencer is not None and influencer_id == own_influencer) or (
        own_company is not None and company_id == own_company
    )

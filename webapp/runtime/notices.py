"""Change notices in Redis: the counters every web process watches.

A routing change increments the routing counter (:func:`bump_routing`); each
web process reads it (:func:`routing_generation`, one GET) and reloads its
routing table when the number moved. A change to API tokens or their users
increments the token counter (:func:`bump_tokens`, :func:`token_generation`),
and each web process then forgets the tokens it had cached. The client has short timeouts and no retries: a
Redis that is down or slow costs a request at most a quarter of a second, and
the caller falls back to polling the database.

A Redis that restarts without its data forgets the counters; the first reader or
writer then seeds each with a random 48-bit number (SET NX), so a fresh count
cannot land on the generation a process already serves by chance.
"""

from __future__ import annotations

import logging
import secrets

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry

from webapp.runtime import embedded_redis

log = logging.getLogger(__name__)
ROUTING_KEY = "matchloop:routing:generation"
TOKENS_KEY = "matchloop:api_tokens:generation"
TIMEOUT = 0.25
_EXT_KEY = "matchloop.notices"


def notice_connection(app: Flask | None = None) -> redis.Redis:
    """Return this process's client for notices (REDIS_URL, else the embedded socket).

    Unlike ``jobs.redis_connection`` it never starts an embedded server: a
    missing server means "fall back", not "start one on a request".
    """
    app = app or current_app._get_current_object()
    connection = app.extensions.get(_EXT_KEY)
    if connection is None:
        url = app.config.get("REDIS_URL")
        if url:
            connection = redis.Redis.from_url(
                url,
                socket_timeout=TIMEOUT,
                socket_connect_timeout=TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            )
        else:
            connection = embedded_redis.client(
                app.config["EMBEDDED_REDIS_SOCKET"], timeout=TIMEOUT
            )
        app.extensions[_EXT_KEY] = connection
    return connection


def _seed(connection: redis.Redis, key: str) -> None:
    """Give a missing counter a random start (see the module docstring)."""
    connection.set(key, secrets.randbits(48), nx=True)


def _generation(key: str, app: Flask | None) -> int | None:
    """Return counter ``key``, or None when Redis does not answer."""
    connection = notice_connection(app)
    try:
        value = connection.get(key)
        if value is None:
            _seed(connection, key)
            value = connection.get(key)
    except redis.RedisError:
        return None
    return int(value)


def _bump(key: str, app: Flask | None, what: str, fallback: str) -> int | None:
    """Increment counter ``key``; return it, or None (logged) when Redis does not answer."""
    connection = notice_connection(app)
    try:
        _seed(connection, key)
        return int(connection.incr(key))
    except redis.RedisError as error:
        log.warning("%s not announced (Redis: %s); %s", what, error, fallback)
        return None


def routing_generation(app: Flask | None = None) -> int | None:
    """Return the routing counter, or None when Redis does not answer."""
    return _generation(ROUTING_KEY, app)


def bump_routing(app: Flask | None = None) -> int | None:
    """Increment the routing counter; return it, or None when Redis does not answer.

    Web processes that cannot read the counter either poll the database, so a
    lost increment delays a change by ROUTING_MAX_AGE_SECONDS at worst.
    """
    return _bump(
        ROUTING_KEY,
        app,
        "routing change",
        "web processes pick it up from the database",
    )


def token_generation(app: Flask | None = None) -> int | None:
    """Return the API token counter, or None when Redis does not answer."""
    return _generation(TOKENS_KEY, app)


def bump_tokens(app: Flask | None = None) -> int | None:
    """Increment the API token counter; return it, or None when Redis does not answer.

    Other web processes then keep a cached token for API_TOKEN_CACHE_SECONDS
    at worst (``views.api.token_cache``).
    """
    return _bump(
        TOKENS_KEY,
        app,
        "API token change",
        "other web processes notice it within API_TOKEN_CACHE_SECONDS",
    )

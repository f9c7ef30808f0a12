"""Helpers for the API tests: tokens, a client that checks the OpenAPI document, a model.

``ApiClient.call`` asserts the status and validates every JSON body against the
schema the served OpenAPI document gives for that path, method and status, so a
response the document does not describe fails the test that received it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from training_helpers import seed_small_world, train_version

from webapp import create_app
from webapp.extensions import db
from webapp.models import ApiToken, ModelVersion, User

PREFIX = "/api/v1"
SPEC_URI = "urn:test:openapi"
# Fast settings for the real model the tests train.
QUICK_PARAMS = {"algorithm": "logistic_regression", "n_splits": 2}


def issue_token(user: User, name: str = "test") -> str:
    """Create and commit a token for ``user``; return the plain token."""
    _, plain = ApiToken.issue(user, name)
    db.session.commit()
    return plain


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (responses are referenced from components)."""
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def template_for(spec: dict[str, Any], path: str) -> str:
    """Return the documented path template matching a concrete URL path."""
    local = path.split("?")[0].removeprefix(PREFIX)
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, local):
            return template
    raise AssertionError(f"{path} is not in the OpenAPI document")


def check_response(spec: dict[str, Any], method: str, path: str, response) -> None:
    """Assert that ``response`` is documented for ``method path`` and matches its schema."""
    template = template_for(spec, path)
    operation = spec["paths"][template][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{method} {template} answered {status}, which is not documented"
    )
    documented = resolve(spec, operation["responses"][status])
    assert response.mimetype == "application/json"
    schema = documented["content"]["application/json"]["schema"]
    registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    if "$ref" in schema:
        schema = {"$ref": SPEC_URI + schema["$ref"]}
    else:
        schema = _absolute_refs(schema)
    validator = Draft202012Validator(schema, registry=registry)
    errors = [e.message for e in validator.iter_errors(response.get_json())]
    assert not errors, f"{method} {template} {status} body breaks its schema: {errors}"
    for header in documented.get("headers", {}):
        assert header in response.headers, f"{status} must send {header}"


def _absolute_refs(node: Any) -> Any:
    """Return ``node`` with every local $ref pointing into the registered document."""
    if isinstance(node, dict):
        return {
            key: SPEC_URI + value
            if key == "$ref" and value.startswith("#")
            else _absolute_refs(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_absolute_refs(item) for item in node]
    return node


class ApiClient:
    """A test client for /api/v1 that checks every answer against the document."""

    def __init__(self, client, spec: dict[str, Any] | None = None) -> None:
        self.client = client
        self.spec = spec or client.get(f"{PREFIX}/openapi.json").get_json()

    def call(
        self,
        method: str,
        path: str,
        status: int,
        token: str | None = None,
        **kwargs: Any,
    ):
        """Send a request to ``/api/v1<path>``, assert ``status`` and the schema."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        url = PREFIX + path
        response = self.client.open(url, method=method, headers=headers, **kwargs)
        assert response.status_code == status, (
            f"{method} {url}: expected {status}, got {response.status_code}: "
            f"{response.get_data(as_text=True)[:500]}"
        )
        check_response(self.spec, method, url, response)
        return response


def seed_and_train(app: Flask) -> ModelVersion:
    """Seed a small world and train a real match_success version; return it (active)."""
    seed_small_world()
    return train_version(QUICK_PARAMS)


@contextmanager
def sibling_app(app: Flask, **overrides: Any) -> Iterator[Flask]:
    """Yield a second app on the same database and Redis, with some settings changed.

    Flask-Limiter keeps its switch and storage on the one shared limiter, so a
    sibling with rate limits on also limits ``app`` until the next app is built;
    the limit values themselves are read from each app's config.
    """
    keys = ("ENV", "TESTING", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MODEL_DIR")
    config = {key: app.config[key] for key in keys}
    config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    config.update(overrides)
    sibling = create_app(config)
    try:
        yield sibling
    finally:
        with sibling.app_context():
            db.engine.dispose()


def rate_limited(app: Flask, limit: str = "1 per minute"):
    """Return a sibling app whose API allows ``limit`` per token (memory storage)."""
    return sibling_app(
        app,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_API=limit,
    )


def database_down(app: Flask):
    """Return a sibling app whose database cannot be opened."""
    return sibling_app(app, DATABASE_URL="sqlite:////nonexistent-matchloop/db.sqlite")


def redis_down(app: Flask):
    """Return a sibling app whose Redis cannot be reached."""
    return sibling_app(app, REDIS_URL="unix:///nonexistent-matchloop/redis.sock")

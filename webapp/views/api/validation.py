"""Reading request bodies and query strings, checked against the OpenAPI schemas."""

from __future__ import annotations

import json
from itertools import islice
from typing import Any

from flask import Flask, current_app, request
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from webapp.core.nul_bytes import MESSAGE, has_nul
from webapp.views.api.errors import ApiError
from webapp.views.api.openapi import document
from webapp.views.api.schema_check import Check, compile_check

DOCUMENT_URI = "urn:matchloop:api:v1"
# Report at most this many problems per request: a 50,000-item body is not a report.
MAX_REPORTED = 20
MAX_QUOTED = 80
MAX_MESSAGE = 300
_KEY = "matchloop.api.validators"
_CHECKS_KEY = "matchloop.api.schema_checks"


def _reject_constant(name: str) -> Any:
    """Refuse NaN, Infinity and -Infinity, which Python's json accepts but JSON forbids."""
    raise ValueError(f"{name} is not a valid JSON number")


def _registry(app: Flask) -> Registry:
    """Return a registry holding the app's OpenAPI document, so $refs resolve in it."""
    registry = app.extensions.get(_KEY)
    if registry is None:
        resource = Resource.from_contents(
            document(app), default_specification=DRAFT202012
        )
        registry = Registry().with_resource(DOCUMENT_URI, resource)
        app.extensions[_KEY] = registry
    return registry


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    """Return a validator for ``schema``; ``#/components/...`` refs mean the document."""
    if schema.get("$ref", "").startswith("#"):
        schema = {**schema, "$ref": DOCUMENT_URI + schema["$ref"]}
    registry = _registry(current_app._get_current_object())
    return Draft202012Validator(schema, registry=registry)


def describe(instance: Any) -> str:
    """Return a short name for a value too long to quote in a message."""
    if isinstance(instance, list):
        return f"the array of {len(instance)} items"
    if isinstance(instance, dict):
        return f"the object with {len(instance)} properties"
    if isinstance(instance, str):
        return f"the string of {len(instance)} characters"
    return "the value"


def message(error: ValidationError) -> str:
    """Return the error's message without quoting a huge instance back at the client."""
    text = error.message
    quoted = repr(error.instance)
    if len(quoted) > MAX_QUOTED and text.startswith(quoted):
        text = describe(error.instance) + text[len(quoted) :]
    return text[:MAX_MESSAGE]


def problem(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Return ``{"path", "message"}`` entries for one schema violation."""
    path = [prefix] if prefix else []
    path += [str(part) for part in error.absolute_path]
    if error.validator == "required":
        return [
            {"path": "/".join([*path, name]), "message": f"{name} is required"}
            for name in error.validator_value
            if isinstance(error.instance, dict) and name not in error.instance
        ]
    return [{"path": "/".join(path), "message": message(error)}]


def check(instance: Any, schema: dict[str, Any], prefix: str = "") -> list[dict]:
    """Return the problems of ``instance`` against ``schema`` (empty when valid)."""
    found: list[dict[str, str]] = []
    errors = validator(schema).iter_errors(instance)
    for error in islice(errors, MAX_REPORTED):
        for entry in problem(error, prefix):
            if entry not in found:
                found.append(entry)
    return found


def fail(problems: list[dict[str, str]]) -> ApiError:
    """Return the 422 error for ``problems``."""
    return ApiError(422, "validation_failed", problems)


def parse_json() -> Any:
    """Return the request's JSON body, refusing what strict JSON refuses (400)."""
    if request.mimetype != "application/json":
        raise ApiError(
            400,
            "unsupported_content_type",
            "Send the body as JSON with 'Content-Type: application/json'.",
        )
    raw = request.get_data(cache=False)  # raises 413 above MAX_CONTENT_LENGTH
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        # JSONDecodeError is a ValueError; so are over-long integer literals.
        raise ApiError(
            400, "malformed_json", f"The body is not valid JSON: {error}"
        ) from None
    if not is_valid_unicode(body):
        raise ApiError(
            400,
            "malformed_json",
            "The body has a lone surrogate escape (like \\ud800): strings must be "
            "valid Unicode.",
        )
    if has_nul(body):
        raise ApiError(400, "malformed_json", MESSAGE)
    return body


def is_valid_unicode(value: Any) -> bool:
    """True when every string in ``value`` (keys too) encodes as UTF-8.

    JSON lets a string escape half a surrogate pair ("\\ud800"), which Python
    decodes into a str no database, log or response can encode.
    """
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def fast_check(schema_name: str) -> Check | None:
    """Return the compiled yes/no check of a component schema (None: not compilable)."""
    app = current_app._get_current_object()
    checks = app.extensions.setdefault(_CHECKS_KEY, {})
    if schema_name not in checks:
        schemas = document(app)["components"]["schemas"]
        checks[schema_name] = compile_check(schemas[schema_name], schemas)
    return checks[schema_name]


def json_body(schema_name: str) -> dict[str, Any]:
    """Return the request's JSON object after validating it against ``schema_name``.

    A body the compiled check accepts is valid (``schema_check``); any other goes
    through jsonschema, which reports each problem with its path.
    """
    body = parse_json()
    if not isinstance(body, dict):
        raise ApiError(400, "body_not_object", "The body must be a JSON object.")
    accepts = fast_check(schema_name)
    if accepts is not None and accepts(body):
        return body
    problems = check(body, {"$ref": f"#/components/schemas/{schema_name}"})
    if problems:
        raise fail(problems)
    return body


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    """Convert a query string value to the parameter's declared type (ValueError)."""
    kind = schema.get("type")
    if kind == "integer":
        return int(raw)
    if kind == "number":
        value = float(raw)
        # float() accepts "nan"; the schema's bounds reject "inf" but not NaN.
        if value != value:
            raise ValueError(raw)
        return value
    return raw


def query_args(parameters: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the declared query parameters, typed, defaulted and validated (422)."""
    values: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for parameter in parameters:
        name, schema = parameter["name"], parameter["schema"]
        raw = request.args.get(name)
        if raw is None:
            if "default" in schema:
                values[name] = schema["default"]
            elif parameter.get("required"):
                problems.append({"path": name, "message": f"{name} is required"})
            continue
        try:
            value = _coerce(raw, schema)
        except ValueError:
            message = f"{raw[:MAX_QUOTED]!r} is not a valid {schema['type']}"
            problems.append({"path": name, "message": message})
            continue
        found = check(value, schema)
        problems += [{"path": name, "message": p["message"]} for p in found]
        values[name] = value
    if problems:
        raise fail(problems)
    return values

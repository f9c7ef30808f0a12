"""The compiled request-body check never accepts what jsonschema rejects."""

from __future__ import annotations

import copy
import random

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from webapp.model_types import installed_types
from webapp.views.api.openapi import build_document
from webapp.views.api.schema_check import compile_check

URI = "urn:test"
ODD_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.5,
    -0.0,
    1e11,
    float(10**10),
    "",
    "x",
    "x" * 65,
    "x" * 64,
    [],
    [1],
    {},
    {"a": 1},
]


def request_schemas(app) -> tuple[dict, dict]:
    """Return the document's component schemas and the request ones among them."""
    document = build_document(3, installed_types(app))
    schemas = document["components"]["schemas"]
    names = [n for n in schemas if n.endswith(("Request", "Create", "Change"))]
    return document, {n: schemas[n] for n in names}


def validator(document: dict, name: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{URI}#/components/schemas/{name}"}, registry=registry
    )


def valid_pair() -> dict:
    return {"influencer_id": "INF-1", "company_id": "CO-1", "budget": 1200.5}


def mutations(body, rng: random.Random, n: int):
    """Yield ``n`` copies of ``body`` with one value somewhere replaced or removed."""
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, key))
        elif isinstance(node, list):
            for k, child in enumerate(node):
                walk(child, (*path, k))

    walk(body, ())
    for _ in range(n):
        mutated = copy.deepcopy(body)
        path = rng.choice(paths)
        if not path:
            yield rng.choice(ODD_VALUES)
            continue
        parent = mutated
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.15 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.25 and isinstance(parent, dict):
            parent["unexpected"] = 1
        else:
            parent[path[-1]] = rng.choice(ODD_VALUES)
        yield mutated


def test_batch_request_compiles_and_agrees_with_jsonschema(app):
    document, requests = request_schemas(app)
    schemas = document["components"]["schemas"]
    accepts = compile_check(requests["BatchRequest"], schemas)
    assert accepts is not None
    full = validator(document, "BatchRequest")
    body = {"pairs": [valid_pair(), {"influencer_id": "I", "company_id": "C"}]}
    assert accepts(body) and full.is_valid(body)
    rng = random.Random(7)
    rejected = 0
    for mutated in mutations(body, rng, 600):
        if accepts(mutated):
            assert full.is_valid(mutated), mutated
        else:
            rejected += 1
    assert rejected > 300  # the mutations do break most bodies
    # The batch limit of the document holds: 4 pairs are one too many here.
    assert not accepts({"pairs": [valid_pair()] * 4})
    assert not accepts({"pairs": []})
    assert not accepts({"pairs": [{**valid_pair(), "budget": True}]})
    assert not accepts({"pairs": [{**valid_pair(), "budget": -1}]})


def test_every_request_schema_is_sound_or_left_to_jsonschema(app):
    document, requests = request_schemas(app)
    schemas = document["components"]["schemas"]
    rng = random.Random(11)
    for name, schema in requests.items():
        accepts = compile_check(schema, schemas)
        if accepts is None:
            continue
        full = validator(document, name)
        for body in [
            {},
            *mutations({"pairs": [valid_pair()], **valid_pair()}, rng, 200),
        ]:
            if accepts(body):
                assert full.is_valid(body), (name, body)


def test_unknown_keywords_are_not_compiled():
    assert compile_check({"type": "string", "pattern": "^a"}, {}) is None
    assert compile_check({"type": "object", "additionalProperties": True}, {}) is None
    assert (
        compile_check({"$ref": "#/components/schemas/A"}, {"A": {"oneOf": []}}) is None
    )
    assert compile_check({"type": "integer", "minimum": 1}, {})(2)

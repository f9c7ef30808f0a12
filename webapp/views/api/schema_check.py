"""A fast yes/no check of a body against a request schema, compiled once per schema.

jsonschema descends into every item of a 1,000-pair batch through its generic
machinery (a fifth of the batch's time). Most bodies are valid, so
``json_body`` first asks the check compiled here, which walks the body once
with plain Python; only a body it does not accept goes through jsonschema,
which then reports every problem with its path, as before.

The check is sound, never complete: it accepts only what the schema accepts.
It compiles the few keywords the request schemas use and is stricter where
that is simpler (an integer must be a Python int; ``const`` and ``enum`` compare
types too); a schema with any other keyword compiles to None (always ask
jsonschema), so a keyword added later can never be skipped unnoticed. The
schemas stay the one definition of what the API accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that only annotate (jsonschema does not check ``format`` either).
ANNOTATIONS = frozenset(
    {"description", "title", "default", "examples", "format", "deprecated"}
)
SCALARS = (str, int, float, bool, type(None))
# A Python test per JSON type, on the value named ``{v}``.
TYPES = {
    "object": "isinstance({v}, dict)",
    "array": "isinstance({v}, list)",
    "string": "isinstance({v}, str)",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "integer": "type({v}) is int",
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
}
BOUNDS = {
    "minimum": ">=",
    "maximum": "<=",
    "exclusiveMinimum": ">",
    "exclusiveMaximum": "<",
}
SIZES = {
    "minLength": ("string", ">="),
    "maxLength": ("string", "<="),
    "minItems": ("array", ">="),
    "maxItems": ("array", "<="),
    "minProperties": ("object", ">="),
    "maxProperties": ("object", "<="),
}


class Uncompilable(ValueError):
    """The schema uses a keyword (or form) this module does not compile."""


def compile_check(schema: dict[str, Any], schemas: dict[str, Any]) -> Check | None:
    """Return a check for ``schema`` (refs resolve in ``schemas``), or None if it cannot.

    The schema becomes one Python expression, compiled once, so checking a
    body costs a few bytecodes per value instead of a validator call per keyword.
    """
    source = _Source(schemas)
    try:
        expression = source.expression(schema, "value", ())
    except Uncompilable:
        return None
    code = f"def check(value):\n    return bool({expression})\n"
    namespace = dict(source.constants)
    exec(compile(code, "<schema check>", "exec"), namespace)  # noqa: S102 - our own schemas
    return namespace["check"]


class _Source:
    """Builds the expression of a schema, holding the constants it refers to."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.constants: dict[str, Any] = {}
        self.names = 0

    def constant(self, value: Any) -> str:
        """Return the name under which ``value`` is visible to the compiled code."""
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def variable(self) -> str:
        """Return a fresh variable name for an array item."""
        self.names += 1
        return f"_x{self.names}"

    def expression(self, schema: Any, v: str, seen: tuple[str, ...]) -> str:
        """Return a Python expression true when the value named ``v`` fits ``schema``."""
        if not isinstance(schema, dict):
            raise Uncompilable(f"schema {schema!r} is not an object")
        if "$ref" in schema:
            return self.reference(schema, v, seen)
        types = schema.get("type")
        single = types if isinstance(types, str) else None
        parts = []
        if types is not None:
            names = [types] if single else list(types)
            if not all(name in TYPES for name in names):
                raise Uncompilable(f"unknown type {types!r}")
            parts.append("(" + " or ".join(TYPES[n].format(v=v) for n in names) + ")")
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS or keyword == "type":
                continue
            parts.append(self.keyword(keyword, value, schema, v, single, seen))
        return "(" + " and ".join(parts or ["True"]) + ")"

    def reference(self, schema: dict[str, Any], v: str, seen) -> str:
        """Inline a ``#/components/schemas/...`` reference (never a cycle)."""
        target = schema["$ref"]
        prefix = "#/components/schemas/"
        rest = {k: x for k, x in schema.items() if k != "$ref" and k not in ANNOTATIONS}
        if rest or not target.startswith(prefix) or target in seen:
            raise Uncompilable(f"unsupported reference {target!r}")
        resolved = self.schemas[target[len(prefix) :]]
        return self.expression(resolved, v, (*seen, target))

    def guarded(self, kind: str, test: str, v: str, single: str | None) -> str:
        """Return ``test``, applied only to values of JSON type ``kind``."""
        if single == kind:
            return test
        return f"(not {TYPES[kind].format(v=v)} or {test})"

    def keyword(self, keyword: str, value: Any, schema, v: str, single, seen) -> str:
        """Return the expression of one keyword (``type`` and annotations aside)."""
        if keyword in BOUNDS and isinstance(value, int | float):
            test = f"{v} {BOUNDS[keyword]} {self.constant(value)}"
            return self.guarded("number", test, v, single)
        if keyword in SIZES and type(value) is int:
            kind, sign = SIZES[keyword]
            return self.guarded(kind, f"len({v}) {sign} {value}", v, single)
        if keyword == "required" and all(isinstance(n, str) for n in value):
            names = self.constant(frozenset(value))
            return self.guarded("object", f"{v}.keys() >= {names}", v, single)
        if keyword == "properties" and isinstance(value, dict):
            tests = [
                f"({self.constant(name)} not in {v} or "
                f"{self.expression(sub, f'{v}[{self.constant(name)}]', seen)})"
                for name, sub in value.items()
            ]
            return self.guarded("object", " and ".join(tests or ["True"]), v, single)
        if keyword == "additionalProperties" and value is False:
            allowed = self.constant(frozenset(schema.get("properties", {})))
            return self.guarded("object", f"{v}.keys() <= {allowed}", v, single)
        if keyword == "items" and isinstance(value, dict):
            item = self.variable()
            test = f"all({self.expression(value, item, seen)} for {item} in {v})"
            return self.guarded("array", test, v, single)
        if keyword == "const" and isinstance(value, SCALARS):
            c = self.constant(value)
            return f"(type({v}) is type({c}) and {v} == {c})"
        if keyword == "enum" and all(isinstance(c, SCALARS) for c in value):
            options = self.constant(tuple(value))
            return f"any(type({v}) is type(_o) and {v} == _o for _o in {options})"
        raise Uncompilable(f"keyword {keyword!r} is not compiled")

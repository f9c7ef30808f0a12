"""Cell parsers: each turns one stripped, non-empty CSV cell into a value or raises.

A parser raises ``ValueError`` whose message is the reason shown to the user, e.g.
``must be between 1 and 5 (got 6)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection
from datetime import date
from typing import Any

Parser = Callable[[str], Any]

LIST_SEPARATOR = ";"
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_BOOLEANS = {"true": True, "false": False}


def _show(bound: float) -> str:
    """Format a bound for a message: ``0``, ``0.5``, ``2,147,483,647``."""
    return f"{int(bound):,}" if float(bound).is_integer() else repr(bound)


def _check_range(value, raw: str, minimum, maximum, limit) -> None:
    """Raise when ``value`` lies outside [minimum, maximum] or above ``limit``.

    ``maximum`` is a rule of the domain (a rating is at most 5); ``limit`` is the
    largest value the database column can store.
    """
    too_low = minimum is not None and value < minimum
    too_high = maximum is not None and value > maximum
    if (too_low or too_high) and minimum is not None and maximum is not None:
        raise ValueError(
            f"must be between {_show(minimum)} and {_show(maximum)} (got {raw})"
        )
    if too_low:
        raise ValueError(f"must be at least {_show(minimum)} (got {raw})")
    if too_high:
        raise ValueError(f"must be at most {_show(maximum)} (got {raw})")
    if limit is not None and abs(value) > limit:
        raise ValueError(f"is too large to store (at most {_show(limit)}, got {raw})")


def text(max_length: int) -> Parser:
    """Return a parser for free text of at most ``max_length`` characters."""

    def parse(raw: str) -> str:
        if len(raw) > max_length:
            raise ValueError(
                f"must be at most {max_length} characters (got {len(raw)})"
            )
        return raw

    return parse


def integer(
    minimum: int | None = None,
    maximum: int | None = None,
    limit: int | None = None,
) -> Parser:
    """Return a parser for a whole number within the given bounds."""

    def parse(raw: str) -> int:
        if not _INTEGER.fullmatch(raw):
            raise ValueError(f"must be a whole number (got {raw!r})")
        value = int(raw)
        _check_range(value, raw, minimum, maximum, limit)
        return value

    return parse


def number(
    minimum: float | None = None,
    maximum: float | None = None,
    limit: float | None = None,
    places: int | None = None,
) -> Parser:
    """Return a parser for a finite decimal number, rounded to ``places`` if given."""

    def parse(raw: str) -> float:
        if not _NUMBER.fullmatch(raw):
            raise ValueError(f"must be a number (got {raw!r})")
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number (got {raw})")
        _check_range(value, raw, minimum, maximum, limit)
        # Round as the database column will, so re-imports compare equal.
        return value if places is None else round(value, places)

    return parse


def day(raw: str) -> date:
    """Parse a ``YYYY-MM-DD`` date."""
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"must be a date YYYY-MM-DD (got {raw!r})") from None


def boolean(raw: str) -> bool:
    """Parse ``true`` or ``false`` (any case)."""
    try:
        return _BOOLEANS[raw.lower()]
    except KeyError:
        raise ValueError(f"must be true or false (got {raw!r})") from None


def choice(values: Collection[str], noun: str, upper: bool = False) -> Parser:
    """Return a parser accepting one of ``values`` (case-insensitive)."""

    def parse(raw: str) -> str:
        value = raw.upper() if upper else raw.lower()
        if value not in values:
            raise ValueError(f"unknown {noun} {raw!r}")
        return value

    return parse


def choice_list(
    values: Collection[str], noun: str, upper: bool = False, minimum: int = 0
) -> Parser:
    """Return a parser for ``;``-separated items of ``values`` (duplicates dropped)."""

    def parse(raw: str) -> list[str]:
        items = [item.strip() for item in raw.split(LIST_SEPARATOR) if item.strip()]
        found = [item.upper() if upper else item.lower() for item in items]
        unknown = [
            item
            for item, value in zip(items, found, strict=True)
            if value not in values
        ]
        if unknown:
            names = ", ".join(repr(item) for item in unknown)
            raise ValueError(f"unknown {noun}(s) {names}")
        if len(found) < minimum:
            raise ValueError(f"must list at least {minimum} {noun}")
        return list(dict.fromkeys(found))

    return parse

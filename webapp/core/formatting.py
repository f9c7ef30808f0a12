"""How numbers, money, plurals and times read on every page (and in messages).

One rule each, used by the Jinja filters, flash messages and match reasons:
counts have thousands separators, money carries the marketplace currency
(setting ``CURRENCY``), nouns agree with their count, and times are the stored
naive UTC shown with a "UTC" marker.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern
from flask import current_app, has_app_context
from markupsafe import Markup

# The pages are written in English; numbers and plurals follow its rules.
LOCALE = Locale.parse("en_US")
DEFAULT_CURRENCY = "USD"
NOTHING = "–"


def currency() -> str:
    """Return the marketplace currency code (the app's ``CURRENCY`` setting)."""
    if has_app_context():
        return current_app.config.get("CURRENCY") or DEFAULT_CURRENCY
    return DEFAULT_CURRENCY


@lru_cache(maxsize=32)
def _pattern(text: str) -> NumberPattern:
    """Return a parsed number pattern (Babel's format_* parse theirs on every call)."""
    return parse_pattern(text)


def number(value: float | None, digits: int = 0) -> str:
    """Format a count or amount with thousands separators: 15659 -> 15,659."""
    if value is None:
        return NOTHING
    if type(value) is int:
        return _count(value, digits)
    return _grouped(value, digits)


@lru_cache(maxsize=4096)
def _count(value: int, digits: int) -> str:
    """``number`` of a whole count; match reasons word the same small counts often."""
    return _grouped(value, digits)


def _grouped(value: float, digits: int) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return _pattern(pattern).apply(value, LOCALE)


def money(value: float | None) -> str:
    """Format an amount of money in the marketplace currency, no cents: $12,500."""
    if value is None:
        return NOTHING
    if not 0 <= value < 1e15:  # Babel keeps "-$0"; huge floats print as Decimals
        return _money(value, currency())
    # Whole units are shown, so the amount is rounded first (half to even, as
    # Babel rounds) and each whole amount is worded once.
    return _whole_money(round(value), currency())


@lru_cache(maxsize=4096)
def _whole_money(amount: int, code: str) -> str:
    return _money(amount, code)


def _money(amount: float, code: str) -> str:
    return _pattern("¤#,##0").apply(
        amount, LOCALE, currency=code, currency_digits=False
    )


@lru_cache(maxsize=1)
def _plural_rule():
    """Return the locale's plural rule (looking it up costs more than applying it)."""
    return LOCALE.plural_form


def noun(count: float, singular: str, plural_form: str | None = None) -> str:
    """Return the form of a noun that agrees with ``count``: run for 1, runs for 2.

    :param plural_form: the plural when it is not ``singular + "s"``.
    """
    if _plural_rule()(abs(count)) == "one":
        return singular
    return plural_form or singular + "s"


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """Return the count and the noun that agrees with it: 1 run, 15,659 outcomes."""
    return f"{number(count)} {noun(count, singular, plural_form)}"


def compact(value: float | None) -> str:
    """Format a big count compactly: 1530000 -> 1.5M, 40000 -> 40k."""
    if value is None:
        return NOTHING
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            digits = f"{value / threshold:.1f}".removesuffix(".0")
            return f"{digits}{suffix}"
    return f"{value:.0f}"


def percent(value: float | None, digits: int = 0) -> str:
    """Format a fraction as a percentage: 0.253 -> 25 %."""
    return NOTHING if value is None else f"{value * 100:.{digits}f} %"


def utc_text(moment: datetime | None) -> str:
    """Return a stored naive-UTC time as text with its zone: 2025-03-01 14:05 UTC."""
    return NOTHING if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def utc(moment: datetime | None) -> Markup:
    """Return a stored naive-UTC time as a ``<time>`` element marked UTC."""
    if moment is None:
        return Markup(NOTHING)
    return Markup('<time datetime="{}Z">{}</time>').format(
        moment.isoformat(timespec="seconds"), utc_text(moment)
    )

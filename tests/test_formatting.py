"""The cached number and money wording says exactly what Babel's format_* say."""

from __future__ import annotations

import random

from babel.numbers import format_currency, format_decimal

from webapp.core.formatting import LOCALE, money, noun, number


def test_money_and_number_match_babel_for_many_amounts():
    rng = random.Random(3)
    amounts = [rng.uniform(-1e6, 1e10) for _ in range(3000)]
    amounts += [k + 0.5 for k in range(-20, 2000)] + [-0.5, -0.4, 0.0, 2.675]
    for value in amounts:
        expected = format_currency(
            value, "USD", format="¤#,##0", locale=LOCALE, currency_digits=False
        )
        assert money(value) == expected, value
        assert number(value) == format_decimal(value, format="#,##0", locale=LOCALE)
        whole = int(value)
        assert number(whole) == format_decimal(whole, format="#,##0", locale=LOCALE)
    assert number(1234.5678, 2) == "1,234.57"


def test_nouns_agree_with_their_count():
    assert noun(1, "run") == "run"
    assert noun(0, "run") == noun(2, "run") == "runs"
    assert noun(1.5, "day") == "days"

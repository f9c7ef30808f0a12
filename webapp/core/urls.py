"""URL parts the database can hold: ``<int:...>`` stops at the largest id a column stores."""

from __future__ import annotations

from functools import partial

from flask import Flask
from werkzeug.routing import IntegerConverter

# Integer primary keys and version numbers are 32-bit on PostgreSQL.
MAX_DATABASE_INT = 2**31 - 1


def init_app(app: Flask) -> None:
    """Make ``<int:...>`` in every route match only ids the database can hold.

    Werkzeug's converter accepts any number of digits, which the database then
    refuses (SQLite: OverflowError, PostgreSQL: integer out of range); with a
    maximum, a larger number simply matches no route: 404. A route may still
    give its own ``<int(max=...):...>``.
    """
    app.url_map.converters["int"] = partial(IntegerConverter, max=MAX_DATABASE_INT)

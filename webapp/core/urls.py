"""URL parts the database can hold: ``<int:...>`` stops at the largest id a column stores."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

# Integer primary keys and version numbers are 32-bit on PostgreSQL.
MAX_DATABASE_INT = 2**31 - 1


class DatabaseIntConverter(IntegerConverter):
    """An ``<int:...>`` URL part between 0 and MAX_DATABASE_INT; a larger one is a 404.

    Werkzeug's own converter accepts any number of digits, which the database
    then refuses (SQLite: OverflowError, PostgreSQL: integer out of range).
    """

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(
            map,
            fixed_digits=fixed_digits,
            min=min,
            max=MAX_DATABASE_INT if max is None else max,
            signed=signed,
        )


def init_app(app: Flask) -> None:
    """Make ``<int:...>`` in every route refuse ids the database cannot hold."""
    app.url_map.converters["int"] = DatabaseIntConverter

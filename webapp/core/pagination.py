"""One way to paginate a list page: the page number read safely, clamped to the pages there are."""

from __future__ import annotations

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from webapp.extensions import db

# No list has this many pages; anything larger is clamped before it reaches SQL.
MAX_PAGE = 10**6
# The ``?page=`` parameter of the JSON API's paginated lists, as OpenAPI declares it.
API_PAGE_PARAMETERS = [
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1},
    }
]


def page_number() -> int:
    """Return ``?page=`` as a page number of at least 1 (1 when it is not a number)."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


def paginate(query, per_page: int | None = None) -> Pagination:
    """Return the requested page of ``query``, its number capped before it reaches SQL.

    A huge ``page=`` (twenty digits) would overflow the SQL OFFSET. A page past
    the end comes back empty with the real total, and the pagination macro says
    so and links to the last page.
    """
    per_page = per_page or int(current_app.config["PER_PAGE"])
    return db.paginate(query, page=page_number(), per_page=per_page, error_out=False)

"""The audit log through the API: ``GET /api/v1/audit`` with the page's filters (admins)."""

from __future__ import annotations

from datetime import date

from flask import current_app, jsonify
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.operations import audit
from webapp.operations.api_docs import PARAMETERS
from webapp.views.api.auth import require_admin
from webapp.views.api.blueprint import bp
from webapp.views.api.validation import fail, query_args


def day(values: dict, name: str, problems: list[dict[str, str]]) -> date | None:
    """Return the query's day ``name`` (None when absent); note a bad one."""
    raw = values.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append({"path": name, "message": f"{raw!r} is not a day (YYYY-MM-DD)"})
        return None


@bp.get("/audit")
def audit_entries():
    """List admin actions, newest first, filtered by action, actor and day."""
    require_admin()
    values = query_args(PARAMETERS)
    problems: list[dict[str, str]] = []
    filters = audit.Filters(
        action=values.get("action"),
        actor=values.get("actor"),
        since=day(values, "since", problems),
        until=day(values, "until", problems),
    )
    problems += filters.problems()
    if problems:
        raise fail(problems)
    page, per_page = values["page"], int(current_app.config["PER_PAGE"])
    query = filters.query()
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))
    return jsonify(
        entries=[audit.describe(row) for row in rows],
        page=page,
        pages=-(-total // per_page),
        total=total,
    )

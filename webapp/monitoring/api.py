"""Live monitoring through the API: the dashboard's figures as JSON (admins)."""

from __future__ import annotations

from flask import current_app, jsonify

from webapp.monitoring import report
from webapp.registry.plugins import installed_types
from webapp.views.api.auth import require_admin
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError


@bp.get("/monitoring/<model_type>")
def monitoring(model_type: str):
    """Return a model type's live figures per version and window, drift and alerts."""
    require_admin()
    try:
        figures = report.type_report(model_type)
    except report.UnknownModelType:
        names = ", ".join(sorted(installed_types(current_app).names()))
        raise ApiError(
            404,
            "not_found",
            f"No model type {model_type[:64]!r}; installed: {names}.",
        ) from None
    return jsonify(figures)

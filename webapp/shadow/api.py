"""Shadow scoring through the API (admins): start, stop, and list a type's periods."""

from __future__ import annotations

from flask import current_app, jsonify
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ModelVersion
from webapp.registry.plugins import installed_types
from webapp.shadow import store
from webapp.shadow.describe import describe
from webapp.views.api.auth import require_admin
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError


def installed_or_404(model_type: str) -> None:
    """Raise 404 unless ``model_type`` is installed."""
    if model_type not in installed_types(current_app):
        raise ApiError(404, "not_found", f"No model type {model_type[:64]!r}.")


def version_or_404(model_type: str, version: int) -> ModelVersion:
    """Return version ``version`` of ``model_type``, or raise 404."""
    installed_or_404(model_type)
    found = db.session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_type == model_type, ModelVersion.version == version
        )
    )
    if found is None:
        raise ApiError(404, "not_found", f"No version {version} of {model_type}.")
    return found


@bp.get("/models/<model_type>/shadow")
def shadow_periods(model_type: str):
    """List a model type's latest shadow periods, newest first."""
    require_admin()
    installed_or_404(model_type)
    return jsonify(periods=[describe(p) for p in store.periods(model_type)])


@bp.post("/models/<model_type>/versions/<int:version>/shadow/start")
def shadow_start(model_type: str, version: int):
    """Start shadowing serving with a version of the type."""
    user = require_admin()
    target = version_or_404(model_type, version)
    try:
        period = store.start(target, user)
    except store.ShadowError as error:
        raise ApiError(409, "cannot_shadow", str(error)) from None
    return jsonify(describe(period)), 201


@bp.post("/models/<model_type>/versions/<int:version>/shadow/stop")
def shadow_stop(model_type: str, version: int):
    """Stop a version's shadow period."""
    user = require_admin()
    target = version_or_404(model_type, version)
    try:
        period = store.stop(target, user)
    except store.ShadowError as error:
        raise ApiError(409, "not_shadowing", str(error)) from None
    return jsonify(describe(period))

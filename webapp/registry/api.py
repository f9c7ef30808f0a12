"""The model registry through the API: installed types, versions, deployments (admins)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, url_for
from sqlalchemy import select

from webapp.core.timeutil import iso_utc
from webapp.extensions import db
from webapp.models import Deployment, ModelVersion
from webapp.registry import versions
from webapp.registry.contract import ModelType
from webapp.registry.plugins import installed_types
from webapp.views.api.auth import require_admin
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError


def type_summary(model_type: ModelType) -> dict[str, Any]:
    """Return an installed model type with its active version (or null)."""
    active = versions.active_version(model_type.name)
    return {
        "type": model_type.name,
        "title": model_type.title,
        "description": model_type.description,
        "target": model_type.target,
        "score_label": model_type.score_label,
        "active_version": versions.summary(active, model_type.summary_metrics)
        if active
        else None,
        "links": {"self": url_for("api.model", model_type=model_type.name)},
    }


def deployment_summary(deployment: Deployment) -> dict[str, Any]:
    """Return the JSON description of one change of the active version."""
    return {
        "id": deployment.id,
        "action": deployment.action,
        "from_version": deployment.from_version.version
        if deployment.from_version
        else None,
        "to_version": deployment.to_version.version if deployment.to_version else None,
        "actor": deployment.actor.email if deployment.actor else None,
        "note": deployment.note,
        "created_at": iso_utc(deployment.created_at),
    }


@bp.get("/models")
def models():
    """List every installed model type (plugins included) with its active version."""
    require_admin()
    installed = installed_types(current_app)
    return jsonify(models=[type_summary(model_type) for model_type in installed])


@bp.get("/models/<model_type>")
def model(model_type: str):
    """Show every version of a model type, newest first, and its deployments."""
    require_admin()
    installed = installed_types(current_app)
    if model_type not in installed:
        raise ApiError(
            404,
            "not_found",
            f"No model type {model_type[:64]!r}; installed: {', '.join(installed.names())}.",
        )
    rows = db.session.scalars(
        select(ModelVersion)
        .where(ModelVersion.model_type == model_type)
        .order_by(ModelVersion.version.desc())
    )
    kind = installed.get(model_type)
    return jsonify(
        model=type_summary(kind),
        versions=[versions.summary(version, kind.summary_metrics) for version in rows],
        deployments=[deployment_summary(d) for d in versions.deployments(model_type)],
    )

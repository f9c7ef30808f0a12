"""Start and stop shadowing from the model type's page (admins, CSRF, flash)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user

from webapp.core.security import admin_required
from webapp.registry.forms import RegistryActionForm
from webapp.registry.views import model_type_or_404, version_or_404
from webapp.shadow import store

bp = Blueprint("shadow", __name__, url_prefix="/models")


@bp.route("/<model_type>/versions/<int:version>/shadow/start", methods=["POST"])
@admin_required
def start(model_type: str, version: int):
    """Start shadowing serving with a version of the type."""
    model_type_or_404(model_type)
    target = version_or_404(model_type, version)
    if not RegistryActionForm().validate_on_submit():
        flash("The form was not valid; reload the page and try again.", "warning")
    else:
        try:
            store.start(target, current_user._get_current_object())
        except store.ShadowError as error:
            flash(str(error), "warning")
        else:
            flash(
                f"{target.label} now shadows serving: it scores every request "
                "served from now on, off the request path; its scores are never "
                "shown.",
                "success",
            )
    return redirect(url_for("models.detail", model_type=model_type) + "#shadow")


@bp.route("/<model_type>/versions/<int:version>/shadow/stop", methods=["POST"])
@admin_required
def stop(model_type: str, version: int):
    """Stop a version's shadow period."""
    model_type_or_404(model_type)
    target = version_or_404(model_type, version)
    if not RegistryActionForm().validate_on_submit():
        flash("The form was not valid; reload the page and try again.", "warning")
    else:
        try:
            period = store.stop(target, current_user._get_current_object())
        except store.ShadowError as error:
            flash(str(error), "warning")
        else:
            flash(
                f"{target.label} stopped shadowing after {period.scored:,} "
                "scored requests.",
                "success",
            )
    return redirect(url_for("models.detail", model_type=model_type) + "#shadow")

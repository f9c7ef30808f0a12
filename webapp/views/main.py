"""The home page: where each role starts."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    """Send admins to the outcome overview and members to their collaborations."""
    if current_user.is_admin:
        return redirect(url_for("outcomes.index"))
    return redirect(url_for("collaborations.index"))

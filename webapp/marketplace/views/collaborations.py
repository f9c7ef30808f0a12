"""Collaborations: a member's own list and the rating form."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from webapp.core.forms import valid_values
from webapp.core.pagination import paginate
from webapp.extensions import db
from webapp.learning import retraining
from webapp.marketplace import ratings
from webapp.marketplace.forms import CollaborationFilterForm, OutcomeForm
from webapp.models import Collaboration, Company, Influencer

bp = Blueprint("collaborations", __name__, url_prefix="/collaborations")


def visible_collaborations():
    """Return a select of what the current user may see: theirs, or all for admins."""
    if current_user.is_admin:
        return db.select(Collaboration).order_by(
            Collaboration.proposed_on.desc(), Collaboration.id.desc()
        )
    return ratings.collaborations_of(current_user)


@bp.route("/")
def index():
    """List the user's collaborations, newest first."""
    filters = CollaborationFilterForm(request.args)
    query = visible_collaborations()
    values = valid_values(filters)
    if values.get("status"):
        query = query.where(Collaboration.status == values["status"])
    if values.get("q"):
        pattern = f"%{values['q'].strip()}%"
        query = query.where(
            or_(
                Collaboration.external_id.ilike(pattern),
                Collaboration.influencer.has(Influencer.handle.ilike(pattern)),
                Collaboration.company.has(Company.name.ilike(pattern)),
            )
        )
    page = paginate(query.options(selectinload(Collaboration.outcomes)))
    return render_template(
        "collaborations/index.html", page=page, filters=filters, side=current_user.side
    )


def own_collaboration(external_id: str) -> Collaboration:
    """Return the collaboration if the current user is a party to it, else 404."""
    collaboration = db.session.scalar(
        db.select(Collaboration).where(Collaboration.external_id == external_id)
    )
    if collaboration is None or not ratings.is_party(current_user, collaboration):
        abort(404)
    return collaboration


@bp.route("/<external_id>/rate", methods=["GET", "POST"])
def rate(external_id: str):
    """Rate (or re-rate) a finished collaboration from the user's side."""
    collaboration = own_collaboration(external_id)
    if not collaboration.is_finished:
        flash("Only completed or cancelled collaborations can be rated.", "warning")
        return redirect(url_for("collaborations.index"))
    existing = collaboration.outcome_for(current_user.side)
    form = OutcomeForm(obj=existing) if request.method == "GET" else OutcomeForm()
    if request.method == "GET" and existing is not None:
        form.would_collaborate_again.data = existing.would_collaborate_again
    if form.validate_on_submit():
        ratings.save_outcome(collaboration, current_user, form.data)
        retraining.retrain_after_new_outcomes(current_app._get_current_object())
        flash(
            "Rating updated." if existing else "Thank you, your rating is saved.",
            "success",
        )
        return redirect(url_for("collaborations.index"))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "collaborations/rate.html",
            collaboration=collaboration,
            form=form,
            existing=existing,
        ),
        status,
    )

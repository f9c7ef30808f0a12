"""Collaborations: the list, the "To rate" queue, each one's page, its actions, rating."""

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
from webapp.core.taxonomy import FINISHED_STATUSES
from webapp.extensions import db
from webapp.learning import retraining
from webapp.marketplace import lifecycle, ratings, timeline, to_rate
from webapp.marketplace.forms import (
    CollaborationFilterForm,
    OutcomeForm,
    TransitionForm,
)
from webapp.models import Collaboration, Company, Influencer, StatusChange
from webapp.serving import pair_types, roi
from webapp.views.auth import safe_next

bp = Blueprint("collaborations", __name__, url_prefix="/collaborations")
ACTION_PATH = "<any(" + ", ".join(lifecycle.ACTIONS) + "):action>"


def visible_collaborations():
    """Return a select of what the current user may see: theirs, or all for admins."""
    if current_user.is_admin:
        return db.select(Collaboration).order_by(
            Collaboration.proposed_on.desc(), Collaboration.id.desc()
        )
    return ratings.collaborations_of(current_user)


@bp.app_template_global()
def to_rate_count() -> int:
    """Return how many collaborations wait for the signed-in user's rating (nav)."""
    if not current_user.is_authenticated:
        return 0
    return to_rate.count_awaiting(current_user)


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


@bp.route("/to-rate")
def to_rate_queue():
    """List the finished collaborations still waiting for my side's rating."""
    page = paginate(to_rate.awaiting_rating(current_user))
    return render_template(
        "collaborations/to_rate.html", page=page, side=current_user.side
    )


def visible_collaboration(external_id: str) -> Collaboration:
    """Return the collaboration if the user may see it (a party, or an admin), else 404."""
    collaboration = db.session.scalar(
        db.select(Collaboration)
        .where(Collaboration.external_id == external_id)
        .options(
            selectinload(Collaboration.outcomes),
            selectinload(Collaboration.status_changes).joinedload(StatusChange.actor),
        )
    )
    if collaboration is None:
        abort(404)
    if not current_user.is_admin and not ratings.is_party(current_user, collaboration):
        abort(404)
    return collaboration


def render_detail(
    collaboration: Collaboration,
    forms: dict[str, TransitionForm] | None = None,
    error: str | None = None,
):
    """Render a collaboration's page with the actions the user may take now."""
    forms = forms or {}
    user = current_user._get_current_object()
    actions = [
        (
            rule,
            forms.get(rule.action) or TransitionForm(prefix=rule.action, formdata=None),
        )
        for rule in lifecycle.available(user, collaboration)
    ]
    return render_template(
        "collaborations/detail.html",
        collaboration=collaboration,
        actions=actions,
        steps=timeline.steps(collaboration),
        match=timeline.match_summary(collaboration),
        expected_roi=roi.estimate_pairs(
            [(collaboration.influencer, collaboration.company)],
            [collaboration.budget],
            source="web",
        )[0],
        declared=pair_types.answers_for_pair(
            collaboration.influencer,
            collaboration.company,
            collaboration.budget,
            source="web",
        ),
        side=lifecycle.side_of(user, collaboration),
        party_name=timeline.party_name,
        error=error,
    )


@bp.route("/<external_id>")
def detail(external_id: str):
    """Show one collaboration: parties, budget, history, match, ratings, actions."""
    return render_detail(visible_collaboration(external_id))


@bp.post(f"/<external_id>/{ACTION_PATH}")
def act(external_id: str, action: str):
    """Accept, decline, withdraw, start, complete or cancel a collaboration."""
    collaboration = visible_collaboration(external_id)
    form = TransitionForm(prefix=action)
    user = current_user._get_current_object()
    if not form.validate_on_submit():
        return render_detail(collaboration, forms={action: form}), 422
    try:
        lifecycle.transition(
            collaboration,
            action,
            user,
            note=form.note.data,
            completed_on=form.completed_on.data,
        )
    except lifecycle.NotAllowed as refused:
        abort(403, str(refused))
    except lifecycle.WrongStatus as conflict:
        return render_detail(collaboration, error=str(conflict)), 409
    except lifecycle.InvalidInput as invalid:
        form[invalid.field].errors = [str(invalid)]
        return render_detail(collaboration, forms={action: form}), 422
    rule = lifecycle.TRANSITIONS[action]
    ran = rule.target in FINISHED_STATUSES and action not in lifecycle.UNSTARTED_ENDINGS
    if ran and lifecycle.side_of(user, collaboration):
        flash(
            f"{external_id} is {rule.done}. Both sides are asked to rate it: "
            "here it is, with anything else waiting for your rating.",
            "success",
        )
        return redirect(url_for(".to_rate_queue"))
    flash(f"{external_id} is {rule.done}.", "success")
    return redirect(url_for(".detail", external_id=external_id))


def own_collaboration(external_id: str) -> Collaboration:
    """Return the collaboration if the current user is a party to it, else 404."""
    collaboration = db.session.scalar(
        db.select(Collaboration).where(Collaboration.external_id == external_id)
    )
    if collaboration is None or not ratings.is_party(current_user, collaboration):
        abort(404)
    return collaboration


def back_to_list() -> str:
    """Return where the rating form came from (same site only), else the list."""
    target = request.args.get("next")
    return safe_next(target) if target else url_for(".index")


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
        return redirect(back_to_list())
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "collaborations/rate.html",
            collaboration=collaboration,
            form=form,
            existing=existing,
            # Only the checked target reaches the page (link and form action).
            back=back_to_list() if request.args.get("next") else None,
        ),
        status,
    )

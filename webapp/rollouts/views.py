"""Rollout pages (admins): the list, the set-up form, the detail with its actions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.core.forms import options
from webapp.core.pagination import paginate
from webapp.core.security import admin_required
from webapp.experiments.store import pair_types
from webapp.models import Rollout
from webapp.registry.choices import version_choices
from webapp.registry.versions import RegistryActionError
from webapp.rollouts import actions, store
from webapp.rollouts.forms import ACTIVE_BASELINE, RolloutActionForm, RolloutForm
from webapp.serving.state import serving_state

bp = Blueprint("rollouts", __name__, url_prefix="/rollouts")
DONE = {
    "start": "started",
    "pause": "paused",
    "resume": "resumed",
    "advance": "advanced",
    "rollback": "rolled back",
}


def rollout_or_404(rollout_id: int) -> Rollout:
    """Return rollout ``rollout_id``, or answer 404."""
    rollout = store.by_id(rollout_id)
    if rollout is None:
        abort(404)
    return rollout


@bp.route("/")
@admin_required
def index():
    """List rollouts, newest first, with status and progress."""
    page = paginate(
        select(Rollout).order_by(Rollout.created_at.desc(), Rollout.id.desc())
    )
    return render_template("rollouts/index.html", page=page)


def prepared_form() -> RolloutForm:
    """Return the set-up form with its model type and version choices."""
    form = RolloutForm()
    types = pair_types()
    form.model_type.choices = options((name, name) for name in types)
    versions = version_choices(types)
    form.candidate_version.choices = versions
    form.baseline_version.choices = [
        *options([(ACTIVE_BASELINE, "The active version")]),
        *versions,
    ]
    return form


def apply_problems(form: RolloutForm, problems: list[dict]) -> None:
    """Show the store's problems on the form's fields (the rest on the form)."""
    form.form_errors = []
    for item in problems:
        head = (
            item["path"].split("/")[-1]
            if "guardrails" in item["path"]
            else item["path"]
        )
        if head in form:
            form[head].errors = [*form[head].errors, item["message"]]
        else:
            form.form_errors.append(f"{item['path']}: {item['message']}")


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    """Set up a staged rollout as pending."""
    form = prepared_form()
    status = 200
    if form.validate_on_submit():
        setup = form.setup()
        if setup is None:
            status = 422
        else:
            try:
                rollout = store.create_rollout(
                    setup, current_user._get_current_object()
                )
            except store.RolloutError as error:
                apply_problems(form, error.problems)
                status = 422
            else:
                flash(f"Rollout {rollout.id} created; start it when ready.", "success")
                return redirect(url_for(".detail", rollout_id=rollout.id))
    elif form.is_submitted():
        status = 422
    return render_template("rollouts/new.html", form=form), status


@bp.route("/<int:rollout_id>")
@admin_required
def detail(rollout_id: int):
    """Show the rollout's progress, its evidence now and its timeline."""
    rollout = rollout_or_404(rollout_id)
    return render_template(
        "rollouts/detail.html",
        rollout=rollout,
        numbers=actions.current_numbers(rollout),
        form=RolloutActionForm(),
    )


def act(rollout_id: int, action: str):
    """Take an action from the detail page's buttons; flash what happened."""
    rollout = rollout_or_404(rollout_id)
    if not RolloutActionForm().validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for(".detail", rollout_id=rollout_id))
    try:
        actions.take(rollout, action, current_user._get_current_object())
    except store.WrongStatus as error:
        flash(str(error), "warning")
    except RegistryActionError as error:
        serving_state().routing.warm()  # a failed promote paused it
        flash(f"The candidate could not be promoted: {error}", "danger")
    else:
        serving_state().routing.warm()  # this process switches at once
        flash(
            f"Rollout {rollout_id} {DONE[action]}: now {rollout.status} at "
            f"{rollout.current_percent:g} %.",
            "success",
        )
    return redirect(url_for(".detail", rollout_id=rollout_id))


@bp.route("/<int:rollout_id>/start", methods=["POST"])
@admin_required
def start(rollout_id: int):
    """Start a pending rollout."""
    return act(rollout_id, "start")


@bp.route("/<int:rollout_id>/pause", methods=["POST"])
@admin_required
def pause(rollout_id: int):
    """Pause a running rollout."""
    return act(rollout_id, "pause")


@bp.route("/<int:rollout_id>/resume", methods=["POST"])
@admin_required
def resume(rollout_id: int):
    """Resume a paused rollout."""
    return act(rollout_id, "resume")


@bp.route("/<int:rollout_id>/advance", methods=["POST"])
@admin_required
def advance(rollout_id: int):
    """Move a running rollout to its next step."""
    return act(rollout_id, "advance")


@bp.route("/<int:rollout_id>/rollback", methods=["POST"])
@admin_required
def rollback(rollout_id: int):
    """Roll a rollout back."""
    return act(rollout_id, "rollback")

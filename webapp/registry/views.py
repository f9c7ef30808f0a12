"""Models: every installed model type, its versions side by side, promote and roll back."""

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
from sqlalchemy import func, select

from webapp.core.pagination import paginate
from webapp.core.security import admin_required
from webapp.extensions import db
from webapp.learning.training_runs import active_run
from webapp.models import Deployment, ModelVersion, TrainingRun
from webapp.registry import reports, versions
from webapp.registry.contract import ModelType
from webapp.registry.forms import PromoteForm, RegistryActionForm
from webapp.registry.plugins import installed_types
from webapp.serving import serving_state
from webapp.serving.loading import serving_note
from webapp.serving.predict import recheck_refused
from webapp.shadow import store as shadow_store

bp = Blueprint("models", __name__, url_prefix="/models")

# Newest versions listed on a type's page; older ones stay in the database.
VERSIONS_SHOWN = 50
MAX_COMPARED = 3


def model_type_or_404(name: str) -> ModelType:
    """Return the installed model type ``name``, or answer 404."""
    types = installed_types(current_app)
    if name not in types:
        abort(404)
    return types.get(name)


def latest_run(model_type: str) -> TrainingRun | None:
    """Return the newest training run of ``model_type``."""
    return db.session.scalar(
        select(TrainingRun)
        .where(TrainingRun.model_type == model_type)
        .order_by(TrainingRun.created_at.desc(), TrainingRun.id.desc())
        .limit(1)
    )


def version_count(model_type: str) -> int:
    """Return how many versions of ``model_type`` exist."""
    return db.session.scalar(
        select(func.count())
        .select_from(ModelVersion)
        .where(ModelVersion.model_type == model_type)
    )


def compared(rows: list[ModelVersion], wanted: list[str]) -> list[ModelVersion]:
    """Return the versions to compare: those ticked, else the active and newest candidate."""
    by_number = {str(v.version): v for v in rows}
    chosen = [by_number[w] for w in dict.fromkeys(wanted) if w in by_number]
    if not chosen:
        active = [v for v in rows if v.status == "active"]
        candidates = [v for v in rows if v.status == "candidate"]
        chosen = active[:1] + candidates[:1] or rows[:1]
    return sorted(chosen[:MAX_COMPARED], key=lambda v: -v.version)


@bp.route("/")
@admin_required
def index():
    """List every installed model type with its active version and latest run."""
    rows = [
        {
            "type": model_type,
            "active": versions.active_version(model_type.name),
            "latest_run": latest_run(model_type.name),
            "training": active_run(model_type.name),
            "versions": version_count(model_type.name),
        }
        for model_type in installed_types(current_app)
    ]
    return render_template("models/index.html", rows=rows)


@bp.route("/<model_type>")
@admin_required
def detail(model_type: str):
    """Show a type's versions side by side, charts, and the deployment history."""
    return render_detail(model_type_or_404(model_type))


def render_detail(kind: ModelType, confirmation: dict | None = None, status: int = 200):
    """Render a type's page; ``confirmation`` asks to confirm a worse promotion."""
    model_type = kind.name
    shown = list(
        db.session.scalars(
            select(ModelVersion)
            .where(ModelVersion.model_type == model_type)
            .order_by(ModelVersion.version.desc())
            .limit(VERSIONS_SHOWN)
        )
    )
    recheck_refused(shown)
    chosen = compared(shown, request.args.getlist("compare"))
    focus = next(
        (v for v in chosen if str(v.version) == request.args.get("focus")),
        chosen[0] if chosen else None,
    )
    history = paginate(
        select(Deployment)
        .where(Deployment.model_type == model_type)
        .order_by(Deployment.created_at.desc(), Deployment.id.desc())
    )
    active = versions.active_version(model_type)
    page = render_template(
        "models/detail.html",
        kind=kind,
        versions=shown,
        total=version_count(model_type),
        compared=chosen,
        focus=focus,
        columns=reports.metric_columns(shown),
        best=reports.best_values(shown),
        charts=reports.chart_data(chosen),
        plugin_charts=reports.plugin_charts(chosen),
        plugin_tables=reports.plugin_tables(focus),
        importance=reports.importance(focus),
        candidates=reports.candidate_rows(focus),
        ranking=reports.ranking_table(focus),
        previous=versions.rollback_target(model_type),
        active=active,
        regressions={v.id: versions.regression(v, active) for v in shown},
        confirmation=confirmation,
        training=active_run(model_type),
        history=history,
        action_form=RegistryActionForm(),
        shadow_periods=shadow_store.periods(model_type),
        shadowing=shadow_store.open_period(model_type),
        shadow_refusals={v.id: shadow_store.refusal(v) for v in shown},
        serving_now=serving_note(serving_state().artifacts, focus),
    )
    return page, status


def version_or_404(model_type: str, number: int) -> ModelVersion:
    """Return version ``number`` of ``model_type``, or answer 404."""
    version = db.session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_type == model_type, ModelVersion.version == number
        )
    )
    if version is None:
        abort(404)
    return version


def deployed(deployment: Deployment) -> str:
    """Describe a deployment for the flash message."""
    before = deployment.from_version
    was = f" (was v{before.version})" if before is not None else ""
    return f"{deployment.to_version.label} is now active{was}."


@bp.route("/<model_type>/versions/<int:version>/promote", methods=["POST"])
@admin_required
def promote(model_type: str, version: int):
    """Make a candidate or archived version the active one.

    A version that scores worse on held-out data than the active one is promoted
    only once the admin turns on ``confirm``; until then the page asks (422).
    """
    kind = model_type_or_404(model_type)
    target = version_or_404(model_type, version)
    form = PromoteForm()
    if not form.validate_on_submit():
        flash(" ".join(form.note.errors) or "The form was not valid.", "warning")
        return redirect(url_for(".detail", model_type=model_type))
    try:
        deployment = versions.promote(
            target,
            current_user._get_current_object(),
            form.note.data or None,
            confirm_worse=form.confirm.data,
        )
    except versions.ConfirmationNeeded as needed:
        form.confirm.errors = ["Turn this on to promote it anyway."]
        confirmation = {"version": target, "form": form, "message": str(needed)}
        return render_detail(kind, confirmation=confirmation, status=422)
    except versions.RegistryActionError as error:
        flash(str(error), "warning")
    else:
        serving_state().routing.warm()
        flash(deployed(deployment), "success")
    return redirect(url_for(".detail", model_type=model_type))


@bp.route("/<model_type>/rollback", methods=["POST"])
@admin_required
def rollback(model_type: str):
    """Reactivate the version that was active before the current one."""
    model_type_or_404(model_type)
    form = RegistryActionForm()
    if not form.validate_on_submit():
        flash(" ".join(form.note.errors) or "The form was not valid.", "warning")
    else:
        try:
            deployment = versions.rollback(
                model_type, current_user._get_current_object(), form.note.data or None
            )
        except versions.RegistryActionError as error:
            flash(str(error), "warning")
        else:
            serving_state().routing.warm()
            flash(f"Rolled back: {deployed(deployment)}", "success")
    return redirect(url_for(".detail", model_type=model_type))

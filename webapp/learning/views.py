"""Training runs: the list, the train form, and a run's live progress."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from webapp.core.forms import options, valid_values
from webapp.core.pagination import paginate
from webapp.core.security import admin_required
from webapp.extensions import db
from webapp.learning import training_runs
from webapp.learning.forms import RunFilterForm, TrainForm
from webapp.models import TrainingRun
from webapp.registry import versions
from webapp.registry.contract import ModelType
from webapp.registry.plugins import installed_types

bp = Blueprint("runs", __name__, url_prefix="/runs")
PARAMS_PREFIX = "params-"


def json_safe(value: Any) -> Any:
    """Turn form values (Decimal, dates) into JSON values for the run's params."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


@bp.route("/")
@admin_required
def index():
    """List training runs, newest first, filtered by type and status."""
    filters = RunFilterForm(request.args)
    names = sorted(
        set(installed_types(current_app).names())
        | set(db.session.scalars(db.select(TrainingRun.model_type).distinct()))
    )
    filters.type.choices = options([("", "Any type"), *((n, n) for n in names)])
    values = valid_values(filters)
    query = db.select(TrainingRun).order_by(
        TrainingRun.created_at.desc(), TrainingRun.id.desc()
    )
    if values.get("type"):
        query = query.where(TrainingRun.model_type == values["type"])
    if values.get("status"):
        query = query.where(TrainingRun.status == values["status"])
    page = paginate(query)
    return render_template("runs/index.html", page=page, filters=filters)


def model_type_or_404(name: str | None) -> ModelType:
    """Return the installed model type ``name``, or answer 404."""
    types = installed_types(current_app)
    if not name or name not in types:
        abort(404)
    return types.get(name)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    """Show the train form of a model type and start a run from it."""
    if not request.args.get("type"):
        return redirect(url_for("models.index"))
    kind = model_type_or_404(request.args["type"])
    form = TrainForm()
    formdata = request.form if request.method == "POST" else None
    params_form = kind.params_form(formdata, prefix=PARAMS_PREFIX)
    if request.method == "POST":
        valid = form.validate_on_submit()
        # Validate both forms so every field error is shown at once.
        valid = params_form.validate() and valid
        if valid:
            return start(kind, json_safe(params_form.data))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "runs/new.html",
            kind=kind,
            form=form,
            params_form=params_form,
            training=training_runs.active_run(kind.name),
        ),
        status,
    )


def start(kind: ModelType, params: dict[str, Any]):
    """Start a run and send the admin to its page (or to the run already going)."""
    try:
        run = training_runs.start_training(
            kind.name,
            params,
            trigger="manual",
            user=current_user._get_current_object(),
        )
    except training_runs.TrainingBusy as busy:
        flash(f"{busy} Follow it here.", "warning")
        return redirect(url_for(".detail", run_id=busy.run.id))
    flash(f"Training run {run.id} of {kind.name} is queued.", "success")
    return redirect(url_for(".detail", run_id=run.id))


def run_or_404(run_id: int) -> TrainingRun:
    """Return run ``run_id``, or answer 404."""
    run = db.session.get(TrainingRun, run_id)
    if run is None:
        abort(404)
    return run


def status_payload(run: TrainingRun) -> dict[str, Any]:
    """Return the run's status JSON plus the link to its version, once there is one."""
    payload = training_runs.status(run)
    payload["version_url"] = None
    if run.version is not None:
        # Compare the new version with the one serving now.
        shown = [run.version.version]
        active = versions.active_version(run.model_type)
        if active is not None and active.id != run.version.id:
            shown.append(active.version)
        payload["version_url"] = url_for(
            "models.detail",
            model_type=run.model_type,
            focus=run.version.version,
            compare=shown,
        )
    return payload


@bp.route("/<int:run_id>")
@admin_required
def detail(run_id: int):
    """Show a run with a progress bar that follows the worker live."""
    run = run_or_404(run_id)
    return render_template("runs/detail.html", run=run, status=status_payload(run))


@bp.route("/<int:run_id>/status.json")
@admin_required
def status(run_id: int):
    """Answer the run's progress, stage and result as JSON (polled by the run page)."""
    response = jsonify(status_payload(run_or_404(run_id)))
    response.headers["Cache-Control"] = "no-store"
    return response

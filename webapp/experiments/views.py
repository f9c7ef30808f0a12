"""Experiment pages (admins): the list, the set-up form, the detail with its actions."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from webapp.core.forms import options
from webapp.core.pagination import paginate
from webapp.core.security import admin_required
from webapp.experiments import charts, outcomes, store
from webapp.experiments.forms import (
    METRIC_LABELS,
    RULE_BASED,
    ExperimentActionForm,
    ExperimentChangeForm,
    ExperimentForm,
)
from webapp.experiments.results import METRICS
from webapp.models import Experiment
from webapp.registry.choices import version_choices
from webapp.registry.versions import RegistryActionError
from webapp.serving.state import serving_state

bp = Blueprint("experiments", __name__, url_prefix="/experiments")
# The API's variant keys that the form's variant rows name otherwise.
VARIANT_FIELDS = {"model_version_id": "model_version"}


def experiment_or_404(key: str) -> Experiment:
    """Return the experiment ``key``, or answer 404."""
    experiment = store.by_key(key)
    if experiment is None:
        abort(404)
    return experiment


def headline(experiment: Experiment) -> dict | None:
    """Return the first treatment's primary-metric row (its lift), None before data."""
    if experiment.status == "draft":
        return None
    document = outcomes.results(experiment)
    return {"row": document["variants"][1], "winner": document["winner"]}


@bp.route("/")
@admin_required
def index():
    """List experiments, newest first, with status and headline lift."""
    page = paginate(
        select(Experiment).order_by(Experiment.created_at.desc(), Experiment.id.desc())
    )
    lifts = {experiment.id: headline(experiment) for experiment in page.items}
    return render_template("experiments/index.html", page=page, lifts=lifts)


def serves_choices(model_types: list[str]):
    """Return the "serves" options: the rule-based scorer, then each type's versions."""
    return [
        *options([(RULE_BASED, "Rule-based scorer")]),
        *version_choices(model_types),
    ]


def prepared_form() -> ExperimentForm:
    """Return the set-up form with its choices and as many variant rows as asked."""
    form = ExperimentForm()
    types = store.pair_types()
    form.model_type.choices = options((name, name) for name in types)
    try:
        rows = int(request.args.get("variants", "2"))
    except ValueError:
        rows = 2
    while len(form.variants) < min(max(rows, 2), store.MAX_VARIANTS):
        form.variants.append_entry()
    choices = serves_choices(types)
    for row in form.variants:
        row.model_version.choices = choices
    if request.method == "GET":
        for index, row in enumerate(form.variants):
            if not row.key.data:
                row.key.data = "control" if index == 0 else f"treatment-{index}"
                row.weight.data = round(1 / len(form.variants), 4)
    return form


def sample_sizes(form: ExperimentForm) -> list[dict]:
    """Return, per metric, the baseline and the units per variant the MDE needs."""
    mde = float(form.mde.data) if form.mde.data is not None else store.DEFAULT_MDE
    given = float(form.baseline.data) if form.baseline.data is not None else None
    rows = []
    for metric in METRICS:
        chosen = metric == form.metric.data
        baseline, size = store.required_sample_size(
            metric, mde, given if chosen else None
        )
        rows.append(
            {
                "metric": metric,
                "label": METRIC_LABELS[metric],
                "baseline": baseline,
                "size": size,
                "chosen": chosen,
            }
        )
    return rows


def apply_problems(form: ExperimentForm, problems: list[dict]) -> None:
    """Show the service's problems on the form's fields (the rest on the form)."""
    rows = [row for row in form.variants if row.key.data]
    form.form_errors = []
    for item in problems:
        head, _, rest = item["path"].partition("/")
        index, _, field = rest.partition("/")
        if head == "variants" and index.isdigit() and int(index) < len(rows):
            row = rows[int(index)]
            target = getattr(row, VARIANT_FIELDS.get(field, field or "key"), row.key)
            target.errors = [*target.errors, item["message"]]
        elif head in form and head != "variants":
            form[head].errors = [*form[head].errors, item["message"]]
        else:
            form.form_errors.append(f"{item['path']}: {item['message']}")


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    """Set up an experiment as a draft; shows the sample size the MDE needs."""
    form = prepared_form()
    status = 200
    if form.validate_on_submit() and not form.preview.data:
        try:
            experiment = store.create_experiment(
                form.setup(), current_user._get_current_object()
            )
        except store.ExperimentError as error:
            apply_problems(form, error.problems)
            status = 422
        else:
            flash(f"Experiment {experiment.key} created as a draft.", "success")
            return redirect(url_for(".detail", key=experiment.key))
    elif request.method == "POST" and form.errors:
        status = 422
    return (
        render_template("experiments/new.html", form=form, sizes=sample_sizes(form)),
        status,
    )


@bp.route("/<key>")
@admin_required
def detail(key: str):
    """Show the set-up, history, per-variant results, SRM verdict and charts."""
    experiment = experiment_or_404(key)
    document = outcomes.results(experiment)
    # Interleaving's numbers are preferences per unit, not a metric per day.
    daily = outcomes.daily_rows(experiment) if experiment.kind == "ab" else []
    shown = (
        [
            charts.cumulative_chart(experiment, daily),
            charts.lift_chart(experiment, daily),
        ]
        if daily
        else []
    )
    return render_template(
        "experiments/detail.html",
        experiment=experiment,
        results=document,
        charts=shown,
        form=ExperimentActionForm(),
        change_form=change_form(experiment),
        metric_labels=METRIC_LABELS,
    )


def change_form(experiment: Experiment, formdata=None) -> ExperimentChangeForm:
    """Return the weights-and-coverage form, filled with the experiment's values."""
    form = ExperimentChangeForm(
        formdata=formdata,
        data={"coverage": experiment.coverage, "weights": experiment.weights},
    )
    while len(form.weights) < len(experiment.variants):
        form.weights.append_entry()
    for entry, variant in zip(form.weights, experiment.variants, strict=False):
        entry.label.text = f"Weight of {variant.key}"
    return form


@bp.route("/<key>/edit", methods=["POST"])
@admin_required
def edit(key: str):
    """Change weights or coverage; on a running experiment the warning is flashed."""
    experiment = experiment_or_404(key)
    form = change_form(experiment, request.form)
    if not form.validate_on_submit() or len(form.weights.data) != len(
        experiment.variants
    ):
        flash(
            "Nothing was changed: give a coverage and every weight in 0..1.", "warning"
        )
        return redirect(url_for(".detail", key=key))
    changes = {
        "coverage": float(form.coverage.data),
        "variants": [
            {"key": variant.key, "weight": float(weight)}
            for variant, weight in zip(
                experiment.variants, form.weights.data, strict=True
            )
        ],
    }
    try:
        warnings = store.change_running(
            experiment, changes, current_user._get_current_object()
        )
    except store.WrongStatus as error:
        flash(str(error), "warning")
    except store.ExperimentError as error:
        flash("Nothing was changed: " + str(error), "warning")
    else:
        serving_state().routing.warm()
        flash("Saved. " + " ".join(warnings) if warnings else "Saved.", "success")
    return redirect(url_for(".detail", key=key))


def act(key: str, action: str):
    """Take a status action from the detail page's buttons; flash what happened."""
    experiment = experiment_or_404(key)
    form = ExperimentActionForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "warning")
        return redirect(url_for(".detail", key=key))
    user = current_user._get_current_object()
    try:
        if action == "conclude":
            message = store.conclude(experiment, user, ship=form.ship.data)
        else:
            getattr(store, action)(experiment, user)
            message = f"Experiment {key} is {experiment.status}."
    except store.WrongStatus as error:
        flash(str(error), "warning")
    except (store.ExperimentError, RegistryActionError) as error:
        flash(f"Nothing was shipped: {error}", "warning")
    else:
        serving_state().routing.warm()
        flash(message, "success")
    return redirect(url_for(".detail", key=key))


@bp.route("/<key>/start", methods=["POST"])
@admin_required
def start(key: str):
    """Start a draft experiment."""
    return act(key, "start")


@bp.route("/<key>/stop", methods=["POST"])
@admin_required
def stop(key: str):
    """Stop a running experiment."""
    return act(key, "stop")


@bp.route("/<key>/conclude", methods=["POST"])
@admin_required
def conclude(key: str):
    """Conclude an experiment, shipping the winner when asked."""
    return act(key, "conclude")

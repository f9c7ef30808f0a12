"""Training through the API: queue a run, follow its progress (admins only)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, url_for
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField

from webapp.extensions import db
from webapp.learning import training_runs
from webapp.models import TrainingRun
from webapp.registry.contract import ModelType
from webapp.registry.plugins import installed_types
from webapp.views.api.auth import require_admin
from webapp.views.api.blueprint import bp
from webapp.views.api.errors import ApiError
from webapp.views.api.validation import fail, json_body

MAX_ID = 2**31 - 1


def form_data(model_type: ModelType, given: dict[str, Any]) -> MultiDict:
    """Return ``given`` over the params form's defaults, as the form would post it."""
    data = MultiDict()
    for field in model_type.params_form():
        value = given.get(field.name, field.data)
        if isinstance(field, BooleanField):
            # A checkbox posts a value when checked and nothing when not.
            if value is True:
                data.add(field.name, "y")
            elif value not in (False, None):
                data.add(field.name, str(value))
        elif isinstance(value, list):
            for item in value:
                data.add(field.name, str(item))
        elif value is not None:
            data.add(field.name, str(value))
    return data


def validated_params(model_type: ModelType, given: dict[str, Any]) -> dict[str, Any]:
    """Return the type's training params checked by its own params form (422)."""
    form = model_type.params_form(formdata=form_data(model_type, given))
    known = {field.name for field in form}
    problems = [
        {
            "path": f"params/{name}",
            "message": f"{model_type.name} has no parameter {name}",
        }
        for name in sorted(given)
        if name not in known
    ]
    if not form.validate():
        problems += [
            {"path": f"params/{name}", "message": "; ".join(map(str, messages))}
            for name, messages in form.errors.items()
        ]
    if problems:
        raise fail(problems)
    return form.data


def run_link(run: TrainingRun) -> str:
    """Return the API URL of ``run``."""
    return url_for("api.run", run_id=run.id)


@bp.post("/train")
def train():
    """Queue a training run of a model type; answer 202 with the run's link."""
    user = require_admin()
    body = json_body("TrainRequest")
    registry = installed_types(current_app)
    if body["type"] not in registry:
        raise ApiError(
            404,
            "not_found",
            f"No model type {body['type']!r}; installed: {', '.join(registry.names())}.",
        )
    params = validated_params(registry.get(body["type"]), body.get("params", {}))
    try:
        run = training_runs.start_training(body["type"], params, "api", user)
    except training_runs.TrainingBusy as busy:
        raise ApiError(
            409,
            "training_busy",
            {
                "message": str(busy),
                "run_id": busy.run.id,
                "status": busy.run.status,
                "links": {"self": run_link(busy.run)},
            },
        ) from None
    except RedisError as error:
        # start_training has already marked the run failed with the reason.
        raise ApiError(
            503, "queue_unavailable", f"The job queue does not answer: {error}"
        ) from None
    link = run_link(run)
    body = {"run_id": run.id, "status": run.status, "links": {"self": link}}
    return jsonify(body), 202, {"Location": link}


@bp.get("/runs/<int:run_id>")
def run(run_id: int):
    """Show a training run's status, progress and resulting version."""
    require_admin()
    # Ids are 32-bit integers; larger numbers would overflow the database driver.
    found = db.session.get(TrainingRun, run_id) if run_id <= MAX_ID else None
    if found is None:
        raise ApiError(404, "not_found", f"No training run {run_id}.")
    return jsonify(training_runs.status(found))

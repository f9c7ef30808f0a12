"""Training commands: ``train`` and its helpers (parse --param, follow progress)."""

from __future__ import annotations

import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.datastructures import MultiDict

from webapp.extensions import db
from webapp.models import TrainingRun
from webapp.registry.plugins import installed_types


@click.command("train")
@click.argument("model_type")
@click.option(
    "--wait", is_flag=True, help="Show progress until the run ends; exit 1 if it fails."
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A training parameter of the model type (repeatable), e.g. algorithm=random_forest.",
)
@click.option(
    "--timeout", default=3600, show_default=True, help="Seconds --wait waits."
)
@with_appcontext
def train_command(model_type, wait, params, timeout) -> None:
    """Queue a training run of MODEL_TYPE for a worker (e.g. match_success)."""
    from webapp.learning import training_runs

    try:
        run = training_runs.start_training(
            model_type, parse_params(model_type, params), trigger="cli"
        )
    except KeyError:
        raise click.ClickException(f"unknown model type {model_type!r}") from None
    except training_runs.TrainingBusy as busy:
        raise click.ClickException(str(busy)) from None
    click.echo(f"Queued training run {run.id} ({run.job_id}).")
    if wait and not wait_for_run(run.id, timeout):
        sys.exit(1)


POLL_SECONDS = 1.0


def parse_params(model_type: str, pairs: tuple[str, ...]) -> dict:
    """Validate KEY=VALUE pairs with the model type's own params form."""
    form_class = installed_types(current_app).get(model_type).params_form
    data = MultiDict()
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        data.add(key.strip(), value.strip())
    defaults = form_class()
    unknown = set(data) - {field.name for field in defaults}
    if unknown:
        raise click.BadParameter(
            f"unknown parameter(s): {', '.join(sorted(unknown))}", param_hint="--param"
        )
    for field in defaults:
        if field.name not in data and field.data is not None:
            data.add(field.name, str(field.data))
    form = form_class(formdata=data)
    if not form.validate():
        problems = "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()
        )
        raise click.BadParameter(problems, param_hint="--param")
    return {field.name: field.data for field in form}


def wait_for_run(run_id: int, timeout: float) -> bool:
    """Print a run's progress until it ends; return True when it succeeded."""
    deadline = time.monotonic() + timeout
    with click.progressbar(length=100, label="Training", show_percent=True) as bar:
        shown = 0
        while True:
            db.session.expire_all()
            run = db.session.get(TrainingRun, run_id)
            done = int(run.progress * 100)
            if done > shown:
                bar.update(done - shown)
                shown = done
            bar.label = f"Training: {run.stage[:40]:<40}"
            if run.status in ("succeeded", "failed"):
                break
            if time.monotonic() > deadline:
                click.echo(
                    f"\nGave up waiting after {timeout:.0f} s; run {run_id} is {run.status}.",
                    err=True,
                )
                return False
            time.sleep(POLL_SECONDS)
    if run.status == "failed":
        click.echo(f"Run {run_id} failed: {run.error}", err=True)
        return False
    click.echo(f"Run {run_id} succeeded: {run.version.label} ({run.version.status}).")
    return True

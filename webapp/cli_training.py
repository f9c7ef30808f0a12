"""Helpers of ``flask train``: parse --param values and follow a run's progress."""

from __future__ import annotations

import time

import click
from flask import current_app
from werkzeug.datastructures import MultiDict

from webapp.extensions import db
from webapp.model_types import registry_of
from webapp.models import TrainingRun

POLL_SECONDS = 1.0


def parse_params(model_type: str, pairs: tuple[str, ...]) -> dict:
    """Validate KEY=VALUE pairs with the model type's own params form."""
    form_class = registry_of(current_app).get(model_type).params_form
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

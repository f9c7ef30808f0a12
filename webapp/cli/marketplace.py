"""Marketplace data commands: ``seed-demo`` and ``import-csv``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

# seed-demo's option names for the counts (the other parameters keep their own).
SEED_OPTION_NAMES = {
    "n_influencers": "influencers",
    "n_companies": "companies",
    "n_collaborations": "collaborations",
}


def world_parameter_options(command):
    """Add one option per ``WorldParameters`` field, its help and default documented."""
    from webapp.marketplace.demo.parameters import parameter_fields

    for item in reversed(parameter_fields()):
        name = SEED_OPTION_NAMES.get(item.name, item.name).replace("_", "-")
        low, high = item.metadata["min"], item.metadata["max"]
        kind = (
            click.IntRange(int(low))
            if item.type in (int, "int")
            else click.FloatRange(low, high)
        )
        if item.name == "seed":
            kind = click.INT
        command = click.option(
            f"--{name}",
            item.name,
            default=item.default,
            show_default=True,
            type=kind,
            help=item.metadata["help"],
        )(command)
    return command


@click.command("seed-demo")
@world_parameter_options
@click.option(
    "--if-empty", is_flag=True, help="Do nothing when the marketplace already has data."
)
@with_appcontext
def seed_demo_command(if_empty, **parameters) -> None:
    """Generate a synthetic marketplace with a known ground truth.

    Every option below is a parameter of the world (WorldParameters); the
    ground truth goes to the demo_ground_truth table, which no model reads.
    """
    from webapp.marketplace import demo

    if if_empty and not demo.marketplace_is_empty():
        click.echo("The marketplace already has data; not seeding.")
        return
    if not demo.marketplace_is_empty():
        raise click.ClickException(
            "The marketplace already has data; seed-demo only fills an empty database "
            "(use --if-empty to skip quietly)."
        )
    try:
        params = demo.WorldParameters(**parameters)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error
    with click.progressbar(
        length=100, label="Seeding demo world", show_percent=True
    ) as bar:
        done = [0]

        def progress(fraction: float, stage: str) -> None:
            bar.label = f"Seeding: {stage:<28}"
            step = int(fraction * 100) - done[0]
            if step > 0:
                bar.update(step)
                done[0] += step

        report = demo.seed_world(params=params, progress=progress)
    click.echo(report.summary())


@click.command("import-csv")
@click.option(
    "--influencers", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--companies", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--collaborations", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--outcomes", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--niche-activity", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@with_appcontext
def import_csv_command(**files) -> None:
    """Import CSV files, all or nothing: any bad row means nothing is written.

    Columns are documented in the README; lists are separated by ';', dates are
    YYYY-MM-DD and booleans true/false. Re-importing an external_id updates it.
    """
    from webapp.marketplace import importer

    paths = {kind: path for kind, path in files.items() if path is not None}
    if not paths:
        raise click.UsageError(
            "Give at least one file, e.g. --influencers influencers.csv"
        )
    report = importer.import_files(paths)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.errors:
        for error in report.errors:
            click.echo(str(error), err=True)
        click.echo(
            f"Import refused: {len(report.errors)} bad row(s); nothing was written.",
            err=True,
        )
        sys.exit(1)
    click.echo(report.summary())
    from webapp.learning import retraining

    if "outcomes" in paths:
        retraining.retrain_after_new_outcomes(current_app._get_current_object())
    if "niche_activity" in paths:
        retraining.retrain_after_new_activity(current_app._get_current_object())

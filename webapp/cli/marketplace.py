"""Marketplace data commands: ``seed-demo`` and ``import-csv``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("seed-demo")
@click.option(
    "--influencers",
    default=2000,
    show_default=True,
    type=click.IntRange(1),
    help="Influencers to create.",
)
@click.option(
    "--companies",
    default=300,
    show_default=True,
    type=click.IntRange(1),
    help="Companies to create.",
)
@click.option(
    "--collaborations",
    default=10000,
    show_default=True,
    type=click.IntRange(1),
    help="Collaborations to create.",
)
@click.option(
    "--seed", default=42, show_default=True, help="Random seed (same seed, same world)."
)
@click.option(
    "--if-empty", is_flag=True, help="Do nothing when the marketplace already has data."
)
@with_appcontext
def seed_demo_command(influencers, companies, collaborations, seed, if_empty) -> None:
    """Generate a synthetic marketplace with a known ground truth."""
    from webapp.marketplace import demo

    if if_empty and not demo.marketplace_is_empty():
        click.echo("The marketplace already has data; not seeding.")
        return
    if not demo.marketplace_is_empty():
        raise click.ClickException(
            "The marketplace already has data; seed-demo only fills an empty database "
            "(use --if-empty to skip quietly)."
        )
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

        report = demo.seed_world(
            n_influencers=influencers,
            n_companies=companies,
            n_collaborations=collaborations,
            seed=seed,
            progress=progress,
        )
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

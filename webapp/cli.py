"""``flask --app wsgi <command>``: the operator's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.extensions import db
from webapp.taxonomy import ROLES

DEMO_ADMIN = ("admin@matchloop.test", "admin-demo-pass")
DEMO_MEMBER = ("brand@matchloop.test", "brand-demo-pass")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (applies Alembic migrations)."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo(f"Database is up to date: {safe_url()}")


def safe_url() -> str:
    """Return the database URL without its password, for messages."""
    return db.engine.url.render_as_string(hide_password=True)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option(
    "--influencer",
    "influencer_id",
    metavar="EXTERNAL_ID",
    help="Link to this influencer.",
)
@click.option(
    "--company", "company_id", metavar="EXTERNAL_ID", help="Link to this company."
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input."
)
@with_appcontext
def create_user_command(email, role, influencer_id, company_id, password_stdin) -> None:
    """Create a user who can sign in with EMAIL (prompts for the password)."""
    from webapp import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            email, password, role=role, influencer=influencer_id, company=company_id
        )
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    link = f", linked to {user.side} {influencer_id or company_id}" if user.side else ""
    click.echo(f"Created {user.role} {user.email}{link}.")


@click.command("create-demo-users")
@with_appcontext
def create_demo_users_command() -> None:
    """Create the demo admin and a demo brand member if missing; print logins."""
    from webapp import accounts

    for line in accounts.ensure_demo_users(DEMO_ADMIN, DEMO_MEMBER):
        click.echo(line)


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
    from webapp import demo

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
    from webapp import importer

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
    if "outcomes" in paths:
        from webapp import retraining

        retraining.retrain_after_new_outcomes(current_app._get_current_object())


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
    from webapp import training_runs
    from webapp.cli_training import parse_params, wait_for_run

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


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="Queue to listen on (repeatable; default all).",
)
@click.option("--name", default=None, help="Worker name shown in monitoring.")
@with_appcontext
def worker_command(burst, queues, name) -> None:
    """Run an RQ worker inside the app (training and maintenance jobs)."""
    from webapp import worker_runtime

    worker_runtime.run_worker(queues=tuple(queues) or None, burst=burst, name=name)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the RQ cron scheduler that enqueues the periodic jobs."""
    from webapp import worker_runtime

    worker_runtime.run_scheduler()


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="PORT", default=5000, show_default=True, type=int)
@with_appcontext
def up_command(host, port) -> None:
    """Start embedded Redis, a worker, the scheduler and the web server; Ctrl-C stops."""
    from webapp import accounts, devstack

    logins = accounts.demo_logins(DEMO_ADMIN, DEMO_MEMBER)
    banner = ["  Demo logins:", *logins] if logins else []
    devstack.run(current_app._get_current_object(), host=host, port=port, banner=banner)


@click.command("create-token")
@click.argument("email")
@click.option(
    "--name", default="", help="What the token is for (shown by list-tokens)."
)
@with_appcontext
def create_token_command(email, name) -> None:
    """Create an API token for the user with EMAIL and print it once.

    Only a hash is stored: copy the token now, it cannot be shown again. Send it
    as 'Authorization: Bearer <token>' to /api/v1; revoke it with revoke-token.
    """
    from webapp.models import ApiToken, User

    user = User.by_email(email)
    if user is None:
        raise click.ClickException(f"no user with email {email.strip().lower()}")
    row, plain = ApiToken.issue(user, name=name.strip()[:80])
    db.session.commit()
    # The token alone on stdout (TOKEN=$(flask create-token ...)); the hint on stderr.
    click.echo(plain)
    click.echo(
        f"Token {row.id} ({row.prefix}...) for {user.role} {user.email}. Copy it now: "
        "only its hash is stored, it cannot be shown again.\n"
        'Use it: curl -H "Authorization: Bearer $TOKEN" '
        "http://127.0.0.1:5000/api/v1/health",
        err=True,
    )


def find_tokens(prefix_or_id: str) -> list:
    """Return the tokens matching an id, a shown prefix or the whole token."""
    from webapp.models import ApiToken

    value = prefix_or_id.strip().removesuffix("...")
    if value.isdigit():
        token = db.session.get(ApiToken, int(value))
        return [token] if token else []
    if len(value) > ApiToken.__table__.c.prefix.type.length:
        # Longer than any prefix: the whole token was given.
        return list(
            db.session.scalars(
                db.select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(value))
            )
        )
    return list(db.session.scalars(db.select(ApiToken).where(ApiToken.prefix == value)))


@click.command("revoke-token")
@click.argument("prefix_or_id")
@with_appcontext
def revoke_token_command(prefix_or_id) -> None:
    """Revoke an API token, given its id or prefix (as list-tokens shows them).

    The whole token works too. A revoked token is refused from the next request on.
    """
    from webapp.timeutil import utcnow

    tokens = find_tokens(prefix_or_id)
    if not tokens:
        raise click.ClickException(f"no token matches {prefix_or_id!r}")
    if len(tokens) > 1:
        ids = ", ".join(str(token.id) for token in tokens)
        raise click.ClickException(
            f"{len(tokens)} tokens match {prefix_or_id!r} (ids {ids}); give the id"
        )
    token = tokens[0]
    if token.revoked_at is not None:
        click.echo(f"Token {token.id} ({token.prefix}...) was already revoked.")
        return
    token.revoked_at = utcnow()
    db.session.commit()
    click.echo(f"Revoked token {token.id} ({token.prefix}...) of {token.user.email}.")


def _when(moment) -> str:
    """Format a stored UTC time for the token list."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


@click.command("list-tokens")
@click.argument("email", required=False)
@with_appcontext
def list_tokens_command(email) -> None:
    """List API tokens (of one user when EMAIL is given), newest first.

    Shows id, prefix, owner, name, creation, last use and whether it is revoked;
    the tokens themselves are never stored, so they cannot be shown.
    """
    from webapp.models import ApiToken, User

    query = db.select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if email:
        user = User.by_email(email)
        if user is None:
            raise click.ClickException(f"no user with email {email.strip().lower()}")
        query = query.where(ApiToken.user_id == user.id)
    tokens = db.session.scalars(query).all()
    if not tokens:
        click.echo("No API tokens.")
        return
    click.echo(
        f"{'id':>5}  {'prefix':<13}  {'user':<30}  {'name':<20}  "
        f"{'created':<16}  {'last used':<16}  status"
    )
    for token in tokens:
        status = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "active"
        click.echo(
            f"{token.id:>5}  {token.prefix + '...':<13}  {token.user.email:<30}  "
            f"{token.name or '-':<20}  {_when(token.created_at):<16}  "
            f"{_when(token.last_used_at):<16}  {status}"
        )


COMMANDS = [
    init_db_command,
    create_user_command,
    create_demo_users_command,
    seed_demo_command,
    import_csv_command,
    train_command,
    worker_command,
    scheduler_command,
    up_command,
    create_token_command,
    revoke_token_command,
    list_tokens_command,
]

"""Account commands: users, demo users and API tokens."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from webapp.core.taxonomy import ROLES
from webapp.extensions import db


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
    from webapp.marketplace import accounts

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
    """Create the demo admin, brand and creator members if missing; print logins."""
    from webapp.marketplace import accounts

    for line in accounts.ensure_demo_users():
        click.echo(line)


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
    from webapp.cli.runtime import local_url
    from webapp.models import ApiToken, User

    user = User.by_email(email)
    if user is None:
        raise click.ClickException(f"no user with email {email.strip().lower()}")
    from webapp.operations import audit

    row, plain = ApiToken.issue(user, name=name.strip()[:80])
    db.session.flush()
    details = {"user": user.email, "name": row.name, "prefix": row.prefix}
    audit.record("token.create", "api_token", row.id, None, details, via="cli")
    db.session.commit()
    # The token alone on stdout (TOKEN=$(flask create-token ...)); the hint on stderr.
    click.echo(plain)
    click.echo(
        f"Token {row.id} ({row.prefix}...) for {user.role} {user.email}. Copy it now: "
        "only its hash is stored, it cannot be shown again.\n"
        'Use it: curl -H "Authorization: Bearer $TOKEN" '
        f"{local_url()}/api/v1/health",
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
    from webapp.core.timeutil import utcnow

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
    from webapp.operations import audit

    token.revoked_at = utcnow()
    details = {"user": token.user.email, "prefix": token.prefix}
    audit.record("token.revoke", "api_token", token.id, None, details, via="cli")
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

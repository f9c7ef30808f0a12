"""``flask --app wsgi <command>``: the operator's commands, grouped by area."""

from __future__ import annotations

import click


def commands() -> list[click.Command]:
    """Return every command the factory attaches to the app."""
    from webapp.cli import accounts, database, learning, marketplace, runtime

    return [
        database.init_db_command,
        accounts.create_user_command,
        accounts.create_demo_users_command,
        marketplace.seed_demo_command,
        marketplace.import_csv_command,
        learning.train_command,
        runtime.worker_command,
        runtime.scheduler_command,
        runtime.up_command,
        accounts.create_token_command,
        accounts.revoke_token_command,
        accounts.list_tokens_command,
    ]

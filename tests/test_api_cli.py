"""The token commands: create-token, revoke-token, list-tokens."""

from __future__ import annotations

import pytest
from api_support import ApiClient

from webapp.extensions import db
from webapp.models import ApiToken


def create(runner, email="admin@example.com", *extra):
    result = runner.invoke(args=["create-token", email, *extra])
    assert result.exit_code == 0, result.output
    plain = result.stdout.splitlines()[0]
    return plain, result


def tokens() -> list[ApiToken]:
    return db.session.scalars(db.select(ApiToken).order_by(ApiToken.id)).all()


def test_create_token_prints_a_working_token_once_and_stores_its_hash(
    runner, client, world, redis
):
    plain, result = create(runner, "Admin@Example.com", "--name", "ci deploy")
    assert plain.startswith("ml_") and len(plain) > 40
    assert result.stdout.strip() == plain
    assert result.output.count(plain) == 1
    assert "Authorization: Bearer $TOKEN" in result.stderr
    assert "cannot be shown again" in result.stderr
    (row,) = tokens()
    assert row.user_id == world["admin"].id and row.name == "ci deploy"
    assert row.token_hash == ApiToken.hash(plain) and plain not in row.token_hash
    ApiClient(client).call("GET", "/models", 200, token=plain)


def test_create_token_for_an_unknown_email_fails(runner, world):
    result = runner.invoke(args=["create-token", "nobody@example.com"])
    assert result.exit_code != 0
    assert "no user with email nobody@example.com" in result.output
    assert tokens() == []


@pytest.mark.parametrize("how", ["prefix", "prefix...", "id", "token"])
def test_revoke_token_refuses_it_from_then_on(runner, client, world, redis, how):
    plain, _ = create(runner)
    (row,) = tokens()
    api = ApiClient(client)
    api.call("GET", "/health", 200, token=plain)
    key = {
        "prefix": row.prefix,
        "prefix...": row.prefix + "...",
        "id": str(row.id),
        "token": plain,
    }[how]
    result = runner.invoke(args=["revoke-token", key])
    assert result.exit_code == 0, result.output
    assert f"Revoked token {row.id}" in result.output
    api.call("GET", "/health", 401, token=plain)
    again = runner.invoke(args=["revoke-token", key])
    assert again.exit_code == 0 and "already revoked" in again.output


def test_revoke_token_refuses_unknown_and_ambiguous_keys(runner, world):
    create(runner)
    create(runner, "brand@example.com")
    first, second = tokens()
    assert runner.invoke(args=["revoke-token", "ml_nothing"]).exit_code != 0
    assert runner.invoke(args=["revoke-token", "999"]).exit_code != 0
    second.prefix = first.prefix
    db.session.commit()
    result = runner.invoke(args=["revoke-token", first.prefix])
    assert result.exit_code != 0
    assert f"ids {first.id}, {second.id}" in result.output
    assert all(token.revoked_at is None for token in tokens())


def test_list_tokens_shows_prefixes_owners_and_status_never_tokens(runner, world):
    admin_plain, _ = create(runner, "admin@example.com", "--name", "ops")
    brand_plain, _ = create(runner, "brand@example.com")
    admin_row, brand_row = tokens()
    runner.invoke(args=["revoke-token", str(brand_row.id)])
    listing = runner.invoke(args=["list-tokens"])
    assert listing.exit_code == 0
    assert admin_plain not in listing.output and brand_plain not in listing.output
    lines = listing.output.splitlines()
    (admin_line,) = [line for line in lines if admin_row.prefix in line]
    (brand_line,) = [line for line in lines if brand_row.prefix in line]
    assert "admin@example.com" in admin_line and "ops" in admin_line
    assert admin_line.rstrip().endswith("active")
    assert "brand@example.com" in brand_line and "revoked" in brand_line
    only_brand = runner.invoke(args=["list-tokens", "brand@example.com"]).output
    assert brand_row.prefix in only_brand and admin_row.prefix not in only_brand


def test_list_tokens_when_there_are_none_and_for_unknown_users(runner, world):
    assert "No API tokens." in runner.invoke(args=["list-tokens"]).output
    unknown = runner.invoke(args=["list-tokens", "nobody@example.com"])
    assert unknown.exit_code != 0


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("create-token", ["EMAIL", "--name", "Bearer", "hash"]),
        ("revoke-token", ["PREFIX_OR_ID", "list-tokens"]),
        ("list-tokens", ["EMAIL", "revoked"]),
    ],
)
def test_token_commands_explain_themselves(runner, command, words):
    result = runner.invoke(args=[command, "--help"])
    assert result.exit_code == 0
    for word in words:
        assert word in result.output


@pytest.mark.parametrize("port, shown", [("8123", "8123"), (None, "5000")])
def test_create_token_hints_at_the_port_the_stack_serves_on(
    runner, world, monkeypatch, port, shown
):
    if port is None:
        monkeypatch.delenv("PORT", raising=False)
    else:
        monkeypatch.setenv("PORT", port)
    _, result = create(runner)
    assert f"http://127.0.0.1:{shown}/api/v1/health" in result.stderr

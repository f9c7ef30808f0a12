"""One email rule: every address an account can be created with signs in, and only those."""

from __future__ import annotations

import pytest
from conftest import PASSWORD

from webapp.core.emails import InvalidEmail, canonical_email
from webapp.marketplace import accounts
from webapp.models import User

# Addresses people really use, including the demo's special-use .test domain.
ACCEPTED = [
    ("admin@matchloop.test", "admin@matchloop.test"),
    ("  Brand@MatchLoop.TEST  ", "brand@matchloop.test"),
    ("first.last+tag@example.co.uk", "first.last+tag@example.co.uk"),
    ("o'neil@sub.example.org", "o'neil@sub.example.org"),
    ("zoë@example.com", "zoë@example.com"),
    ("user@bücher.example", "user@bücher.example"),
]
REFUSED = [
    "",
    "not-an-address",
    "two@@example.com",
    "a@localhost",
    "a@printer.local",
    "a@nowhere.invalid",
    "a@example",
    "space in@example.com",
    "x" * 250 + "@a.test",
]


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_the_rule_accepts_and_normalises(typed, stored):
    assert canonical_email(typed) == stored


@pytest.mark.parametrize("typed", REFUSED)
def test_the_rule_refuses_what_is_no_address(typed):
    with pytest.raises(InvalidEmail):
        canonical_email(typed)


@pytest.mark.parametrize(("typed", "stored"), ACCEPTED)
def test_every_address_an_account_is_created_with_signs_in(
    app, client, auth, typed, stored
):
    user = accounts.create_user(typed, PASSWORD)
    assert user.email == stored
    response = auth.login(typed)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/collaborations/").status_code == 200
    auth.logout()
    # However the member types it at sign-in.
    assert auth.login(stored.upper()).status_code == 302


@pytest.mark.parametrize("typed", REFUSED)
def test_what_cannot_be_created_is_refused_at_sign_in_too(app, auth, typed):
    with pytest.raises(accounts.AccountError, match="is not an email address"):
        accounts.create_user(typed, PASSWORD)
    response = auth.login(typed)
    assert response.status_code == 200
    assert User.by_email(typed) is None


def test_create_user_command_and_login_share_the_rule(app, runner, auth):
    result = runner.invoke(
        args=["create-user", " Ops@Matchloop.Test ", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created member ops@matchloop.test" in result.output
    assert auth.login("ops@matchloop.test").status_code == 302
    refused = runner.invoke(
        args=["create-user", "ops@localhost", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert refused.exit_code != 0
    assert "is not an email address" in refused.output


def test_a_duplicate_in_another_case_is_refused(app):
    accounts.create_user("dup@matchloop.test", PASSWORD)
    with pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_user("DUP@matchloop.test", PASSWORD)

"""The one email rule: what an account may be created with is what may sign in.

Every place that takes an address (``create-user``, the demo users, the login
form, user lookups) goes through :func:`canonical_email` or the
:class:`EmailAddress` form validator, so an account that could be created can
always sign in. Deliverability is not checked (no DNS at sign-in), and the
special-use ``.test`` domain is allowed: the demo logins live there. Other
special-use names (``.localhost``, ``.invalid``, ``.local``, ...) stay refused.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from wtforms.validators import ValidationError

# The column's length (RFC 5321 allows 254 characters in a path).
MAX_EMAIL_LENGTH = 254


class InvalidEmail(ValueError):
    """The text is not an email address an account can have."""


def canonical_email(value: str) -> str:
    """Return the stored form of a valid address (trimmed, lower-cased) or raise.

    :raises InvalidEmail: with a message fit to show the user.
    """
    text = (value or "").strip()
    if len(text) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(
            f"An email address has at most {MAX_EMAIL_LENGTH} characters."
        )
    try:
        checked = validate_email(
            text, check_deliverability=False, test_environment=True
        )
    except EmailNotValidError as error:
        raise InvalidEmail(str(error)) from None
    # Lower-case the whole address so uniqueness and sign-in ignore case.
    return checked.normalized.lower()


def lookup_key(value: str) -> str:
    """Return the form to look ``value`` up by: canonical when valid, else trimmed.

    Lookups never raise: an address that is not valid simply matches no account.
    """
    try:
        return canonical_email(value)
    except InvalidEmail:
        return (value or "").strip().lower()


class EmailAddress:
    """WTForms validator applying :func:`canonical_email` and storing its result."""

    def __call__(self, form, field) -> None:
        """Replace the field's data by the canonical address, or fail with why."""
        try:
            field.data = canonical_email(field.data or "")
        except InvalidEmail as error:
            raise ValidationError(str(error)) from None

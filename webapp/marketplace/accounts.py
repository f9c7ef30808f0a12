"""Creating accounts from the CLI and for the demo."""

from __future__ import annotations

from sqlalchemy import func

from webapp.extensions import db
from webapp.models import Collaboration, Company, Influencer, Outcome, User

MIN_PASSWORD_LENGTH = 8
# The demo logins `make run` prints (and creates when missing).
DEMO_ADMIN = ("admin@matchloop.test", "admin-demo-pass")
DEMO_MEMBER = ("brand@matchloop.test", "brand-demo-pass")


class AccountError(ValueError):
    """The account cannot be created as asked."""


def create_user(
    email: str,
    password: str,
    role: str = "member",
    influencer: str | None = None,
    company: str | None = None,
) -> User:
    """Create and commit a user, optionally linked to one influencer or company."""
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address")
    if User.by_email(email) is not None:
        raise AccountError(f"a user with email {email} already exists")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    if influencer and company:
        raise AccountError("link a user to an influencer or a company, not both")
    user = User(email=email, role=role)
    user.set_password(password)
    if influencer:
        user.influencer = _by_external_id(Influencer, influencer, "influencer")
    if company:
        user.company = _by_external_id(Company, company, "company")
    db.session.add(user)
    db.session.commit()
    return user


def _by_external_id(model, external_id: str, noun: str):
    """Return the row of ``model`` with ``external_id`` or raise AccountError."""
    row = db.session.scalar(db.select(model).where(model.external_id == external_id))
    if row is None:
        raise AccountError(f"no {noun} with external_id {external_id!r}")
    return row


def demo_company() -> Company | None:
    """Pick the company with the most finished collaborations its side has not rated."""
    rated = db.select(Outcome.collaboration_id).where(Outcome.rater_side == "company")
    return db.session.scalar(
        db.select(Company)
        .join(Collaboration, Collaboration.company_id == Company.id)
        .where(
            Collaboration.status.in_(("completed", "cancelled")),
            Collaboration.id.not_in(rated),
        )
        .group_by(Company.id)
        .order_by(func.count(Collaboration.id).desc(), Company.id)
        .limit(1)
    )


def ensure_demo_users(admin: tuple[str, str], member: tuple[str, str]) -> list[str]:
    """Create the demo admin and brand member when missing; return login lines."""
    lines = []
    if User.by_email(admin[0]) is None:
        create_user(*admin, role="admin")
    lines.append(f"  admin:  {admin[0]} / {admin[1]}")
    existing = User.by_email(member[0])
    if existing is None:
        company = demo_company()
        if company is None:
            lines.append(
                "  (no company with collaborations to rate: demo member not created)"
            )
            return lines
        existing = create_user(*member, company=company.external_id)
    lines.append(
        f"  member: {member[0]} / {member[1]} (rates for {existing.company.name})"
        if existing.company
        else f"  member: {member[0]} / {member[1]}"
    )
    return lines


def demo_logins(*logins: tuple[str, str]) -> list[str]:
    """Return "email / password" lines for the demo users that exist."""
    return [
        f"    {email} / {password}"
        for email, password in logins
        if User.by_email(email) is not None
    ]

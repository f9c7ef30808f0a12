"""Creating accounts from the CLI and for the demo."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from webapp.core.emails import InvalidEmail, canonical_email
from webapp.core.taxonomy import FINISHED_STATUSES
from webapp.extensions import db
from webapp.models import Collaboration, Company, Influencer, Outcome, User

MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class DemoLogin:
    """A demo account `make run` creates when missing and prints."""

    role: str  # how the banner names it: admin, brand, creator
    email: str
    password: str


DEMO_ADMIN = DemoLogin("admin", "admin@matchloop.test", "admin-demo-pass")
DEMO_BRAND = DemoLogin("brand", "brand@matchloop.test", "brand-demo-pass")
DEMO_CREATOR = DemoLogin("creator", "creator@matchloop.test", "creator-demo-pass")
DEMO_LOGINS = (DEMO_ADMIN, DEMO_BRAND, DEMO_CREATOR)


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
    try:
        # The rule the login form applies, so every account can sign in.
        email = canonical_email(email)
    except InvalidEmail as error:
        raise AccountError(
            f"{email.strip()!r} is not an email address: {error}"
        ) from None
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
    rated = select(Outcome.collaboration_id).where(Outcome.rater_side == "company")
    return db.session.scalar(
        select(Company)
        .join(Collaboration, Collaboration.company_id == Company.id)
        .where(
            Collaboration.status.in_(FINISHED_STATUSES),
            Collaboration.id.not_in(rated),
        )
        .group_by(Company.id)
        .order_by(func.count(Collaboration.id).desc(), Company.id)
        .limit(1)
    )


def demo_influencer() -> Influencer | None:
    """Pick an influencer with a brand's proposal to answer and the most left to rate."""
    rated = select(Outcome.collaboration_id).where(Outcome.rater_side == "influencer")
    to_rate = func.sum(
        case(
            (
                Collaboration.status.in_(FINISHED_STATUSES)
                & Collaboration.id.not_in(rated),
                1,
            ),
            else_=0,
        )
    )
    to_answer = func.sum(
        case(
            (
                (Collaboration.status == "proposed")
                & (Collaboration.proposer_side == "company"),
                1,
            ),
            else_=0,
        )
    )
    return db.session.scalar(
        select(Influencer)
        .join(Collaboration, Collaboration.influencer_id == Influencer.id)
        .group_by(Influencer.id)
        .having(to_answer + to_rate > 0)
        .order_by((to_answer > 0).desc(), to_rate.desc(), Influencer.id)
        .limit(1)
    )


def ensure_demo_users() -> list[str]:
    """Create the demo admin, brand and creator when missing; return banner lines.

    The brand acts for the company with the most collaborations left to rate;
    the creator for an influencer with a proposal to accept and ratings to give.
    """
    lines = []
    if User.by_email(DEMO_ADMIN.email) is None:
        create_user(DEMO_ADMIN.email, DEMO_ADMIN.password, role="admin")
    for login, pick, link in (
        (DEMO_BRAND, demo_company, "company"),
        (DEMO_CREATOR, demo_influencer, "influencer"),
    ):
        if User.by_email(login.email) is not None:
            continue
        entity = pick()
        if entity is None:
            lines.append(
                f"  (no {link} with collaborations: demo {login.role} not created)"
            )
            continue
        create_user(login.email, login.password, **{link: entity.external_id})
    return demo_logins() + lines


def login_line(login: DemoLogin, user: User) -> str:
    """Return one banner line: role, email / password, and whom the user acts for."""
    line = f"    {login.role + ':':<8} {login.email} / {login.password}"
    if user.company is not None:
        line += f"  (brand {user.company.name})"
    elif user.influencer is not None:
        line += f"  (influencer @{user.influencer.handle})"
    return line


def demo_logins() -> list[str]:
    """Return the banner lines of the demo users that exist."""
    return [
        login_line(login, user)
        for login in DEMO_LOGINS
        if (user := User.by_email(login.email)) is not None
    ]

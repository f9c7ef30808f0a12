"""Accounts: people who log in, and the API tokens they hold."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from functools import cache

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.core.emails import lookup_key
from webapp.core.timeutil import utcnow
from webapp.extensions import db

TOKEN_PREFIX = "ml_"


@cache
def _dummy_hash() -> str:
    """Return a password hash to compare against when the email is unknown."""
    return generate_password_hash(secrets.token_hex(16))


class User(UserMixin, db.Model):
    """A person with a login: an admin, or a member acting for one side."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'member')", name="role"),
        CheckConstraint("influencer_id IS NULL OR company_id IS NULL", name="one_link"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="member")
    influencer_id: Mapped[int | None] = mapped_column(
        ForeignKey("influencers.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"), index=True
    )
    training_opt_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    influencer = relationship("Influencer")
    company = relationship("Company")

    @validates("email")
    def normalize_email(self, key: str, value: str) -> str:
        """Store emails in their canonical form so uniqueness ignores case."""
        return lookup_key(value)

    def set_password(self, password: str) -> None:
        """Hash and store ``password``."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Return True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @staticmethod
    def authenticate(email: str, password: str) -> User | None:
        """Return the user with these credentials, or None.

        An unknown email costs the same hashing time as a wrong password, so
        response times do not reveal which emails have accounts.
        """
        user = User.by_email(email)
        if user is None:
            check_password_hash(_dummy_hash(), password)
            return None
        return user if user.check_password(password) else None

    @property
    def is_admin(self) -> bool:
        """True for administrators."""
        return self.role == "admin"

    @property
    def side(self) -> str | None:
        """The marketplace side this user rates for: influencer, company or None."""
        if self.influencer_id is not None:
            return "influencer"
        if self.company_id is not None:
            return "company"
        return None

    @classmethod
    def by_email(cls, email: str) -> User | None:
        """Return the user with ``email`` (any case), or None."""
        return db.session.scalar(db.select(cls).where(cls.email == lookup_key(email)))


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the token, shown so people can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user = relationship("User")

    @staticmethod
    def hash(token: str) -> str:
        """Return the stored form of ``token``.

        Tokens are 256-bit random strings, so one round of sha256 is enough: there
        is no low-entropy secret for a slow hash to protect.
        """
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str = "") -> tuple[ApiToken, str]:
        """Create a token for ``user``; return the row and the plain token."""
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, token_hash=cls.hash(plain), prefix=plain[:10])
        db.session.add(row)
        return row, plain

    @classmethod
    def find_active(cls, plain: str) -> ApiToken | None:
        """Return the unrevoked token matching ``plain`` with its user (one query), or None."""
        return db.session.scalar(
            db.select(cls)
            .options(joinedload(cls.user))
            .where(cls.token_hash == cls.hash(plain), cls.revoked_at.is_(None))
        )

"""The marketplace: influencers, companies, their collaborations and outcomes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    insert,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.timeutil import utcnow
from webapp.extensions import db

Money = Numeric(12, 2, asdecimal=False)

# The profile fields that are versioned in ProfileRevision (what features read).
INFLUENCER_PROFILE_FIELDS = (
    "niche",
    "secondary_niches",
    "platforms",
    "followers",
    "engagement_rate",
    "country",
    "rate_per_post",
    "posts_per_week",
    "avg_response_hours",
    "content_quality",
)
COMPANY_PROFILE_FIELDS = (
    "industry",
    "target_niches",
    "country",
    "target_countries",
    "budget_per_campaign",
)
# The rating fields that are versioned in OutcomeRevision (what features and labels read).
OUTCOME_REVISION_FIELDS = (
    "rated_by_id",
    "success_rating",
    "completion_status",
    "roi_achieved",
    "would_collaborate_again",
)


class Influencer(db.Model):
    """A creator who collaborates with brands."""

    __tablename__ = "influencers"
    __table_args__ = (
        CheckConstraint("followers >= 0", name="followers"),
        CheckConstraint(
            "engagement_rate >= 0 AND engagement_rate <= 1", name="engagement"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    handle: Mapped[str] = mapped_column(String(100))
    niche: Mapped[str] = mapped_column(String(32), index=True)
    secondary_niches: Mapped[list[str]] = mapped_column(JSON, default=list)
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    followers: Mapped[int]
    # Share of followers who interact with a typical post, 0..1.
    engagement_rate: Mapped[float] = mapped_column(Float)
    country: Mapped[str] = mapped_column(String(2))
    rate_per_post: Mapped[float] = mapped_column(Money)
    joined_on: Mapped[date]
    posts_per_week: Mapped[float] = mapped_column(Float)
    avg_response_hours: Mapped[float] = mapped_column(Float)
    # Editorial quality score, 0..10.
    content_quality: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def profile(self) -> dict[str, Any]:
        """Return the versioned profile attributes as a plain dict."""
        return {field: getattr(self, field) for field in INFLUENCER_PROFILE_FIELDS}


class Company(db.Model):
    """A brand that commissions influencers."""

    __tablename__ = "companies"
    __table_args__ = (CheckConstraint("budget_per_campaign >= 0", name="budget"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The brand's own niche.
    industry: Mapped[str] = mapped_column(String(32), index=True)
    target_niches: Mapped[list[str]] = mapped_column(JSON, default=list)
    country: Mapped[str] = mapped_column(String(2))
    target_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    budget_per_campaign: Mapped[float] = mapped_column(Money)
    joined_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def profile(self) -> dict[str, Any]:
        """Return the versioned profile attributes as a plain dict."""
        return {field: getattr(self, field) for field in COMPANY_PROFILE_FIELDS}


class ProfileRevision(db.Model):
    """A profile as it stood from ``valid_from`` on, so features can look back."""

    __tablename__ = "profile_revisions"
    __table_args__ = (
        CheckConstraint("kind IN ('influencer', 'company')", name="kind"),
        Index("ix_profile_revisions_lookup", "kind", "entity_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int]
    valid_from: Mapped[datetime]
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)


class Collaboration(db.Model):
    """A proposed or actual campaign between one influencer and one company."""

    __tablename__ = "collaborations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'accepted', 'active', 'completed', 'cancelled')",
            name="status",
        ),
        CheckConstraint("budget >= 0", name="budget"),
        CheckConstraint(
            "proposer_side IN ('influencer', 'company')", name="proposer_side"
        ),
        Index("ix_collaborations_company_proposed", "company_id", "proposed_on"),
        Index("ix_collaborations_influencer_proposed", "influencer_id", "proposed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    influencer_id: Mapped[int] = mapped_column(
        ForeignKey("influencers.id", ondelete="CASCADE")
    )
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE")
    )
    proposed_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    budget: Mapped[float] = mapped_column(Money)
    completed_on: Mapped[date | None]
    # When and why it was cancelled (the moment an unrated cancellation becomes a label).
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Set when proposed through Matchloop's match pages.
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The side that proposed: the other side accepts or declines. Imported and
    # seeded collaborations were proposed by the brand (the server default).
    proposer_side: Mapped[str] = mapped_column(
        String(16), default="company", server_default="company"
    )
    # Match factors captured when the collaboration was proposed through Matchloop.
    match_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    influencer = relationship("Influencer", lazy="joined")
    company = relationship("Company", lazy="joined")
    outcomes = relationship(
        "Outcome", back_populates="collaboration", cascade="all, delete-orphan"
    )
    status_changes = relationship(
        "StatusChange",
        back_populates="collaboration",
        cascade="all, delete-orphan",
        order_by="StatusChange.created_at, StatusChange.id",
    )

    @property
    def is_finished(self) -> bool:
        """True when the collaboration can be rated."""
        return self.status in ("completed", "cancelled")

    def outcome_for(self, side: str) -> Outcome | None:
        """Return this collaboration's outcome rated by ``side``, or None."""
        return next((o for o in self.outcomes if o.rater_side == side), None)


class StatusChange(db.Model):
    """One step of a collaboration's status history: to which status, by whom, when."""

    __tablename__ = "status_changes"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'accepted', 'active', 'completed', 'cancelled')",
            name="status",
        ),
        Index("ix_status_changes_collaboration", "collaboration_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaborations.id", ondelete="CASCADE")
    )
    from_status: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    # The action that caused it: propose, accept, decline, withdraw, start, complete,
    # cancel, import or seed.
    action: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    collaboration = relationship("Collaboration", back_populates="status_changes")
    actor = relationship("User")


class Outcome(db.Model):
    """One side's rating of a finished collaboration."""

    __tablename__ = "outcomes"
    __table_args__ = (
        UniqueConstraint(
            "collaboration_id", "rater_side", name="uq_outcomes_collaboration_side"
        ),
        CheckConstraint("rater_side IN ('influencer', 'company')", name="rater_side"),
        CheckConstraint("success_rating BETWEEN 1 AND 5", name="success_rating"),
        CheckConstraint(
            "completion_status IN "
            "('completed', 'partially_completed', 'cancelled', 'disputed')",
            name="completion_status",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaborations.id", ondelete="CASCADE"), index=True
    )
    rater_side: Mapped[str] = mapped_column(String(16))
    rated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    success_rating: Mapped[int]
    completion_status: Mapped[str] = mapped_column(String(24))
    # Return on investment as a fraction of the spend: 0.25 means +25 %.
    roi_achieved: Mapped[float | None] = mapped_column(Numeric(10, 4, asdecimal=False))
    would_collaborate_again: Mapped[bool]
    success_factors: Mapped[list[str]] = mapped_column(JSON, default=list)
    feedback: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    collaboration = relationship("Collaboration", back_populates="outcomes")
    rated_by = relationship("User")
    revisions = relationship(
        "OutcomeRevision",
        back_populates="outcome",
        cascade="all, delete-orphan",
        order_by="OutcomeRevision.recorded_at, OutcomeRevision.id",
    )


class OutcomeRevision(db.Model):
    """A rating as it stood from ``recorded_at`` on: features and labels at t read these.

    The Outcome row holds the latest values; each save (form, API, import, demo)
    adds a revision, so an edit never rewrites what was known before it. ORM saves
    go through a mapper hook; bulk writers (import, demo) use ``revision_row``.
    """

    __tablename__ = "outcome_revisions"
    __table_args__ = (
        CheckConstraint("rater_side IN ('influencer', 'company')", name="rater_side"),
        CheckConstraint("success_rating BETWEEN 1 AND 5", name="success_rating"),
        CheckConstraint(
            "completion_status IN "
            "('completed', 'partially_completed', 'cancelled', 'disputed')",
            name="completion_status",
        ),
        Index(
            "ix_outcome_revisions_lookup",
            "collaboration_id",
            "rater_side",
            "recorded_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(
        ForeignKey("outcomes.id", ondelete="CASCADE"), index=True
    )
    collaboration_id: Mapped[int] = mapped_column(
        ForeignKey("collaborations.id", ondelete="CASCADE")
    )
    rater_side: Mapped[str] = mapped_column(String(16))
    rated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    success_rating: Mapped[int]
    completion_status: Mapped[str] = mapped_column(String(24))
    roi_achieved: Mapped[float | None] = mapped_column(Numeric(10, 4, asdecimal=False))
    would_collaborate_again: Mapped[bool]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    outcome = relationship("Outcome", back_populates="revisions")


def revision_row(outcome: dict[str, Any], recorded_at: datetime) -> dict[str, Any]:
    """Return the outcome_revisions row of an outcome's values (a dict with ``id``)."""
    return {
        "outcome_id": outcome["id"],
        "collaboration_id": outcome["collaboration_id"],
        "rater_side": outcome["rater_side"],
        **{name: outcome[name] for name in OUTCOME_REVISION_FIELDS},
        "recorded_at": recorded_at,
    }


def _insert_outcome_revision(connection, target: Outcome, recorded_at: datetime):
    """Store ``target``'s current rating values as a revision dated ``recorded_at``."""
    connection.execute(
        insert(OutcomeRevision).values(
            revision_row(
                {
                    "id": target.id,
                    "collaboration_id": target.collaboration_id,
                    "rater_side": target.rater_side,
                    **{name: getattr(target, name) for name in OUTCOME_REVISION_FIELDS},
                },
                recorded_at,
            )
        )
    )


def _revise_new_outcome(mapper, connection, target: Outcome) -> None:
    """A new rating's first revision is dated when it was rated."""
    _insert_outcome_revision(connection, target, target.rated_at or utcnow())


def _revise_edited_outcome(mapper, connection, target: Outcome) -> None:
    """An edit of the versioned fields is a revision dated now; other edits are not."""
    state = inspect(target)
    if any(
        state.attrs[name].history.has_changes()
        for name in (*OUTCOME_REVISION_FIELDS, "rated_by")
    ):
        _insert_outcome_revision(connection, target, utcnow())


class NicheActivity(db.Model):
    """One period's activity value for one niche (the series trend forecasts read)."""

    __tablename__ = "niche_activity"
    __table_args__ = (
        UniqueConstraint(
            "niche", "period_start", name="uq_niche_activity_niche_period"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    niche: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[date]
    value: Mapped[float] = mapped_column(Float)


def _record_revision(kind: str, fields: tuple[str, ...]):
    """Return a mapper hook that stores a ProfileRevision when profile fields change.

    ORM inserts and updates go through it; bulk writers (import, demo) write their
    revisions themselves.
    """

    def hook(mapper, connection, target) -> None:
        state = inspect(target)
        if state.has_identity and not any(
            state.attrs[field].history.has_changes() for field in fields
        ):
            return
        connection.execute(
            insert(ProfileRevision).values(
                kind=kind,
                entity_id=target.id,
                valid_from=utcnow(),
                attributes=target.profile(),
            )
        )

    return hook


event.listen(Outcome, "after_insert", _revise_new_outcome)
event.listen(Outcome, "after_update", _revise_edited_outcome)

for _model, _kind, _fields in (
    (Influencer, "influencer", INFLUENCER_PROFILE_FIELDS),
    (Company, "company", COMPANY_PROFILE_FIELDS),
):
    _hook = _record_revision(_kind, _fields)
    event.listen(_model, "after_insert", _hook)
    event.listen(_model, "after_update", _hook)

"""Shadow periods: a candidate version scoring served requests off the request path."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.timeutil import utcnow
from webapp.extensions import db

PASS_STATUSES = ("succeeded", "failed")


class ShadowPeriod(db.Model):
    """One stretch of time a version shadowed its type's serving, and its last pass.

    At most one period per model type is open (``stopped_at`` null). The
    periodic job scores the type's served log rows with ids above
    ``watermark`` and moves it on in the same transaction as its inserts.
    """

    __tablename__ = "shadow_periods"
    __table_args__ = (
        CheckConstraint(
            "last_pass_status IS NULL OR last_pass_status IN ('succeeded', 'failed')",
            name="last_pass_status",
        ),
        Index(
            "ux_shadow_periods_open_type",
            "model_type",
            unique=True,
            sqlite_where=text("stopped_at IS NULL"),
            postgresql_where=text("stopped_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_type: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None]
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    stopped_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The highest prediction_logs.id already considered (rows above it are due).
    watermark: Mapped[int] = mapped_column(default=0)
    scored: Mapped[int] = mapped_column(default=0)
    last_pass_at: Mapped[datetime | None]
    last_pass_status: Mapped[str | None] = mapped_column(String(16))
    last_pass_error: Mapped[str | None] = mapped_column(Text)

    version = relationship("ModelVersion")
    started_by = relationship("User", foreign_keys=[started_by_id])
    stopped_by = relationship("User", foreign_keys=[stopped_by_id])

    @property
    def running(self) -> bool:
        """True while the period is open."""
        return self.stopped_at is None

    def minutes(self, now: datetime) -> float:
        """Return how long the period has lasted until ``now`` (or until it stopped)."""
        end = self.stopped_at or now
        return max(0.0, (end - self.started_at).total_seconds() / 60)

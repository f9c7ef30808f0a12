"""The audit log: one row per admin action (who, what, on which target, with details)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.timeutil import utcnow
from webapp.extensions import db


class AuditEntry(db.Model):
    """One admin action: promote, rollback, an experiment or rollout change, a token."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_created", "created_at"),
        Index("ix_audit_log_action_created", "action", "created_at"),
        Index("ix_audit_log_actor_created", "actor", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The user's e-mail, or "cli" / "system" when no signed-in user acted.
    actor: Mapped[str] = mapped_column(String(254))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Dotted: "model.promote", "rollout.pause", "token.create", "import.csv" ...
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")

"""Staged rollouts of a candidate model version: the schedule, its status, its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.timeutil import utcnow
from webapp.extensions import db

ROLLOUT_STATUSES = ("pending", "running", "paused", "completed", "rolled_back")
ROLLOUT_UNITS = ("company", "influencer")
BREACH_ACTIONS = ("rollback", "pause")
# Statuses a rollout can still leave; at most one per model type at a time.
OPEN_ROLLOUT_STATUSES = ("pending", "running", "paused")


class Rollout(db.Model):
    """A candidate version ramped up in steps on a share of units, against a baseline."""

    __tablename__ = "rollouts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'running', 'paused', 'completed', 'rolled_back')",
            name="status",
        ),
        CheckConstraint("unit IN ('company', 'influencer')", name="unit"),
        CheckConstraint("on_breach IN ('rollback', 'pause')", name="on_breach"),
        CheckConstraint("step_index >= 0", name="step_index"),
        CheckConstraint("hold_minutes >= 0", name="hold_minutes"),
        CheckConstraint("min_outcomes >= 0", name="min_outcomes"),
        Index("ix_rollouts_type_status", "model_type", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_type: Mapped[str] = mapped_column(String(64))
    candidate_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="RESTRICT")
    )
    # Serves the units not admitted to the candidate; the active version by default.
    baseline_version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="RESTRICT")
    )
    unit: Mapped[str] = mapped_column(String(16), default="company")
    # Percentages of units on the candidate, strictly increasing, the last one 100.
    steps: Mapped[list[float]] = mapped_column(JSON)
    step_index: Mapped[int] = mapped_column(default=0)
    hold_minutes: Mapped[int]
    min_outcomes: Mapped[int]
    # {"tolerance": relative worsening allowed, "alpha": significance level}.
    guardrails: Mapped[dict[str, Any]] = mapped_column(JSON)
    on_breach: Mapped[str] = mapped_column(String(16), default="rollback")
    # Minutes the candidate must have run in shadow before the rollout may start.
    shadow_minutes: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # The hash seed of the bucketing: fixed for the rollout's life, so a unit
    # admitted at a small share stays admitted at every larger one.
    seed: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    # When the current step began (hold time and the step's outcomes count from here).
    step_started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    candidate = relationship("ModelVersion", foreign_keys=[candidate_version_id])
    baseline = relationship("ModelVersion", foreign_keys=[baseline_version_id])
    created_by = relationship("User")
    events = relationship(
        "RolloutEvent",
        back_populates="rollout",
        cascade="all, delete-orphan",
        order_by="RolloutEvent.created_at, RolloutEvent.id",
    )

    @property
    def current_percent(self) -> float:
        """Return the share of units (0-100) the candidate serves while running."""
        if self.status == "completed":
            return 100.0
        if self.status in ("running", "paused"):
            return float(self.steps[self.step_index])
        return 0.0

    @property
    def serving_share(self) -> float:
        """Return the share (0-1) routing gives the candidate now (paused: none)."""
        return self.current_percent / 100 if self.status == "running" else 0.0


class RolloutEvent(db.Model):
    """One decision in a rollout's timeline: what, who (None: the job), on which numbers."""

    __tablename__ = "rollout_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    rollout_id: Mapped[int] = mapped_column(
        ForeignKey("rollouts.id", ondelete="CASCADE"), index=True
    )
    # create, start, advance, hold, breach, pause, resume, rollback, complete
    action: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    from_percent: Mapped[float | None] = mapped_column(Float)
    to_percent: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The evidence the decision read: per-arm counts, rates, p-values, thresholds.
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rollout = relationship("Rollout", back_populates="events")
    actor = relationship("User")

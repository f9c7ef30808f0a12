"""The learning loop's records: training runs, model versions, deployments, predictions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.timeutil import utcnow
from webapp.extensions import db

RUN_STATUSES = ("queued", "running", "succeeded", "failed")
ACTIVE_RUN_STATUSES = ("queued", "running")
VERSION_STATUSES = ("candidate", "active", "archived")


class TrainingRun(db.Model):
    """One request to train a model type, from queued to succeeded or failed."""

    __tablename__ = "training_runs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')", name="status"
        ),
        # At most one queued or running run per model type, enforced by the database.
        Index(
            "uq_training_runs_one_active",
            "model_type",
            unique=True,
            sqlite_where=text("status IN ('queued', 'running')"),
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_type: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # manual (web), api, cli or auto (retraining policy)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    job_id: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(120), default="waiting for a worker")
    error: Mapped[str | None] = mapped_column(Text)
    # Highest outcome id when the run was created; newer outcomes count toward the next.
    outcome_watermark: Mapped[int] = mapped_column(default=0)
    # Highest niche-activity id when the run was created (activity-trained types).
    activity_watermark: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL", use_alter=True)
    )

    requested_by = relationship("User")
    version = relationship("ModelVersion", foreign_keys=[version_id])

    @property
    def is_active(self) -> bool:
        """True while the run is queued or running."""
        return self.status in ACTIVE_RUN_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish (or to now while running)."""
        if self.started_at is None:
            return None
        return ((self.finished_at or utcnow()) - self.started_at).total_seconds()


class ModelVersion(db.Model):
    """A trained, stored model of one type: candidate, active or archived."""

    __tablename__ = "model_versions"
    __table_args__ = (
        CheckConstraint("status IN ('candidate', 'active', 'archived')", name="status"),
        Index("uq_model_versions_type_version", "model_type", "version", unique=True),
        Index(
            "uq_model_versions_one_active",
            "model_type",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_type: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="candidate")
    algorithm: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    feature_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    sample_count: Mapped[int] = mapped_column(default=0)
    data_start: Mapped[date | None]
    data_end: Mapped[date | None]
    artifact_path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    library_versions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Set when the stored artifact was missing or did not match its sha256.
    artifact_error: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_runs.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]

    run = relationship("TrainingRun", foreign_keys=[run_id])

    @property
    def label(self) -> str:
        """Human name: ``match_success v3``."""
        return f"{self.model_type} v{self.version}"


class Deployment(db.Model):
    """A change of the active version of a model type: who, when, from and to."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_type: Mapped[str] = mapped_column(String(64), index=True)
    from_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    to_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    # first (automatic), promote, rollback, archive (a candidate retired)
    action: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    from_version = relationship("ModelVersion", foreign_keys=[from_version_id])
    to_version = relationship("ModelVersion", foreign_keys=[to_version_id])
    actor = relationship("User")


class PredictionLog(db.Model):
    """One served prediction, kept for monitoring and for joining later outcomes."""

    __tablename__ = "prediction_logs"
    __table_args__ = (
        Index("ix_prediction_logs_pair", "influencer_id", "company_id"),
        Index("ix_prediction_logs_type_created", "model_type", "created_at"),
        Index("ix_prediction_logs_rollout", "rollout_id", "variant", "created_at"),
        # The retention purge (oldest first) and time-window reads of every type.
        Index("ix_prediction_logs_created", "created_at"),
        # Live metrics per served version; deleting a version nulls its rows.
        Index("ix_prediction_logs_version_created", "version_id", "created_at"),
        # A retried bulk insert skips the rows already stored (never logged twice).
        Index("uq_prediction_logs_prediction_id", "prediction_id", unique=True),
        # A shadow version scores each served row at most once.
        Index(
            "ux_prediction_logs_shadow_of", "shadow_of_id", "version_id", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Given when the prediction is served; None on rows logged before it existed.
    prediction_id: Mapped[str | None] = mapped_column(String(32))
    # One per request: every row a batch or ranking request logs shares it
    # (rollouts count failed requests, not rows); None on rows logged before it.
    request_id: Mapped[str | None] = mapped_column(String(32))
    model_type: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    fallback: Mapped[bool] = mapped_column(default=False)
    # Who the prediction was routed for (a company or influencer external id, or a user).
    subject: Mapped[str] = mapped_column(String(100), default="")
    influencer_id: Mapped[int | None]
    company_id: Mapped[int | None]
    score: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    # The prediction interval and its nominal level (0.9 = 90 %), when the type has one.
    interval_low: Mapped[float | None] = mapped_column(Float)
    interval_high: Mapped[float | None] = mapped_column(Float)
    interval_level: Mapped[float | None] = mapped_column(Float)
    # A categorical level ("low" | "medium" | "high" ...), when the type declares one.
    level: Mapped[str | None] = mapped_column(String(16))
    # Series types: the forecast points [{"period_start", "value", "lower", "upper"}].
    forecast: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The experiment variant, or the rollout arm (candidate | baseline), that served.
    variant: Mapped[str | None] = mapped_column(String(64))
    # The staged rollout that routed the prediction (its arm is ``variant``).
    rollout_id: Mapped[int | None] = mapped_column(
        ForeignKey("rollouts.id", ondelete="SET NULL")
    )
    # api, web, rank, batch; "shadow" for a shadow version's score (never shown)
    source: Mapped[str] = mapped_column(String(16), default="api")
    # A shadow score: the served row it scored again (same pair, same moment).
    shadow_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("prediction_logs.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

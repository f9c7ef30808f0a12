"""A/B experiments on model versions: set-up, variants, assignments, events, history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.timeutil import utcnow
from webapp.extensions import db

EXPERIMENT_STATUSES = ("draft", "running", "stopped", "concluded")
EXPERIMENT_UNITS = ("company", "influencer")
EXPERIMENT_KINDS = ("ab", "interleaving")
EVENT_TYPES = ("exposure", "acceptance", "success", "rating", "roi")


class Experiment(db.Model):
    """An A/B test of model versions (or the rule-based scorer) on companies or influencers."""

    __tablename__ = "experiments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'running', 'stopped', 'concluded')", name="status"
        ),
        CheckConstraint("unit IN ('company', 'influencer')", name="unit"),
        CheckConstraint("kind IN ('ab', 'interleaving')", name="kind"),
        CheckConstraint("coverage >= 0 AND coverage <= 1", name="coverage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The slug: the hash seed of every assignment, so it never changes once running.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    hypothesis: Mapped[str] = mapped_column(Text, default="")
    model_type: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str] = mapped_column(String(16))
    # ab: units split between variants; interleaving: a unit's ranked list mixes
    # two variants' rankings (team draft) and each pick is credited to its team.
    kind: Mapped[str] = mapped_column(String(16), default="ab", server_default="ab")
    # Always-valid p-values and confidence sequences, so that looking early is safe.
    sequential: Mapped[bool] = mapped_column(
        default=False, server_default=text("false")
    )
    coverage: Mapped[float] = mapped_column(Float, default=1.0)
    # Primary metric: acceptance_rate | success_rate | mean_rating | mean_roi.
    metric: Mapped[str] = mapped_column(String(32))
    guardrails: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"id", "start", "end"} for mutually exclusive experiments, or None.
    namespace: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Minimum detectable effect, relative (0.1 = +10 %), and the baseline it assumes.
    mde: Mapped[float | None] = mapped_column(Float)
    baseline: Mapped[float | None] = mapped_column(Float)
    required_sample_size: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    hash_version: Mapped[int] = mapped_column(default=2, server_default="2")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    concluded_at: Mapped[datetime | None]
    # The variant shipped by "conclude and ship" (None: concluded without shipping).
    shipped_variant: Mapped[str | None] = mapped_column(String(64))

    created_by = relationship("User")
    variants = relationship(
        "ExperimentVariant",
        back_populates="experiment",
        cascade="all, delete-orphan",
        order_by="ExperimentVariant.position",
    )
    changes = relationship(
        "ExperimentChange",
        back_populates="experiment",
        cascade="all, delete-orphan",
        order_by="ExperimentChange.created_at, ExperimentChange.id",
    )

    @property
    def weights(self) -> list[float]:
        """Return the variants' weights in set-up order."""
        return [variant.weight for variant in self.variants]


class ExperimentVariant(db.Model):
    """One arm of an experiment; position 0 is the control."""

    __tablename__ = "experiment_variants"
    __table_args__ = (
        UniqueConstraint("experiment_id", "key", name="uq_experiment_variants_key"),
        UniqueConstraint(
            "experiment_id", "position", name="uq_experiment_variants_position"
        ),
        CheckConstraint("weight >= 0 AND weight <= 1", name="weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    weight: Mapped[float] = mapped_column(Float)
    # What the variant serves: a model version, or None for the rule-based scorer.
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="RESTRICT")
    )

    experiment = relationship("Experiment", back_populates="variants")
    model_version = relationship("ModelVersion")


class ExperimentAssignment(db.Model):
    """The first variant a unit got: sticky, whatever the weights do later."""

    __tablename__ = "experiment_assignments"
    __table_args__ = (
        UniqueConstraint(
            "experiment_id", "unit_id", name="uq_experiment_assignments_unit"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE")
    )
    unit_id: Mapped[str] = mapped_column(String(100))
    variant_key: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExperimentEvent(db.Model):
    """Something that happened to a unit in an experiment: exposure or a conversion."""

    __tablename__ = "experiment_events"
    __table_args__ = (
        CheckConstraint(
            "type IN ('exposure', 'acceptance', 'success', 'rating', 'roi')",
            name="type",
        ),
        Index("ix_experiment_events_unit", "experiment_id", "unit_id"),
        # A unit is exposed once: its first exposure is the one that counts.
        Index(
            "uq_experiment_events_one_exposure",
            "experiment_id",
            "unit_id",
            unique=True,
            sqlite_where=text("type = 'exposure'"),
            postgresql_where=text("type = 'exposure'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE")
    )
    unit_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    # serving (an exposure while serving), api (another system), ...
    source: Mapped[str] = mapped_column(String(16), default="api")
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class InterleavingImpression(db.Model):
    """An item a unit was first shown in an interleaved list, and the team it came from.

    The first showing sticks (unique per experiment, unit and item): later
    proposals, acceptances and successes of that pair are credited to its team.
    """

    __tablename__ = "interleaving_impressions"
    __table_args__ = (
        UniqueConstraint(
            "experiment_id",
            "unit_id",
            "item_id",
            name="uq_interleaving_impressions_item",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE")
    )
    unit_id: Mapped[str] = mapped_column(String(100))
    item_id: Mapped[str] = mapped_column(String(100))
    # The variant key whose ranking contributed the item.
    team: Mapped[str] = mapped_column(String(64))
    shown_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExperimentChange(db.Model):
    """One entry of an experiment's history: who changed what, when, with warnings."""

    __tablename__ = "experiment_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    # create, start, stop, conclude, ship, edit
    action: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # {"field": [before, after]} for edits; details for other actions.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    experiment = relationship("Experiment", back_populates="changes")
    actor = relationship("User")

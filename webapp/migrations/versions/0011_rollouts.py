"""rollouts: staged rollouts of a candidate version, their timeline, routed predictions

Revision ID: 0011_rollouts
Revises: 0010_experiment_modes
Create Date: 2026-12-02 15:45:10

A rollout ramps a candidate model version up in steps on a share of units
(bucketed by a seed fixed for its life) against a baseline version; every
decision is a rollout event with the numbers it read. A prediction routed by a
rollout records it (``prediction_logs.rollout_id``, the arm in ``variant``),
so its outcomes and its failures are credited to the arm that served.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_rollouts"
down_revision = "0010_experiment_modes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_type", sa.String(length=64), nullable=False),
        sa.Column("candidate_version_id", sa.Integer(), nullable=False),
        sa.Column("baseline_version_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("hold_minutes", sa.Integer(), nullable=False),
        sa.Column("min_outcomes", sa.Integer(), nullable=False),
        sa.Column("guardrails", sa.JSON(), nullable=False),
        sa.Column("on_breach", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("step_started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "on_breach IN ('rollback', 'pause')", name=op.f("ck_rollouts_on_breach")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'paused', 'completed', 'rolled_back')",
            name=op.f("ck_rollouts_status"),
        ),
        sa.CheckConstraint(
            "unit IN ('company', 'influencer')", name=op.f("ck_rollouts_unit")
        ),
        sa.CheckConstraint("hold_minutes >= 0", name=op.f("ck_rollouts_hold_minutes")),
        sa.CheckConstraint("min_outcomes >= 0", name=op.f("ck_rollouts_min_outcomes")),
        sa.CheckConstraint("step_index >= 0", name=op.f("ck_rollouts_step_index")),
        sa.ForeignKeyConstraint(
            ["baseline_version_id"],
            ["model_versions.id"],
            name=op.f("fk_rollouts_baseline_version_id_model_versions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_version_id"],
            ["model_versions.id"],
            name=op.f("fk_rollouts_candidate_version_id_model_versions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_rollouts_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollouts")),
        sa.UniqueConstraint("seed", name=op.f("uq_rollouts_seed")),
    )
    with op.batch_alter_table("rollouts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rollouts_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_rollouts_type_status", ["model_type", "status"], unique=False
        )

    op.create_table(
        "rollout_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("from_percent", sa.Float(), nullable=True),
        sa.Column("to_percent", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_rollout_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rollout_id"],
            ["rollouts.id"],
            name=op.f("fk_rollout_events_rollout_id_rollouts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_events")),
    )
    with op.batch_alter_table("rollout_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rollout_events_rollout_id"), ["rollout_id"], unique=False
        )

    with op.batch_alter_table("prediction_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rollout_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_prediction_logs_rollout",
            ["rollout_id", "variant", "created_at"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_prediction_logs_rollout_id_rollouts"),
            "rollouts",
            ["rollout_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("prediction_logs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_prediction_logs_rollout_id_rollouts"), type_="foreignkey"
        )
        batch_op.drop_index("ix_prediction_logs_rollout")
        batch_op.drop_column("rollout_id")

    with op.batch_alter_table("rollout_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollout_events_rollout_id"))

    op.drop_table("rollout_events")
    with op.batch_alter_table("rollouts", schema=None) as batch_op:
        batch_op.drop_index("ix_rollouts_type_status")
        batch_op.drop_index(batch_op.f("ix_rollouts_created_at"))

    op.drop_table("rollouts")

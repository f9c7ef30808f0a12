"""experiment modes: interleaving experiments and sequential testing

Revision ID: 0010_experiment_modes
Revises: 0009_experiments
Create Date: 2026-12-02 15:40:47

An experiment may be of kind ``interleaving`` (its ranked lists mix two
variants' rankings; each item shown is credited to the team that contributed
it, first showing sticks), and may ask for sequential (always-valid) statistics.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_experiment_modes"
down_revision = "0009_experiments"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "interleaving_impressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=100), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("shown_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_interleaving_impressions_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interleaving_impressions")),
        sa.UniqueConstraint(
            "experiment_id",
            "unit_id",
            "item_id",
            name="uq_interleaving_impressions_item",
        ),
    )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sequential",
                sa.Boolean(),
                server_default=sa.text("false"),
                nullable=False,
            )
        )
        batch_op.drop_constraint(batch_op.f("ck_experiments_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_experiments_kind"), "kind IN ('ab', 'interleaving')"
        )


def downgrade():
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_experiments_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_experiments_kind"), "kind IN ('ab')"
        )
        batch_op.drop_column("sequential")

    op.drop_table("interleaving_impressions")

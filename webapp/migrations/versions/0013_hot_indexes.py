"""hot indexes: the prediction log by time and by version, and a unique prediction id

Revision ID: 0013_hot_indexes
Revises: 0012_artifact_store
Create Date: 2026-12-02 15:56:54

The prediction log is written in bulk off the request path; each row now
carries the ``prediction_id`` it was given when served, unique, so a retried
bulk insert never logs a prediction twice. The retention purge and time-window
reads use ``created_at`` alone; live metrics per served version, and deleting a
version (its rows are nulled), use ``(version_id, created_at)``. On PostgreSQL
the indexes are built concurrently, so a large log keeps taking writes.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_hot_indexes"
down_revision = "0012_artifact_store"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_prediction_logs_created", ["created_at"], False),
    ("ix_prediction_logs_version_created", ["version_id", "created_at"], False),
    ("uq_prediction_logs_prediction_id", ["prediction_id"], True),
)


def upgrade():
    with op.batch_alter_table("prediction_logs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("prediction_id", sa.String(length=32), nullable=True)
        )
    with op.get_context().autocommit_block():
        for name, columns, unique in INDEXES:
            op.create_index(
                name,
                "prediction_logs",
                columns,
                unique=unique,
                postgresql_concurrently=True,
            )


def downgrade():
    for name, _, _ in reversed(INDEXES):
        op.drop_index(name, table_name="prediction_logs")
    with op.batch_alter_table("prediction_logs", schema=None) as batch_op:
        batch_op.drop_column("prediction_id")

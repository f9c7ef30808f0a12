"""artifact store: artifact bytes in the database

Revision ID: 0012_artifact_store
Revises: 0011_rollouts
Create Date: 2026-12-02 15:46:38

With ``ARTIFACT_STORE=database`` the training worker writes each artifact's
bytes into ``artifact_blobs`` (by the path its model version names), so web
processes on other machines read it from the database; every load still checks
the bytes against the version's sha256.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_artifact_store"
down_revision = "0011_rollouts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "artifact_blobs",
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_artifact_blobs")),
    )


def downgrade():
    op.drop_table("artifact_blobs")

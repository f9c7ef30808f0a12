"""request ids: the rows one request logged share one id

Revision ID: 0017_request_ids
Revises: 0015_shadow
Create Date: 2026-12-09 10:00:00

A batch or ranking request logs a prediction row per pair; ``request_id`` says
which rows one request wrote, so a rollout's error rate counts failed
requests rather than rows. Rows logged before it stay NULL (each is its own
request).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_request_ids'
down_revision = '0015_shadow'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('prediction_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('prediction_logs', schema=None) as batch_op:
        batch_op.drop_column('request_id')

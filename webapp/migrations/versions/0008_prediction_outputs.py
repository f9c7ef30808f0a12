"""prediction log: interval, level and forecast of any model type

Revision ID: 0008_prediction_outputs
Revises: 0007_trend
Create Date: 2026-12-02 12:00:00

The log held a score and a confidence, which is all a match prediction has.
ROI intervals (with their nominal level), risk levels and trend forecasts now
have their own columns; existing rows have none of them (NULL).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_prediction_outputs'
down_revision = '0007_trend'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('prediction_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interval_low', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('interval_high', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('interval_level', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('forecast', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('prediction_logs', schema=None) as batch_op:
        batch_op.drop_column('forecast')
        batch_op.drop_column('level')
        batch_op.drop_column('interval_level')
        batch_op.drop_column('interval_high')
        batch_op.drop_column('interval_low')

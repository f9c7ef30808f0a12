"""trend retraining: the highest niche-activity id a training run saw

Revision ID: 0007_trend
Revises: 0005_leaks_a
Create Date: 2026-12-02 12:00:00

Model types that retrain on new activity (RetrainPolicy(on="activity"))
count the niche-activity rows added after their latest run, as outcome types
count outcomes after ``outcome_watermark``. Existing runs saw none (0).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_trend'
down_revision = '0005_leaks_a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'activity_watermark',
                sa.Integer(),
                server_default='0',
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.drop_column('activity_watermark')

"""collaboration lifecycle: which side proposed

Revision ID: 0004_lifecycle
Revises: 0003_lifecycle_revisions
Create Date: 2026-12-02 10:00:00

The side that proposed a collaboration decides who may accept, decline or
withdraw it. Rows from before this migration were imported, seeded, or
proposed through the match pages: those proposed by a member linked to the
collaboration's influencer get 'influencer', every other row 'company'.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_lifecycle'
down_revision = '0003_lifecycle_revisions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('collaborations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'proposer_side',
                sa.String(length=16),
                server_default='company',
                nullable=False,
            )
        )
        batch_op.create_check_constraint(
            op.f('ck_collaborations_proposer_side'),
            "proposer_side IN ('influencer', 'company')"
        )
    op.execute(
        "UPDATE collaborations SET proposer_side = 'influencer' "
        "WHERE proposed_by_id IN (SELECT users.id FROM users "
        "WHERE users.influencer_id = collaborations.influencer_id)"
    )


def downgrade():
    with op.batch_alter_table('collaborations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_collaborations_proposer_side'), type_='check')
        batch_op.drop_column('proposer_side')

"""audit log: one row per admin action (who, what, target, details)

Revision ID: 0014_audit_log
Revises: 0013_hot_indexes
Create Date: 2026-12-02 16:21:01

Promotions, rollbacks, archives, experiment and rollout changes, API token
creation and revocation and imports each add a row in the same transaction as
the action; the operations pages and GET /api/v1/audit read it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_audit_log'
down_revision = '0013_hot_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=32), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_action_created', ['action', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_log_actor_created', ['actor', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_log_created', ['created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_created')
        batch_op.drop_index('ix_audit_log_actor_created')
        batch_op.drop_index('ix_audit_log_action_created')

    op.drop_table('audit_log')

"""experiments: set-up, variants, sticky assignments, events and history

Revision ID: 0009_experiments
Revises: 0008_prediction_outputs
Create Date: 2026-12-02 12:36:54

A/B experiments on model versions. Assignments are unique per experiment and
unit (the first one sticks); a unit's exposure is recorded once (a unique
partial index on exposure events).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_experiments'
down_revision = '0008_prediction_outputs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('experiments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('hypothesis', sa.Text(), nullable=False),
    sa.Column('model_type', sa.String(length=64), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), server_default='ab', nullable=False),
    sa.Column('coverage', sa.Float(), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('guardrails', sa.JSON(), nullable=False),
    sa.Column('namespace', sa.JSON(), nullable=True),
    sa.Column('mde', sa.Float(), nullable=True),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('required_sample_size', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('hash_version', sa.Integer(), server_default='2', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('stopped_at', sa.DateTime(), nullable=True),
    sa.Column('concluded_at', sa.DateTime(), nullable=True),
    sa.Column('shipped_variant', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind IN ('ab')", name=op.f('ck_experiments_kind')),
    sa.CheckConstraint("status IN ('draft', 'running', 'stopped', 'concluded')", name=op.f('ck_experiments_status')),
    sa.CheckConstraint("unit IN ('company', 'influencer')", name=op.f('ck_experiments_unit')),
    sa.CheckConstraint('coverage >= 0 AND coverage <= 1', name=op.f('ck_experiments_coverage')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_experiments_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiments')),
    sa.UniqueConstraint('key', name=op.f('uq_experiments_key'))
    )
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiments_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_experiments_model_type'), ['model_type'], unique=False)

    op.create_table('experiment_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('variant_key', sa.String(length=64), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_experiment_assignments_experiment_id_experiments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_assignments')),
    sa.UniqueConstraint('experiment_id', 'unit_id', name='uq_experiment_assignments_unit')
    )
    op.create_table('experiment_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_experiment_changes_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_experiment_changes_experiment_id_experiments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_changes'))
    )
    with op.batch_alter_table('experiment_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_experiment_changes_experiment_id'), ['experiment_id'], unique=False)

    op.create_table('experiment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("type IN ('exposure', 'acceptance', 'success', 'rating', 'roi')", name=op.f('ck_experiment_events_type')),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_experiment_events_experiment_id_experiments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_events'))
    )
    with op.batch_alter_table('experiment_events', schema=None) as batch_op:
        batch_op.create_index('ix_experiment_events_unit', ['experiment_id', 'unit_id'], unique=False)
        batch_op.create_index('uq_experiment_events_one_exposure', ['experiment_id', 'unit_id'], unique=True, sqlite_where=sa.text("type = 'exposure'"), postgresql_where=sa.text("type = 'exposure'"))

    op.create_table('experiment_variants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('experiment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('weight >= 0 AND weight <= 1', name=op.f('ck_experiment_variants_weight')),
    sa.ForeignKeyConstraint(['experiment_id'], ['experiments.id'], name=op.f('fk_experiment_variants_experiment_id_experiments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_experiment_variants_model_version_id_model_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_experiment_variants')),
    sa.UniqueConstraint('experiment_id', 'key', name='uq_experiment_variants_key'),
    sa.UniqueConstraint('experiment_id', 'position', name='uq_experiment_variants_position')
    )


def downgrade():
    op.drop_table('experiment_variants')
    with op.batch_alter_table('experiment_events', schema=None) as batch_op:
        batch_op.drop_index('uq_experiment_events_one_exposure', sqlite_where=sa.text("type = 'exposure'"), postgresql_where=sa.text("type = 'exposure'"))
        batch_op.drop_index('ix_experiment_events_unit')

    op.drop_table('experiment_events')
    with op.batch_alter_table('experiment_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiment_changes_experiment_id'))

    op.drop_table('experiment_changes')
    op.drop_table('experiment_assignments')
    with op.batch_alter_table('experiments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_experiments_model_type'))
        batch_op.drop_index(batch_op.f('ix_experiments_created_at'))

    op.drop_table('experiments')

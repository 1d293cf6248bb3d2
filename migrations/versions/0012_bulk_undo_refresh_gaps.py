"""act where you look: bulk changes kept for undo, "mark for refresh", dismissed content gaps

Revision ID: 0012
Revises: 0010

`asset.refresh_requested_at` is a plain nullable column (SQLite adds it in place, no table copy).
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('asset', sa.Column('refresh_requested_at', sa.DateTime(), nullable=True))
    op.create_table(
        'bulk_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('summary', sa.String(length=300), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_bulk_change_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_change')),
    )
    op.create_table(
        'dismissed_gap',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('query', sa.String(length=500), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_dismissed_gap_user_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dismissed_gap')),
        sa.UniqueConstraint('query', name=op.f('uq_dismissed_gap_query')),
    )


def downgrade():
    op.drop_table('dismissed_gap')
    op.drop_table('bulk_change')
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_column('refresh_requested_at')

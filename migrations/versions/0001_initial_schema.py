"""initial schema: people, taxonomy, collateral, usage log

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 07:49:35.082153

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    """Create people, taxonomy, collateral and the usage log."""
    op.create_table('segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment')),
    sa.UniqueConstraint('name', name=op.f('uq_segment_name'))
    )
    op.create_table('stage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage')),
    sa.UniqueConstraint('name', name=op.f('uq_stage_name'))
    )
    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('name', name=op.f('uq_team_name'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_user_account_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email')),
    sa.UniqueConstraint('session_token', name=op.f('uq_user_account_session_token'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('asset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('product', sa.String(length=80), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('source_key', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_asset_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset')),
    sa.UniqueConstraint('source_key', name=op.f('uq_asset_source_key'))
    )
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.create_index('ix_asset_status_expires_on', ['status', 'expires_on'], unique=False)

    op.create_table('asset_segment',
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_asset_segment_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_asset_segment_segment_id_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('asset_id', 'segment_id', name=op.f('pk_asset_segment'))
    )
    with op.batch_alter_table('asset_segment', schema=None) as batch_op:
        batch_op.create_index('ix_asset_segment_segment_id', ['segment_id'], unique=False)

    op.create_table('asset_stage',
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_asset_stage_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], name=op.f('fk_asset_stage_stage_id_stage'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('asset_id', 'stage_id', name=op.f('pk_asset_stage'))
    )
    with op.batch_alter_table('asset_stage', schema=None) as batch_op:
        batch_op.create_index('ix_asset_stage_stage_id', ['stage_id'], unique=False)

    op.create_table('asset_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('file_type', sa.String(length=8), nullable=False),
    sa.Column('mime_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('thumbnail_name', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_asset_version_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_asset_version_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_version')),
    sa.UniqueConstraint('asset_id', 'number', name='uq_asset_version_number'),
    sa.UniqueConstraint('stored_name', name=op.f('uq_asset_version_stored_name'))
    )
    with op.batch_alter_table('asset_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_asset_version_asset_id'), ['asset_id'], unique=False)

    op.create_table('usage_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_usage_event_asset_id_asset'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_usage_event_team_id_team'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_usage_event_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['asset_version.id'], name=op.f('fk_usage_event_version_id_asset_version'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_event'))
    )
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.create_index('ix_usage_event_asset_id_created_at', ['asset_id', 'created_at'], unique=False)
        batch_op.create_index('ix_usage_event_kind_created_at', ['kind', 'created_at'], unique=False)
        batch_op.create_index('ix_usage_event_user_id_created_at', ['user_id', 'created_at'], unique=False)



def downgrade():
    """Drop everything, children before parents."""
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_event_user_id_created_at')
        batch_op.drop_index('ix_usage_event_kind_created_at')
        batch_op.drop_index('ix_usage_event_asset_id_created_at')

    op.drop_table('usage_event')
    with op.batch_alter_table('asset_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_asset_version_asset_id'))

    op.drop_table('asset_version')
    with op.batch_alter_table('asset_stage', schema=None) as batch_op:
        batch_op.drop_index('ix_asset_stage_stage_id')

    op.drop_table('asset_stage')
    with op.batch_alter_table('asset_segment', schema=None) as batch_op:
        batch_op.drop_index('ix_asset_segment_segment_id')

    op.drop_table('asset_segment')
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_index('ix_asset_status_expires_on')

    op.drop_table('asset')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    op.drop_table('user_account')
    op.drop_table('team')
    op.drop_table('stage')
    op.drop_table('segment')

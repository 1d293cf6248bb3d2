"""share links, notifications, rate limits

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    """Tracked share links, in-app notifications, and rate-limit counters shared by workers."""
    op.create_table('rate_limit_window',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('window', sa.Integer(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window', name=op.f('pk_rate_limit_window'))
    )
    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('link', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_id_read_at', ['user_id', 'read_at'], unique=False)

    op.create_table('share_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('recipient_name', sa.String(length=120), nullable=False),
    sa.Column('recipient_email', sa.String(length=254), nullable=False),
    sa.Column('account', sa.String(length=120), nullable=False),
    sa.Column('allow_download', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('first_opened_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_share_link_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['generated_document.id'], name=op.f('fk_share_link_document_id_generated_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_share_link_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_share_link')),
    sa.UniqueConstraint('token', name=op.f('uq_share_link_token'))
    )
    with op.batch_alter_table('share_link', schema=None) as batch_op:
        batch_op.create_index('ix_share_link_user_id_created_at', ['user_id', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('share_link', schema=None) as batch_op:
        batch_op.drop_index('ix_share_link_user_id_created_at')

    op.drop_table('share_link')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_id_read_at')

    op.drop_table('notification')
    op.drop_table('rate_limit_window')

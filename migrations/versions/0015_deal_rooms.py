"""deal rooms (a buyer page per opportunity, its items in order); share links remember their deal

Revision ID: 0015
Revises: 0014

`share_link.opportunity_id` is a plain nullable column: links made before it log buyer events without
a deal, as they did. SQLite adds it through a batch copy (a foreign key cannot be added in place).
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'deal_room',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('opportunity_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('contact_phone', sa.String(length=40), nullable=False),
        sa.Column('cta_label', sa.String(length=80), nullable=False),
        sa.Column('cta_url', sa.String(length=500), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('first_visit_at', sa.DateTime(), nullable=True),
        sa.Column('last_visit_at', sa.DateTime(), nullable=True),
        sa.Column('alerted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'],
                                name=op.f('fk_deal_room_opportunity_id_opportunity'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_deal_room_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_room')),
        sa.UniqueConstraint('opportunity_id', name=op.f('uq_deal_room_opportunity_id')),
        sa.UniqueConstraint('token', name=op.f('uq_deal_room_token')),
    )
    op.create_table(
        'deal_room_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('room_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=True),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_deal_room_item_asset_id_asset'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['document_id'], ['generated_document.id'],
                                name=op.f('fk_deal_room_item_document_id_generated_document'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['room_id'], ['deal_room.id'], name=op.f('fk_deal_room_item_room_id_deal_room'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deal_room_item')),
    )
    op.create_index('ix_deal_room_item_room_id_position', 'deal_room_item', ['room_id', 'position'])
    with op.batch_alter_table('share_link') as batch:
        batch.add_column(sa.Column('opportunity_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_share_link_opportunity_id_opportunity'), 'opportunity',
                                 ['opportunity_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('share_link') as batch:
        batch.drop_constraint(op.f('fk_share_link_opportunity_id_opportunity'), type_='foreignkey')
        batch.drop_column('opportunity_id')
    op.drop_index('ix_deal_room_item_room_id_position', table_name='deal_room_item')
    op.drop_table('deal_room_item')
    op.drop_table('deal_room')

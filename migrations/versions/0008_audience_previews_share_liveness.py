"""audience, previews, share liveness, branding, draft kits

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


INTERNAL_KINDS = ('messaging', 'email_template', 'battlecard')


def upgrade():
    """Each asset's audience (set by kind for existing assets), converted previews of decks and
    documents, share links that outlive their content (and know the file version they showed) with
    the sender's message and call to action, site settings, and server-side draft pitch kits."""
    op.create_table('setting',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting'))
    )
    op.create_table('kit_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('account', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_kit_draft_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kit_draft')),
    sa.UniqueConstraint('user_id', name=op.f('uq_kit_draft_user_id'))
    )
    op.create_table('kit_draft_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_kit_draft_item_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['generated_document.id'], name=op.f('fk_kit_draft_item_document_id_generated_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['draft_id'], ['kit_draft.id'], name=op.f('fk_kit_draft_item_draft_id_kit_draft'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kit_draft_item')),
    sa.UniqueConstraint('draft_id', 'asset_id', name='uq_kit_draft_item_draft_id_asset_id'),
    sa.UniqueConstraint('draft_id', 'document_id', name='uq_kit_draft_item_draft_id_document_id')
    )
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.String(length=10), server_default='customer', nullable=False))

    with op.batch_alter_table('asset_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview_name', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('preview_note', sa.String(length=300), server_default='', nullable=False))

    with op.batch_alter_table('share_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('message', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('cta', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('meeting_url', sa.String(length=500), server_default='', nullable=False))
        batch_op.drop_constraint(batch_op.f('fk_share_link_document_id_generated_document'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_share_link_asset_id_asset'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_share_link_document_id_generated_document'), 'generated_document', ['document_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_share_link_asset_id_asset'), 'asset', ['asset_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_share_link_version_id_asset_version'), 'asset_version', ['version_id'], ['id'], ondelete='SET NULL')

    asset = sa.table('asset', sa.column('id', sa.Integer), sa.column('kind', sa.String), sa.column('audience', sa.String))
    op.execute(asset.update().where(asset.c.kind.in_(INTERNAL_KINDS)).values(audience='internal'))
    # Links made before versions were recorded show the file that is current now: they stay live.
    version = sa.table('asset_version', sa.column('id', sa.Integer), sa.column('asset_id', sa.Integer),
                       sa.column('number', sa.Integer))
    link = sa.table('share_link', sa.column('asset_id', sa.Integer), sa.column('version_id', sa.Integer))
    current = (sa.select(version.c.id).where(version.c.asset_id == link.c.asset_id)
               .order_by(version.c.number.desc()).limit(1).scalar_subquery())
    op.execute(link.update().where(link.c.asset_id.is_not(None)).values(version_id=current))


def downgrade():
    with op.batch_alter_table('share_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_share_link_version_id_asset_version'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_share_link_asset_id_asset'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_share_link_document_id_generated_document'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_share_link_asset_id_asset'), 'asset', ['asset_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_share_link_document_id_generated_document'), 'generated_document', ['document_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_column('meeting_url')
        batch_op.drop_column('cta')
        batch_op.drop_column('message')
        batch_op.drop_column('version_id')

    with op.batch_alter_table('asset_version', schema=None) as batch_op:
        batch_op.drop_column('preview_note')
        batch_op.drop_column('preview_name')

    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_column('audience')

    op.drop_table('kit_draft_item')
    op.drop_table('kit_draft')
    op.drop_table('setting')

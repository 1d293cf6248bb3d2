"""deals: CRM accounts (tagged with terms), opportunities, their stage history, marketers' plays,
the opportunity a usage event served and a draft kit is for

Revision ID: 0011
Revises: 0010

Nothing to backfill: events logged before this revision name no opportunity (the free-text
account on ratings, shares and documents stays as it was).
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('external_id', name=op.f('uq_account_external_id'))
    )
    op.create_table('account_term',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_term_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['term_id'], ['term.id'], name=op.f('fk_account_term_term_id_term'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'term_id', name=op.f('pk_account_term'))
    )
    with op.batch_alter_table('account_term', schema=None) as batch_op:
        batch_op.create_index('ix_account_term_term_id', ['term_id'], unique=False)

    op.create_table('opportunity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('close_date', sa.Date(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_opportunity_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_opportunity_owner_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], name=op.f('fk_opportunity_stage_id_stage'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity')),
    sa.UniqueConstraint('external_id', name=op.f('uq_opportunity_external_id'))
    )
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.create_index('ix_opportunity_account_id', ['account_id'], unique=False)
        batch_op.create_index('ix_opportunity_owner_id_status_close_date', ['owner_id', 'status', 'close_date'], unique=False)
        batch_op.create_index('ix_opportunity_status_closed_at', ['status', 'closed_at'], unique=False)

    op.create_table('opportunity_stage_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('opportunity_id', sa.Integer(), nullable=False),
    sa.Column('from_stage_id', sa.Integer(), nullable=True),
    sa.Column('to_stage_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['from_stage_id'], ['stage.id'], name=op.f('fk_opportunity_stage_change_from_stage_id_stage'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'], name=op.f('fk_opportunity_stage_change_opportunity_id_opportunity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_stage_id'], ['stage.id'], name=op.f('fk_opportunity_stage_change_to_stage_id_stage'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunity_stage_change'))
    )
    with op.batch_alter_table('opportunity_stage_change', schema=None) as batch_op:
        batch_op.create_index('ix_opportunity_stage_change_opportunity_id_changed_at', ['opportunity_id', 'changed_at'], unique=False)

    op.create_table('play',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('pinned_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_play_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pinned_by_id'], ['user_account.id'], name=op.f('fk_play_pinned_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], name=op.f('fk_play_stage_id_stage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['term_id'], ['term.id'], name=op.f('fk_play_term_id_term'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_play')),
    sa.UniqueConstraint('term_id', 'stage_id', 'asset_id', name='uq_play_term_id_stage_id_asset_id')
    )
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opportunity_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_usage_event_opportunity_id_kind', ['opportunity_id', 'kind', 'asset_id'], unique=False, sqlite_where=sa.text('opportunity_id IS NOT NULL'), postgresql_where=sa.text('opportunity_id IS NOT NULL'))
        batch_op.create_foreign_key(batch_op.f('fk_usage_event_opportunity_id_opportunity'), 'opportunity', ['opportunity_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('kit_draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opportunity_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_kit_draft_opportunity_id_opportunity'), 'opportunity', ['opportunity_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('kit_draft', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_kit_draft_opportunity_id_opportunity'), type_='foreignkey')
        batch_op.drop_column('opportunity_id')
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_usage_event_opportunity_id_opportunity'), type_='foreignkey')
        batch_op.drop_index('ix_usage_event_opportunity_id_kind', sqlite_where=sa.text('opportunity_id IS NOT NULL'), postgresql_where=sa.text('opportunity_id IS NOT NULL'))
        batch_op.drop_column('opportunity_id')

    op.drop_table('play')
    with op.batch_alter_table('opportunity_stage_change', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunity_stage_change_opportunity_id_changed_at')

    op.drop_table('opportunity_stage_change')
    with op.batch_alter_table('opportunity', schema=None) as batch_op:
        batch_op.drop_index('ix_opportunity_status_closed_at')
        batch_op.drop_index('ix_opportunity_owner_id_status_close_date')
        batch_op.drop_index('ix_opportunity_account_id')

    op.drop_table('opportunity')
    with op.batch_alter_table('account_term', schema=None) as batch_op:
        batch_op.drop_index('ix_account_term_term_id')

    op.drop_table('account_term')
    op.drop_table('account')

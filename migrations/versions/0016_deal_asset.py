"""deal_asset: each asset in each deal, first sent, first opened by the buyer, uses; backfilled from the log

Revision ID: 0016
Revises: 0015

The writer (`usage.record`) keeps these rows in the events' own transaction; this revision counts
them once from the whole log. The event kinds are copied here as they were when it was written.
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

SENT = "'share', 'customize'"
BUYER = "'share_open', 'share_page', 'share_download'"
USE = "'view', 'download', 'copy', 'customize', 'share'"


def upgrade():
    op.create_table(
        'deal_asset',
        sa.Column('opportunity_id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.Column('first_sent_at', sa.DateTime(), nullable=True),
        sa.Column('first_opened_at', sa.DateTime(), nullable=True),
        sa.Column('uses', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_deal_asset_asset_id_asset'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['opportunity_id'], ['opportunity.id'],
                                name=op.f('fk_deal_asset_opportunity_id_opportunity'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('opportunity_id', 'asset_id', name=op.f('pk_deal_asset')),
        sqlite_with_rowid=False,  # rows stored in key order: a deal's assets are read in one range
    )
    op.create_index('ix_deal_asset_asset_id', 'deal_asset', ['asset_id'])
    op.execute(f"""
        INSERT INTO deal_asset (opportunity_id, asset_id, first_sent_at, first_opened_at, uses)
        SELECT opportunity_id, asset_id,
               min(CASE WHEN kind IN ({SENT}) THEN created_at END),
               min(CASE WHEN kind IN ({BUYER}) THEN created_at END),
               count(CASE WHEN kind IN ({USE}) THEN 1 END)
        FROM usage_event
        WHERE opportunity_id IS NOT NULL AND asset_id IS NOT NULL
        GROUP BY opportunity_id, asset_id
    """)


def downgrade():
    op.drop_index('ix_deal_asset_asset_id', table_name='deal_asset')
    op.drop_table('deal_asset')

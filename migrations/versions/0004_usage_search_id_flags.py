"""usage search_id, flags

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    """Flags table; usage_event.search_id; the usage indexes cover the insights queries."""
    op.create_table('flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_flag_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'], name=op.f('fk_flag_resolved_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_flag_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag'))
    )
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index('ix_flag_asset_id_resolved_at', ['asset_id', 'resolved_at'], unique=False)

    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_id', sa.String(length=32), nullable=True))
        batch_op.drop_index(batch_op.f('ix_usage_event_asset_id_created_at'))
        batch_op.drop_index(batch_op.f('ix_usage_event_kind_created_at'))
        batch_op.drop_index(batch_op.f('ix_usage_event_user_id_created_at'))
        batch_op.create_index('ix_usage_event_asset_id_kind_created_at', ['asset_id', 'kind', 'created_at', 'team_id'], unique=False)
        batch_op.create_index('ix_usage_event_kind_created_at_cover', ['kind', 'created_at', 'asset_id', 'team_id', 'user_id'], unique=False)
        batch_op.create_index('ix_usage_event_user_id_created_at_kind', ['user_id', 'created_at', 'kind'], unique=False)
        batch_op.create_index('ix_usage_event_search_id', ['search_id'], unique=False, sqlite_where=sa.text('search_id IS NOT NULL'), postgresql_where=sa.text('search_id IS NOT NULL'))
    link_existing_searches()


def link_existing_searches():
    """Searches logged before this revision were tied to clicks by event id: keep those links."""
    bind = op.get_bind()
    clicked = ("json_extract(context, '$.search_id')" if bind.dialect.name == "sqlite"
               else "(context::json ->> 'search_id')")
    op.execute("UPDATE usage_event SET search_id = 'e' || id WHERE kind = 'search'")
    op.execute(f"UPDATE usage_event SET search_id = 'e' || {clicked} "
               f"WHERE kind = 'search_click' AND {clicked} IS NOT NULL")



def downgrade():
    with op.batch_alter_table('usage_event', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_event_search_id', sqlite_where=sa.text('search_id IS NOT NULL'), postgresql_where=sa.text('search_id IS NOT NULL'))
        batch_op.drop_index('ix_usage_event_asset_id_kind_created_at')
        batch_op.drop_index('ix_usage_event_kind_created_at_cover')
        batch_op.drop_index('ix_usage_event_user_id_created_at_kind')
        batch_op.create_index(batch_op.f('ix_usage_event_asset_id_created_at'), ['asset_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_event_kind_created_at'), ['kind', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_usage_event_user_id_created_at'), ['user_id', 'created_at'], unique=False)
        batch_op.drop_column('search_id')

    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index('ix_flag_asset_id_resolved_at')

    op.drop_table('flag')

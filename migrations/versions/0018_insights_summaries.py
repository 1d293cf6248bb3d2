"""Insights summaries kept by the event writer: event_day, search_day, work_session; backfilled from the log

Revision ID: 0018
Revises: 0017

The writer (`usage.record`) keeps these rows in the events' own transaction; this revision counts
them once from the whole log with `app.rollups.rebuild` (the same recount as
`flask insights rebuild-summaries`: queries are folded and sessions cut in Python).
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'event_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('team_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('last_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'kind', 'user_id', 'team_id', name=op.f('pk_event_day')),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_event_day_user_id_day', 'event_day', ['user_id', 'day'])
    op.create_table(
        'search_day',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('team_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('query', sa.String(length=300), nullable=False),
        sa.Column('filters', sa.String(length=300), nullable=False),
        sa.Column('searches', sa.Integer(), nullable=False),
        sa.Column('zero_results', sa.Integer(), nullable=False),
        sa.Column('unknown_results', sa.Integer(), nullable=False),
        sa.Column('no_click', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'team_id', 'query', 'filters', name=op.f('pk_search_day')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'work_session',
        sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=False),
        sa.Column('searched_at', sa.DateTime(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('found_at', sa.DateTime(), nullable=True),
        sa.Column('asset_id', sa.Integer(), nullable=True),
        sa.Column('searched_week', sa.String(length=8), nullable=True),
        sa.Column('minutes', sa.Float(), nullable=True),
        sa.Column('mixed_teams', sa.Boolean(), nullable=False),
        sa.Column('first_team_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('user_id', 'started_at', name=op.f('pk_work_session')),
        sqlite_with_rowid=False,
    )
    from app import rollups
    rollups.rebuild(op.get_bind())


def downgrade():
    op.drop_table('work_session')
    op.drop_table('search_day')
    op.drop_index('ix_event_day_user_id_day', table_name='event_day')
    op.drop_table('event_day')

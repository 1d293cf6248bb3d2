"""taxonomy dimensions (Industry, Company size, …) instead of one segment list; search synonyms

Revision ID: 0009
Revises: 0008

Segments become terms of two dimensions, keeping their ids (old ?segment=ID links still find
them): a segment named like a company size (Mid-Market, Enterprise, SMB, …: COMPANY_SIZES) goes
to "Company size", every other one to "Industry"; a dimension is made only if a segment goes
there (an empty database stays empty: admins add dimensions). Search events that recorded a
segment filter record it under its dimension's name, as new searches do.
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

INDUSTRY, COMPANY_SIZE = "Industry", "Company size"
COMPANY_SIZES = {"mid-market", "midmarket", "mid market", "mid-size", "midsize", "mid size", "enterprise",
                 "large enterprise", "smb", "small business", "small and medium business", "small & medium business",
                 "sme", "startup", "startups", "commercial", "small", "medium", "large"}

segment = sa.table("segment", sa.column("id", sa.Integer), sa.column("name", sa.String),
                   sa.column("position", sa.Integer))
asset_segment = sa.table("asset_segment", sa.column("asset_id", sa.Integer), sa.column("segment_id", sa.Integer))
dimension = sa.table("dimension", sa.column("id", sa.Integer), sa.column("name", sa.String),
                     sa.column("position", sa.Integer))
term = sa.table("term", sa.column("id", sa.Integer), sa.column("dimension_id", sa.Integer),
                sa.column("name", sa.String), sa.column("position", sa.Integer))
asset_term = sa.table("asset_term", sa.column("asset_id", sa.Integer), sa.column("term_id", sa.Integer))
usage_event = sa.table("usage_event", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                       sa.column("context", sa.JSON))


def upgrade():
    """Dimensions and their terms replace segments; the synonym table."""
    op.create_table('dimension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dimension')),
    sa.UniqueConstraint('name', name=op.f('uq_dimension_name'))
    )
    op.create_table('term',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dimension_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dimension_id'], ['dimension.id'], name=op.f('fk_term_dimension_id_dimension'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_term')),
    sa.UniqueConstraint('dimension_id', 'name', name='uq_term_dimension_id_name')
    )
    op.create_table('asset_term',
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_asset_term_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['term_id'], ['term.id'], name=op.f('fk_asset_term_term_id_term'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('asset_id', 'term_id', name=op.f('pk_asset_term'))
    )
    op.create_index('ix_asset_term_term_id', 'asset_term', ['term_id'], unique=False)
    op.create_table('synonym',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_synonym_updated_by_id_user_account'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synonym'))
    )
    _segments_to_terms()
    op.drop_index('ix_asset_segment_segment_id', table_name='asset_segment')
    op.drop_table('asset_segment')
    op.drop_table('segment')


def _segments_to_terms():
    conn = op.get_bind()
    rows = conn.execute(sa.select(segment.c.id, segment.c.name).order_by(segment.c.position, segment.c.id)).all()
    moved = [{"id": r.id, "name": r.name, "position": n,
              "dimension_id": 2 if r.name.strip().casefold() in COMPANY_SIZES else 1}
             for n, r in enumerate(rows, start=1)]
    used = {m["dimension_id"] for m in moved}
    if moved:
        conn.execute(dimension.insert(), [{"id": i, "name": name, "position": i}
                                          for i, name in ((1, INDUSTRY), (2, COMPANY_SIZE)) if i in used])
        conn.execute(term.insert(), moved)
        conn.execute(asset_term.insert().from_select(["asset_id", "term_id"],
                                                     sa.select(asset_segment.c.asset_id, asset_segment.c.segment_id)))
    _reset_sequences(conn, ("dimension", "term"))
    names = {r["name"]: (COMPANY_SIZE if r["dimension_id"] == 2 else INDUSTRY) for r in moved}
    _rename_filters(conn, lambda key, labels: [(names.get(label, INDUSTRY), label) for label in labels]
                    if key == "segment" else [(key, label) for label in labels])


def _reset_sequences(conn, tables):
    """Rows were inserted with their ids: PostgreSQL's sequences must continue after them."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"))


def _rename_filters(conn, relabel):
    """Rewrite the `filters` of search events: relabel(key, labels) gives (new key, label) pairs."""
    found = conn.execute(sa.select(usage_event.c.id, usage_event.c.context).where(
        usage_event.c.kind == "search", sa.cast(usage_event.c.context, sa.Text).like('%"filters"%'))).all()
    for event_id, context in found:
        context = json.loads(context) if isinstance(context, str) else dict(context or {})
        filters = context.get("filters") or {}
        renamed: dict[str, list] = {}
        for key, labels in filters.items():
            for new_key, label in relabel(key, labels):
                renamed.setdefault(new_key, []).append(label)
        if renamed != filters:
            conn.execute(usage_event.update().where(usage_event.c.id == event_id)
                         .values(context={**context, "filters": renamed}))


def downgrade():
    """Every term becomes a segment again (a name in two dimensions: one segment)."""
    op.create_table('segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment')),
    sa.UniqueConstraint('name', name=op.f('uq_segment_name'))
    )
    op.create_table('asset_segment',
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_asset_segment_asset_id_asset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_asset_segment_segment_id_segment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('asset_id', 'segment_id', name=op.f('pk_asset_segment'))
    )
    op.create_index('ix_asset_segment_segment_id', 'asset_segment', ['segment_id'], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.select(term.c.id, term.c.name).select_from(
        term.join(dimension, dimension.c.id == term.c.dimension_id))
        .order_by(dimension.c.position, term.c.position, term.c.id)).all()
    first: dict[str, int] = {}
    for r in rows:
        first.setdefault(r.name.casefold(), r.id)
    kept = [r for r in rows if first[r.name.casefold()] == r.id]
    if kept:
        conn.execute(segment.insert(), [{"id": r.id, "name": r.name, "position": n}
                                        for n, r in enumerate(kept, start=1)])
        same = {r.id: first[r.name.casefold()] for r in rows}
        links = {(a, same[t]) for a, t in conn.execute(sa.select(asset_term.c.asset_id, asset_term.c.term_id))}
        if links:
            conn.execute(asset_segment.insert(), [{"asset_id": a, "segment_id": s} for a, s in sorted(links)])
    _reset_sequences(conn, ("segment",))
    dimension_names = {name for (name,) in conn.execute(sa.select(dimension.c.name))}
    _rename_filters(conn, lambda key, labels: [("segment" if key in dimension_names else key, label)
                                               for label in labels])
    op.drop_table('synonym')
    op.drop_index('ix_asset_term_term_id', table_name='asset_term')
    op.drop_table('asset_term')
    op.drop_table('term')
    op.drop_table('dimension')

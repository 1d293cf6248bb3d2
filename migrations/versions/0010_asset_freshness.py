"""asset freshness: a review interval per asset, and who last verified it when

Revision ID: 0010
Revises: 0009

Existing assets get the review interval of their kind (the defaults of app/library/freshness.py,
copied here as they were when this revision was written) and count as checked when they were last
updated, by nobody in particular: saying "verified by" someone who never verified would be a lie,
and counting from the upgrade day would call months-old content fresh.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

REVIEW_INTERVAL_DAYS = {"battlecard": 30, "case_study": 180, "brochure": 180, "video_link": 180}
DEFAULT_INTERVAL = 90

asset = sa.table("asset", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                 sa.column("updated_at", sa.DateTime), sa.column("review_interval_days", sa.Integer),
                 sa.column("verified_at", sa.DateTime))


def upgrade():
    """Review interval, verified at and by on every asset (batch mode: see env.py on foreign keys)."""
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_interval_days', sa.Integer(), server_default='90', nullable=False))
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_asset_verified_by_id_user_account'), 'user_account',
                                    ['verified_by_id'], ['id'], ondelete='SET NULL')
    for kind, days in REVIEW_INTERVAL_DAYS.items():
        op.execute(asset.update().where(asset.c.kind == kind).values(review_interval_days=days))
    op.execute(asset.update().values(verified_at=asset.c.updated_at))
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.alter_column('verified_at', existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('asset', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_asset_verified_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('verified_by_id')
        batch_op.drop_column('verified_at')
        batch_op.drop_column('review_interval_days')

"""jobs off the request path: the job queue table; a generated document remembers the job row that made it

Revision ID: 0017
Revises: 0016

`generated_document.job_key` is a plain nullable column with a unique index (SQLite adds both in place).
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('max_attempts', sa.Integer(), nullable=False),
        sa.Column('run_after', sa.DateTime(), nullable=False),
        sa.Column('lease_until', sa.DateTime(), nullable=True),
        sa.Column('worker', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_job_user_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job')),
    )
    op.create_index('ix_job_state_run_after', 'job', ['state', 'run_after'])
    op.create_index('ix_job_user_id_created_at', 'job', ['user_id', 'created_at'])
    op.add_column('generated_document', sa.Column('job_key', sa.String(length=40), nullable=True))
    op.create_index('ix_generated_document_job_key', 'generated_document', ['job_key'], unique=True)


def downgrade():
    op.drop_index('ix_generated_document_job_key', table_name='generated_document')
    with op.batch_alter_table('generated_document') as batch:
        batch.drop_column('job_key')
    op.drop_index('ix_job_user_id_created_at', table_name='job')
    op.drop_index('ix_job_state_run_after', table_name='job')
    op.drop_table('job')

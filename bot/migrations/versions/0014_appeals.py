"""Appeals (이의신청) against a month's results

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import bot.database

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'appeals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('filed_by', sa.Integer(), nullable=False),
        sa.Column('ground', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column('file_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('filed_at', bot.database.UTCDateTime(), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('decided_at', bot.database.UTCDateTime(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('promoted_at', bot.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['filed_by'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id'),
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_status'))
    op.drop_table('appeals')

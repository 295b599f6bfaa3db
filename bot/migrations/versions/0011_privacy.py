"""Privacy: when a person's personal data was erased (withdrawn consent, or the retention period ran out),
and when they refused consent (their messenger name is no longer kept)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import bot.database

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_refused_at', bot.database.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', bot.database.UTCDateTime(), nullable=True))
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', bot.database.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.drop_column('consent_refused_at')

"""A company's phone keeps its extension (``+82221331234;ext=123``): the column holds 32 characters

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""
from collections.abc import Sequence

import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sqlmodel.sql.sqltypes.AutoString(length=20),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=32), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
                              type_=sqlmodel.sql.sqltypes.AutoString(length=20), existing_nullable=False)

"""A reviewer's conflict-of-interest pledge (version and time), and when each review was first complete
(how early a reviewer finished)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import bot.database

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pledge_version', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('pledged_at', bot.database.UTCDateTime(), nullable=True))
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completed_at', bot.database.UTCDateTime(), nullable=True))
    # Reviews finished before this column: their last change is the best estimate of when.
    op.execute(
        "UPDATE reviews SET completed_at = updated_at WHERE innovation IS NOT NULL AND safety IS NOT NULL"
        " AND applicability IS NOT NULL AND economy IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('completed_at')
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_column('pledged_at')
        batch_op.drop_column('pledge_version')

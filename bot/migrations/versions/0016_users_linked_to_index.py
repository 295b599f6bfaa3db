"""An index on the account a user is joined to: every look at a person's roles asks for the accounts joined
to them, a scan of the whole users table without it

Revision ID: 0016bench
Revises: 0012
Create Date: 2026-12-06 15:20:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0016bench'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_linked_to'), ['linked_to'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_linked_to'))

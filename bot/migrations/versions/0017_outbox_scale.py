"""Broadcasts planned in the background with their counts kept on the row; the claim's index of pending rows;
an index on joined accounts

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 15:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTERS = ('planned_through', 'planned', 'sent', 'failed', 'cancelled')


def upgrade() -> None:
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        for name in COUNTERS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    # Broadcasts of before count what their rows say.
    key = "'broadcast:' || CAST(broadcasts.id AS VARCHAR)"
    for name, states in (('planned', None), ('sent', "'sent'"), ('failed', "'failed'"), ('cancelled', "'cancelled'")):
        where = f"outbox.event_key = {key}" + (f" AND outbox.state = {states}" if states else '')
        op.execute(f"UPDATE broadcasts SET {name} = (SELECT count(*) FROM outbox WHERE {where})")
    op.create_index('ix_outbox_pending_due', 'outbox', ['due_at', 'id'], unique=False,
                    sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
    op.create_index(op.f('ix_users_linked_to'), 'users', ['linked_to'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_users_linked_to'), table_name='users')
    op.drop_index('ix_outbox_pending_due', table_name='outbox')
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        for name in reversed(COUNTERS):
            batch_op.drop_column(name)

"""conversations: one state row per person, owned by the dialogue engine

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import bot.database

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'conversations',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('flow', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('ref', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('recent', sa.JSON(), nullable=False),
        sa.Column('screen', sa.JSON(), nullable=False),
        sa.Column('menu', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('updated_at', bot.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('user_id'),
    )
    with op.batch_alter_table('form_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref', sa.JSON(), nullable=False, server_default='{}'))
        # Whether a form waits for an answer is the conversation's to say now.
        batch_op.drop_column('paused')
    # python-telegram-bot's ConversationHandler states: the engine's conversations replace them.
    op.drop_table('conversation_states')


def downgrade() -> None:
    op.create_table(
        'conversation_states',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('updated_at', bot.database.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'key'),
    )
    with op.batch_alter_table('form_drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_column('ref')
    op.drop_table('conversations')

"""KakaoTalk: the person's Kakao keys and friend status, linked accounts, file links, link codes, and the
Event API's task id on outbox rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import bot.database

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plusfriend_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column('app_user_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column('is_friend', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('inactive_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('linked_to', sa.Integer(), nullable=True))
        batch_op.create_index('ix_users_plusfriend_key', ['plusfriend_key'], unique=False)
        batch_op.create_index('ix_users_app_user_id', ['app_user_id'], unique=False)
        batch_op.create_foreign_key('fk_users_linked_to', 'users', ['linked_to'], ['id'])
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.add_column(sa.Column('task_checked_at', bot.database.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_outbox_task_id', ['task_id'], unique=False)
    op.create_table(
        'file_links',
        sa.Column('token', sa.String(length=48), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('mime', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('form', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('created_at', bot.database.UTCDateTime(), nullable=False),
        sa.Column('expires_at', bot.database.UTCDateTime(), nullable=False),
        sa.Column('used_at', bot.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('token'),
    )
    op.create_index('ix_file_links_user_id', 'file_links', ['user_id'], unique=False)
    op.create_table(
        'link_codes',
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', bot.database.UTCDateTime(), nullable=False),
        sa.Column('expires_at', bot.database.UTCDateTime(), nullable=False),
        sa.Column('used_by', sa.Integer(), nullable=True),
        sa.Column('used_at', bot.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('code'),
    )


def downgrade() -> None:
    op.drop_table('link_codes')
    op.drop_index('ix_file_links_user_id', table_name='file_links')
    op.drop_table('file_links')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_task_id')
        batch_op.drop_column('task_checked_at')
        batch_op.drop_column('task_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('fk_users_linked_to', type_='foreignkey')
        batch_op.drop_index('ix_users_app_user_id')
        batch_op.drop_index('ix_users_plusfriend_key')
        batch_op.drop_column('linked_to')
        batch_op.drop_column('inactive_reason')
        batch_op.drop_column('is_friend')
        batch_op.drop_column('app_user_id')
        batch_op.drop_column('plusfriend_key')

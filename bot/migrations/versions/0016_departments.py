"""Buying departments (수요처) as a list organizers keep; names typed before become entries of it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 15:00:00
"""
import datetime as dt
import json
import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import bot.database

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the rules of their day (bot/services/departments.py may change later).
_SEPARATORS = re.compile(r"[,、;/\n]+")


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in _SEPARATORS.split(text or "") if p.strip()]


def _fk(table: str) -> str:
    return f'fk_{table}_department_id'


def upgrade() -> None:
    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    for table in ('role_grants', 'invitations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_department_id'), ['department_id'], unique=False)
            batch_op.create_foreign_key(_fk(table), 'departments', ['department_id'], ['id'])
    # applications is a parent table: SQLite cannot rebuild it (as batch mode would) while foreign keys are
    # enforced and rows point to it, so its columns are added and dropped in place.
    op.add_column('applications', sa.Column('department_ids', sa.JSON(), nullable=True, server_default='[]'))
    op.add_column('applications', sa.Column('responsible_department_ids', sa.JSON(), nullable=True))
    with op.batch_alter_table('purchase_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))

    # Every name typed so far becomes an entry (names differing only in spaces or case are one), so the
    # officials, applications and decisions of earlier months still meet.
    conn = op.get_bind()
    now = dt.datetime.now(dt.UTC)
    departments = sa.table('departments', sa.column('id', sa.Integer), sa.column('name', sa.String),
                           sa.column('kind', sa.String), sa.column('active', sa.Boolean),
                           sa.column('created_at', bot.database.UTCDateTime(timezone=True)),
                           sa.column('updated_at', bot.database.UTCDateTime(timezone=True)))
    ids: dict[str, int] = {}

    def entry(name: str) -> int:
        key = _key(name)
        if key not in ids:
            conn.execute(departments.insert().values(name=name[:200], kind='other', active=True, created_at=now,
                                                     updated_at=now))
            ids[key] = conn.execute(sa.text('SELECT id FROM departments WHERE name = :n'), {'n': name[:200]}).scalar_one()
        return ids[key]

    for table in ('role_grants', 'invitations'):
        for row_id, name in conn.execute(sa.text(f'SELECT id, department FROM {table} WHERE department IS NOT NULL')).all():
            if name.strip():
                conn.execute(sa.text(f'UPDATE {table} SET department_id = :d WHERE id = :i'),
                             {'d': entry(name.strip()), 'i': row_id})
    for row_id, wished, responsible in conn.execute(
        sa.text('SELECT id, departments, responsible_departments FROM applications')
    ).all():
        wished_ids = list(dict.fromkeys(entry(n) for n in _split(wished)))
        responsible_ids = list(dict.fromkeys(entry(n) for n in _split(responsible))) if responsible else None
        conn.execute(sa.text('UPDATE applications SET department_ids = :w, responsible_department_ids = :r WHERE id = :i'),
                     {'w': json.dumps(wished_ids), 'r': json.dumps(responsible_ids) if responsible_ids else None,
                      'i': row_id})
    for row_id, name in conn.execute(sa.text('SELECT id, department FROM purchase_decisions')).all():
        department_id = entry(name.strip() or name)
        official = conn.execute(sa.text('SELECT name FROM departments WHERE id = :d'), {'d': department_id}).scalar_one()
        conn.execute(sa.text('UPDATE purchase_decisions SET department_id = :d, department = :n WHERE id = :i'),
                     {'d': department_id, 'n': official, 'i': row_id})

    for table in ('role_grants', 'invitations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('department')
    op.drop_column('applications', 'departments')
    op.drop_column('applications', 'responsible_departments')
    if conn.dialect.name != 'sqlite':  # SQLite keeps it nullable (see above); every row has a list all the same
        op.alter_column('applications', 'department_ids', existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table('purchase_decisions', schema=None) as batch_op:
        batch_op.alter_column('department_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_purchase_decisions_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ux_purchase_decisions_application_department', ['application_id', 'department_id'],
                              unique=True)
        batch_op.create_foreign_key(_fk('purchase_decisions'), 'departments', ['department_id'], ['id'])


def downgrade() -> None:
    conn = op.get_bind()
    names = dict(conn.execute(sa.text('SELECT id, name FROM departments')).all())
    for table in ('role_grants', 'invitations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        for row_id, department_id in conn.execute(
            sa.text(f'SELECT id, department_id FROM {table} WHERE department_id IS NOT NULL')
        ).all():
            conn.execute(sa.text(f'UPDATE {table} SET department = :n WHERE id = :i'),
                         {'n': names.get(department_id), 'i': row_id})
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(_fk(table), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_department_id'))
            batch_op.drop_column('department_id')
    op.add_column('applications', sa.Column('departments', sqlmodel.sql.sqltypes.AutoString(length=500),
                                            nullable=True, server_default=''))
    op.add_column('applications', sa.Column('responsible_departments', sqlmodel.sql.sqltypes.AutoString(length=500),
                                            nullable=True))

    def joined(raw: object) -> str | None:
        value = json.loads(raw) if isinstance(raw, str) else raw
        return ', '.join(names.get(i, '') for i in value)[:500] if value else None

    for row_id, wished, responsible in conn.execute(
        sa.text('SELECT id, department_ids, responsible_department_ids FROM applications')
    ).all():
        conn.execute(sa.text('UPDATE applications SET departments = :w, responsible_departments = :r WHERE id = :i'),
                     {'w': joined(wished) or '', 'r': joined(responsible), 'i': row_id})
    op.drop_column('applications', 'responsible_department_ids')
    op.drop_column('applications', 'department_ids')
    if conn.dialect.name != 'sqlite':
        op.alter_column('applications', 'departments', existing_type=sqlmodel.sql.sqltypes.AutoString(length=500),
                        nullable=False)
    with op.batch_alter_table('purchase_decisions', schema=None) as batch_op:
        batch_op.drop_constraint(_fk('purchase_decisions'), type_='foreignkey')
        batch_op.drop_index('ux_purchase_decisions_application_department')
        batch_op.drop_index(batch_op.f('ix_purchase_decisions_department_id'))
        batch_op.drop_column('department_id')
    op.drop_table('departments')

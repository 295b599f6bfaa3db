"""A registration number is unique among current companies only: one kept erased for the city's records after
its person withdrew consent no longer holds the number (registering it again took those records over)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 01:30:00
"""
import contextlib
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = sa.text('erased_at IS NULL')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        with _rebuilt(), op.batch_alter_table('companies', recreate='always',
                                              naming_convention={'uq': 'uq_%(table_name)s_%(column_0_name)s'}) as batch:
            batch.drop_constraint('uq_companies_brn', type_='unique')
    else:
        op.drop_constraint('companies_brn_key', 'companies', type_='unique')
    op.create_index(op.f('ix_companies_brn'), 'companies', ['brn'], unique=False)
    op.create_index('ux_companies_brn_current', 'companies', ['brn'], unique=True, sqlite_where=CURRENT,
                    postgresql_where=CURRENT)


def downgrade() -> None:
    shared = op.get_bind().execute(
        sa.text('SELECT brn FROM companies GROUP BY brn HAVING count(*) > 1 ORDER BY brn LIMIT 5')
    ).scalars().all()
    if shared:  # checked before anything changes: the database stays as it is
        raise RuntimeError(
            'cannot go below 0018: a registration number is held by a current company and by one kept for the '
            f'records of a company that withdrew consent (numbers {", ".join(shared)}); merge or remove those first'
        )
    if op.get_bind().dialect.name == 'sqlite':
        with _rebuilt(), op.batch_alter_table('companies', recreate='always') as batch:
            batch.drop_index('ux_companies_brn_current')
            batch.drop_index(op.f('ix_companies_brn'))
            batch.create_unique_constraint('uq_companies_brn', ['brn'])
    else:
        op.drop_index('ux_companies_brn_current', table_name='companies')
        op.drop_index(op.f('ix_companies_brn'), table_name='companies')
        op.create_unique_constraint('companies_brn_key', 'companies', ['brn'])


@contextlib.contextmanager
def _rebuilt() -> Iterator[None]:
    """SQLite rebuilds the table (a new one, the rows copied, the old one dropped, the new one renamed), and
    dropping a table that rows of another refer to fails while foreign keys are enforced. Enforcement can
    only be switched outside a transaction, so what is open is committed first (as SQLite's own ALTER TABLE
    guide does), and the rebuild is one transaction of its own: a failure leaves the table as it was. The
    applications that refer to companies are checked once the table has its name back."""
    raw = op.get_bind().connection.driver_connection
    if raw.in_transaction:
        raw.commit()
    raw.execute('PRAGMA foreign_keys = OFF')
    try:
        before = len(raw.execute('PRAGMA foreign_key_check(applications)').fetchall())
        raw.execute('BEGIN')
        yield
        after = len(raw.execute('PRAGMA foreign_key_check(applications)').fetchall())
        if after > before:
            raise RuntimeError(f'{after - before} applications refer to no company after rebuilding companies')
        raw.commit()
    except BaseException:
        if raw.in_transaction:
            raw.rollback()
        raise
    finally:
        raw.execute('PRAGMA foreign_keys = ON')

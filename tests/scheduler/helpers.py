from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select

from bot.models import Company, Outbox, User
from bot.services import users
from tests.harness import Harness


def make_company(harness: Harness, tg_id: int, name: str, brn: str) -> User:
    now = harness.clock.now()
    with harness.session() as session:
        user = users.ensure_user(session, "telegram", str(tg_id), now, display_name=name)
        session.add(Company(owner_user_id=user.id, name=name, brn=brn, representative="대표", size="sme",
                            address="서울 중구", contact_name="담당", phone="+821012345678", email="a@b.kr",
                            consent_version="t", consent_at=now, created_at=now, updated_at=now))  # fmt: skip
        session.commit()
        return user


async def tick_and_send(harness: Harness, at: dt.datetime) -> int:
    """Moves the clock, ticks once, and waits until the bot's dispatcher has sent everything due."""
    harness.clock.set(at)
    return (await harness.bot.tick()).planned


async def settled(harness: Harness, timeout: float = 20.0) -> None:
    await harness.bot.outbox_settled(timeout)


def outbox_rows(harness: Harness, **where: Any) -> list[Outbox]:
    with harness.session() as session:
        stmt = select(Outbox)
        for name, value in where.items():
            stmt = stmt.where(getattr(Outbox, name) == value)
        return list(session.exec(stmt.order_by(Outbox.id)).all())  # type: ignore[arg-type]

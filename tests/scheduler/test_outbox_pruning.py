"""Old outbox rows are deleted by the tick, in batches, after ``OUTBOX_RETENTION_DAYS``; a row that keeps its
message from being planned again stays until the calendar can no longer plan it, so nothing is sent twice;
a broadcast's counts outlive its rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlmodel import func, select

from bot.clock import ManualClock
from bot.models import Outbox
from bot.services import broadcasts, outbox, users
from bot.services.outbox import Planned
from bot.settings import Settings
from scheduler import tick as ticking
from tests.handlers.committee import ORGANIZER
from tests.harness import KST, Harness, running
from tests.scheduler.helpers import make_company, tick_and_send

OPENS = "신청 접수를 시작합니다"


@pytest.fixture
async def harness(settings: Settings, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running(settings.model_copy(update={"outbox_retention_days": 1}), clock) as h:
        yield h


def keys(harness: Harness) -> list[str]:
    with harness.session() as session:
        return sorted(session.exec(select(Outbox.event_key)).all())


def opened(harness: Harness, chat: int) -> int:
    return sum(OPENS in e.text for e in harness.server.events[chat])


async def test_old_rows_go_and_nothing_is_sent_twice(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.clock.set(dt.datetime(2026, 11, 30, 20, 0, tzinfo=KST))
    company = make_company(harness, 3001, "기업", "2208812340")
    chat = int(company.external_id)
    with harness.session() as session:  # three more news subscribers
        for tg in (3002, 3003, 3004):
            users.subscribe(session, users.ensure_user(session, "telegram", str(tg), harness.clock.now()), "news",
                            harness.clock.now())  # fmt: skip
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/broadcast")
    await organizer.press("소식 구독자 전체")
    await organizer.press("직접 작성")
    await organizer.send("11월의 안내", expect=2)
    await organizer.press("보내기")
    await harness.bot.outbox_settled()

    assert await tick_and_send(harness, dt.datetime(2026, 12, 1, 9, 0, tzinfo=KST)) == 1  # the window opens
    assert opened(harness, chat) == 1
    assert keys(harness) == ["2026-12:window_open", *["broadcast:1"] * 4]

    # 5 December, four days on (retention: one day): the broadcast's rows go; the window's notice stays,
    # since the calendar would plan it again until the window closes, and it is not sent again.
    monkeypatch.setattr(ticking, "PRUNE_BATCH", 3)  # batches of three: two of them
    await tick_and_send(harness, dt.datetime(2026, 12, 5, 9, 0, tzinfo=KST))
    assert keys(harness) == ["2026-12:window_open"]
    await tick_and_send(harness, dt.datetime(2026, 12, 5, 9, 5, tzinfo=KST))
    assert opened(harness, chat) == 1
    organizer.cursor = len(organizer.events)  # past the progress message's edits
    [history] = await organizer.send("/broadcasts")
    assert "11월의 안내" in history.text and "발송 4" in history.text  # the counts outlive the rows

    # March: December is out of the calendar's reach; its notice goes, and is not planned again.
    await tick_and_send(harness, dt.datetime(2027, 3, 2, 9, 0, tzinfo=KST))  # March's own notice is planned
    await tick_and_send(harness, dt.datetime(2027, 3, 4, 9, 0, tzinfo=KST))  # March's notice is old now, but
    assert "2026-12:window_open" not in keys(harness)
    assert "2027-03:window_open" in keys(harness)  # March is still in play: it stays
    assert await tick_and_send(harness, dt.datetime(2027, 3, 4, 9, 5, tzinfo=KST)) == 0
    texts = [e.text for e in harness.server.events[chat] if OPENS in e.text]
    assert len(texts) == 2 and "3월" in texts[1]


async def test_pending_and_recent_rows_stay(harness: Harness) -> None:
    now = harness.clock.now()
    with harness.session() as session:
        person = users.ensure_user(session, "telegram", "3101", now)
        later = now + dt.timedelta(days=30)
        outbox.plan(session, [Planned(person, "outbox/text", {"text": "나중"}, "reply:later", later)], now)
    with harness.session() as session:
        assert ticking.prune_outbox(session, harness.settings, now + dt.timedelta(days=10)) == 0
        assert session.exec(select(func.count()).select_from(Outbox)).one() == 1
        assert broadcasts.planning(session) is False

"""A broadcast to more people than a statement may carry parameters (65,535 on PostgreSQL, 32,766 on
SQLite): the organizer confirms, the turn answers at once, the dispatcher plans the audience in batches
while people chat, the first messages go out, and the stop button stops the rest with the counts right."""

from __future__ import annotations

from sqlmodel import func, select

from bot.clock import ManualClock
from bot.models import Broadcast, Outbox
from bot.services import outbox
from bot.settings import Settings
from tests.handlers.committee import ORGANIZER, add_subscribers
from tests.handlers.test_news import until
from tests.harness import Harness, running

PEOPLE = 70_000
FIRST = 2_000_000


async def test_a_broadcast_to_70000_starts_at_once_and_stops_with_the_counts_right(
    settings: Settings, clock: ManualClock
) -> None:
    async with running(settings, clock) as harness:
        add_subscribers(harness.db, harness.clock.now(), PEOPLE, FIRST)
        organizer = harness.user(ORGANIZER, "운영자")
        await organizer.send("/broadcast")
        await organizer.press("소식 구독자 전체")
        await organizer.press("직접 작성")
        [_, confirm] = await organizer.send("대규모 안내입니다.", expect=2)
        assert f"{PEOPLE}명에게 보냅니다" in confirm.text
        [progress] = await organizer.press("보내기")
        assert "발송 준비 중" in progress.text and f"남음: {PEOPLE}" in progress.text  # planned by the dispatcher

        # Someone chatting meanwhile is answered.
        citizen = harness.user(9801, "시민")
        [answer] = await citizen.send("/help")
        assert answer.text

        def planned() -> Broadcast:
            with harness.session() as session:
                row = session.exec(select(Broadcast)).one()
                session.expunge(row)
                return row

        await until(lambda: planned().status != "planning", 120)
        row = planned()
        assert row.status == "sending" and row.planned == row.recipients == PEOPLE
        with harness.session() as session:
            rows = session.exec(select(func.count()).select_from(Outbox).where(Outbox.event_key == "broadcast:1")).one()
        assert rows == PEOPLE
        await until(lambda: any(harness.server.events.get(FIRST + i) for i in range(50)), 30)

        await organizer.press_data("e:broadcast:stop:1", progress.message_id, expect=0)
        await until(lambda: "중지됨" in harness.server.messages[(ORGANIZER, progress.message_id)]["text"])
        await harness.bot.outbox_settled()
        await _progress_shows_the_outbox(harness, progress.message_id)


async def _progress_shows_the_outbox(harness: Harness, message_id: int) -> None:
    with harness.session() as session:
        counts = outbox.counts_for(session, "broadcast:1")
        row = session.exec(select(Broadcast)).one()
    sent = sum(1 for i in range(PEOPLE) if harness.server.events.get(FIRST + i))
    assert counts.get("sent", 0) == sent > 0 and counts["cancelled"] > 0
    assert sent + counts.get("failed", 0) + counts["cancelled"] == PEOPLE
    # The counts kept on the broadcast's row are the outbox's.
    assert (row.sent, row.failed, row.cancelled) == (sent, counts.get("failed", 0), counts["cancelled"])
    shown = str(harness.server.messages[(ORGANIZER, message_id)]["text"])
    assert f"남음: 0\n• 중지: {counts['cancelled']}" in shown, shown

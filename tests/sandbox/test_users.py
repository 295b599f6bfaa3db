"""The simulated Telegram user reads the answer to what it sent, never a message that arrived before it spoke
(a reminder or a result from the outbox), over HTTP against the stand-in Bot API."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.calendar import Month, cycle_data
from bot.models import User
from bot.sandbox.botapi import Event, Hold
from bot.services import cycles, outbox
from bot.services.outbox import Planned
from handlers.telegram.api import BotApi
from tests.harness import Harness

READY = "수요처 목록이 준비되었습니다"


async def test_a_message_from_the_outbox_is_never_taken_for_the_answer(harness: Harness) -> None:
    person = harness.user(8101, "기업")
    [welcome] = await person.send("/start")
    assert "피칭데이" in welcome.text
    # The bot writes first (as the tick would): the message arrives while the person is silent.
    now = harness.clock.now()
    with harness.session() as session:
        user = session.exec(select(User).where(User.external_id == "8101")).one()
        cycle = cycles.get_cycle(session, Month(2026, 12), harness.settings)
        outbox.plan(session, [Planned(user, "apply/departments_ready", {"cycle": cycle_data(cycle)}, "t:1", now)], now)
        session.commit()
    await harness.bot.outbox_settled()
    assert "수요처 목록이 준비되었습니다" in person.last().text

    [answer] = await person.send("/help")  # the answer to /help, not the message that came before it
    assert answer.text.startswith("도움말") and "수요처 목록" not in answer.text, answer.text
    [again] = await person.send("/schedule")  # and the next one is the next answer, not one behind
    assert "일정" in again.text and "도움말" not in again.text[:10], again.text
    [unasked] = person.take_unread()  # the transcript still shows what arrived unasked
    assert "수요처 목록이 준비되었습니다" in unasked.text
    assert person.take_unread() == []


def _plan_notice(harness: Harness, external_id: str, key: str) -> None:
    """The bot writes first, as the tick would: an outbox message to one person."""
    now = harness.clock.now()
    with harness.session() as session:
        user = session.exec(select(User).where(User.external_id == external_id)).one()
        cycle = cycles.get_cycle(session, Month(2026, 12), harness.settings)
        outbox.plan(session, [Planned(user, "apply/departments_ready", {"cycle": cycle_data(cycle)}, key, now)], now)
        session.commit()


async def _meanwhile(harness: Harness, held: Hold, asking: asyncio.Task[list[Event]], chat: int) -> None:
    """Once the answer is held at the stand-in, the outbox sends its message: it arrives before the answer."""
    await asyncio.wait_for(held.reached.wait(), 10)
    _plan_notice(harness, str(chat), f"t:{chat}")
    await harness.bot.outbox_settled()
    assert READY in harness.server.events[chat][-1].text and not asking.done()


async def test_a_message_from_the_outbox_arriving_while_the_person_waits_is_not_the_answer(harness: Harness) -> None:
    person = harness.user(8102, "기업")
    await person.send("/start")
    held = harness.server.hold_next("sendMessage", 8102)
    asking = asyncio.create_task(person.send("/help"))
    try:
        await _meanwhile(harness, held, asking, 8102)
    finally:
        held.release()
    [answer] = await asking
    assert answer.text.startswith("도움말"), answer.text
    [again] = await person.send("/schedule")  # and the next answer is the next one, not one behind
    assert "일정" in again.text and not again.text.startswith("도움말"), again.text
    [unasked] = person.take_unread()  # the transcript still shows what arrived unasked
    assert READY in unasked.text


async def test_a_message_from_the_outbox_arriving_while_a_press_is_answered_is_not_the_answer(
    harness: Harness,
) -> None:
    person = harness.user(8103, "기업")
    [welcome] = await person.send("/start")
    # The pressed button is answered at once; the screen it opens comes after the outbox's message.
    held = harness.server.hold_next("sendMessage", 8103)
    pressing = asyncio.create_task(person.press("이번 달 일정", event=welcome))
    try:
        await _meanwhile(harness, held, pressing, 8103)
    finally:
        held.release()
    [schedule] = await pressing
    assert "일정" in schedule.text and READY not in schedule.text, schedule.text
    [unasked] = person.take_unread()
    assert READY in unasked.text


async def test_an_edit_of_another_message_while_a_press_is_answered_is_not_the_answer(harness: Harness) -> None:
    """An answer edits only the pressed message; the bot keeping another one up to date (a broadcast's
    progress) edits it whenever it likes, and that edit is no answer either."""
    person = harness.user(8104, "기업")
    [welcome] = await person.send("/start")
    [schedule] = await person.send("/schedule")
    held = harness.server.hold_next("sendMessage", 8104)
    pressing = asyncio.create_task(person.press("도움말", event=welcome))
    try:
        await asyncio.wait_for(held.reached.wait(), 10)
        async with BotApi(harness.server.token, harness.server.url) as api:
            await api.call("editMessageText", {"chat_id": 8104, "message_id": schedule.message_id, "text": "갱신"})
        assert harness.server.events[8104][-1].kind == "edit"
    finally:
        held.release()
    [answer] = await pressing
    assert answer.kind == "message" and answer.text.startswith("도움말"), answer.text
    [edit] = person.take_unread()
    assert edit.kind == "edit" and edit.text == "갱신"

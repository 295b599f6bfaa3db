"""The simulated Telegram user reads the answer to what it sent, never a message that arrived before it spoke
(a reminder or a result from the outbox), over HTTP against the stand-in Bot API."""

from __future__ import annotations

from sqlmodel import select

from bot.calendar import Month, cycle_data
from bot.models import User
from bot.services import cycles, outbox
from bot.services.outbox import Planned
from tests.harness import Harness


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

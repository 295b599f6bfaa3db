"""Moved dates are explained over Telegram: Christmas 2026 moves Pitching Day, a Sunday moves selection day,
an organizer moves a date; /help, /schedule and the month's messages say which day and why, in the reader's
language, and never call the day "the last Friday"."""

from __future__ import annotations

import datetime as dt

from bot.calendar import Month
from bot.services import cycles
from tests.handlers.committee import seed_selected
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

CHRISTMAS_KO = "※ 12월 25일(금)은 공휴일(기독탄신일)이므로 피칭데이를 12월 24일(목)에 개최합니다."
CHRISTMAS_EN = "※ Fri 25 December is a public holiday (Christmas Day), so Pitching Day is held on Thu 24 December."


async def test_christmas_in_help_schedule_and_the_pitch_reminder(harness: Harness) -> None:
    person = harness.user(7301, "시민")
    for command in ("/help", "/schedule"):
        [answer] = await person.send(command)
        assert "피칭데이: 2026년 12월 24일(목) 14:00" in answer.text and CHRISTMAS_KO in answer.text, command
        assert "금요일" not in answer.text, command
    english = harness.user(7302, "Kim", language_code="en")
    [answer] = await english.send("/help")
    assert CHRISTMAS_EN in answer.text and "last Friday" not in answer.text

    seed_selected(harness, ["서울교통공사"])
    await tick_and_send(harness, dt.datetime(2026, 12, 17, 10, 0, tzinfo=KST))  # D-7
    await harness.bot.outbox_settled()
    [week] = [e.text for e in harness.server.events[8001] if "일주일 남았습니다" in e.text]
    assert CHRISTMAS_KO in week


async def test_a_sunday_moves_selection_day_and_an_organizer_moves_pitching_day(harness: Harness) -> None:
    person = harness.user(7303, "시민")
    harness.clock.set(dt.datetime(2026, 11, 2, 10, 0, tzinfo=KST))
    [november] = await person.send("/schedule")
    assert "※ 11월 15일(일)은 주말이므로 선정 결과를 11월 16일(월)에 발표합니다." in november.text
    assert "피칭데이를" not in november.text  # 27 November is the last Friday: nothing to explain

    harness.clock.set(dt.datetime(2027, 3, 2, 10, 0, tzinfo=KST))
    [march] = await person.send("/schedule")
    assert "※" not in march.text
    with harness.session() as session:
        cycles.set_override(session, Month(2027, 3), {"pitch_at": dt.datetime(2027, 3, 24, 15, 0, tzinfo=KST)},
                            harness.settings, harness.clock.now())  # fmt: skip
        session.commit()
    [moved] = await person.send("/schedule")
    assert "피칭데이: 2027년 3월 24일(수) 15:00" in moved.text
    assert "※ 피칭데이는 운영 부서가 일정을 조정하여 3월 24일(수)에 개최합니다." in moved.text
    english = harness.user(7304, "Lee", language_code="en")
    [moved] = await english.send("/schedule")
    assert "※ The organizers have moved Pitching Day to Wed 24 March." in moved.text

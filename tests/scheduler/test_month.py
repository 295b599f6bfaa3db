"""A whole month on a controlled clock: every reminder reaches the right people, once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlmodel import select

from bot.models import Application, Outbox
from tests.handlers.flows import OTHER_BRN, fill_application, register_profile, submit
from tests.harness import KST, Harness
from tests.scheduler.helpers import make_company, outbox_rows, tick_and_send


def reminder_texts(harness: Harness, chat: int, marker: str) -> list[str]:
    return [e.text for e in harness.server.events[chat] if marker in e.text]


async def test_a_month_of_reminders(harness: Harness) -> None:
    harness.clock.set(dt.datetime(2026, 11, 25, 12, 0, tzinfo=KST))
    subscriber = harness.user(2001, "구독자")
    await subscriber.send("/apply")
    await subscriber.press("알림 받기")
    idle = make_company(harness, 2004, "쉬는기업", "2208812340")
    applicant = harness.user(2002, "신청기업")
    drafter = harness.user(2003, "작성기업")
    profiling = harness.user(2005, "등록중")

    # 1 December 09:00: the window opens.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 1, 9, 0, tzinfo=KST)) == 2
    assert len(reminder_texts(harness, 2001, "신청 접수를 시작합니다")) == 1
    assert len(reminder_texts(harness, int(idle.external_id), "신청 접수를 시작합니다")) == 1
    assert await tick_and_send(harness, dt.datetime(2026, 12, 1, 9, 5, tzinfo=KST)) == 0  # idempotent

    # 3 December: one company applies, one leaves its application half-done, one its profile.
    harness.clock.set(dt.datetime(2026, 12, 3, 10, 0, tzinfo=KST))
    await register_profile(applicant)
    await fill_application(applicant, deck=False)
    receipt = await submit(applicant)
    await register_profile(drafter, brn=OTHER_BRN, name="작성기업")
    await drafter.send("미완성 제품")
    await drafter.send("/cancel")
    await profiling.send("/apply", expect=2)
    await profiling.press("동의합니다")
    await profiling.send("등록중기업")
    await profiling.send("/cancel")
    # A later tick must not tell those who already started that the window is open.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 3, 11, 0, tzinfo=KST)) == 0

    # 8 December 09:00: reminders about unfinished drafts, with what is missing.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 8, 9, 0, tzinfo=KST)) == 2
    [d8] = reminder_texts(harness, 2003, "작성 중인 피칭데이 신청서")
    assert "8개 항목 중 1개" in d8 and "기술 분야" in d8 and "가격·단가" not in d8  # optional ones are not nagged
    [p8] = reminder_texts(harness, 2005, "작성 중인 피칭데이 신청서")
    assert "기업 정보 9개 항목 중 2개" in p8

    # 10 December 18:00: the last call, to the same two.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 10, 18, 0, tzinfo=KST)) == 2
    assert len(reminder_texts(harness, 2003, "오늘 23:59에")) == 1
    assert len(reminder_texts(harness, 2005, "오늘 23:59에")) == 1

    # The window closes: a receipt summary to the applicant only.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 11, 0, 0, 1, tzinfo=KST)) == 1
    [summary] = reminder_texts(harness, 2002, "접수가 마감되었습니다")
    assert receipt in summary and "2026년 12월 15일(화)" in summary

    # The 15th: the committee selects the applicant (the selection issue sets this status).
    harness.clock.set(dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST))
    with harness.session() as session:
        app = session.exec(select(Application)).one()
        app.status = "selected"
        session.add(app)
        session.commit()
    # Pitching Day is Thu 24 December (Christmas moves it): D-7, the eve and the morning.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 17, 10, 0, tzinfo=KST)) == 1
    assert await tick_and_send(harness, dt.datetime(2026, 12, 23, 18, 0, tzinfo=KST)) == 1
    assert await tick_and_send(harness, dt.datetime(2026, 12, 24, 8, 0, tzinfo=KST)) == 1
    assert reminder_texts(harness, 2002, "일주일 남았습니다") and reminder_texts(harness, 2002, "내일은 피칭데이")
    assert len(reminder_texts(harness, 2002, "오늘은 피칭데이입니다")) == 1
    assert "2026년 12월 24일(목) 14:00" in reminder_texts(harness, 2002, "오늘은 피칭데이입니다")[0]
    assert await tick_and_send(harness, dt.datetime(2026, 12, 24, 9, 0, tzinfo=KST)) == 0

    sent = outbox_rows(harness)
    assert all(row.state == "sent" for row in sent)
    per_person = Counter((row.chat_id, row.event_key.split(":")[1]) for row in sent)
    assert max(per_person.values()) == 1  # once each
    assert sorted(k for k in per_person) == sorted([
        ("2001", "window_open"), (idle.external_id, "window_open"),
        ("2003", "draft_8th"), ("2005", "draft_8th"), ("2003", "draft_last_call"), ("2005", "draft_last_call"),
        ("2002", "receipt"), ("2002", "pitch_d7"), ("2002", "pitch_d1"), ("2002", "pitch_day"),
    ])  # fmt: skip


async def test_tick_catches_up_but_skips_what_is_moot(harness: Harness) -> None:
    drafter = harness.user(2101, "작성기업")
    await register_profile(drafter)
    await drafter.send("미완성 제품")
    await drafter.send("/cancel")
    # The bot was down from the 7th to the 9th: the reminder of the 8th still goes out on the 9th.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 9, 12, 0, tzinfo=KST)) == 1
    [row] = outbox_rows(harness, event_key="2026-12:draft_8th")
    assert row.due_at == dt.datetime(2026, 12, 8, 0, 0, tzinfo=dt.UTC)
    # Down again until after the window closed: the last call is moot and is never planned.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 12, 9, 0, tzinfo=KST)) == 0
    assert outbox_rows(harness, event_key="2026-12:draft_last_call") == []


async def test_planning_twice_makes_one_row(harness: Harness) -> None:
    from bot.services import outbox
    from bot.services.outbox import Planned

    user = make_company(harness, 2201, "기업", "2208162517")
    now = harness.clock.now()
    item = Planned(user, "reminders/window_open", {"cycle": {}}, "2026-12:test", now)
    with harness.session() as session:
        assert outbox.plan(session, [item, item], now) == 1
        assert outbox.plan(session, [item], now) == 0
        assert len(session.exec(select(Outbox)).all()) == 1


async def test_no_draft_reminder_for_a_company_told_it_is_not_eligible(harness: Harness) -> None:
    big = harness.user(2301, "대기업")
    await big.send("/apply", expect=2)
    await big.press("동의합니다")
    await big.send("대한중공업")
    await big.send(OTHER_BRN)
    await big.send("박대기")
    await big.press("대기업")
    await big.send("/cancel")
    assert await tick_and_send(harness, dt.datetime(2026, 12, 8, 9, 0, tzinfo=KST)) == 0


async def test_after_downtime_no_tomorrow_comes_on_the_day_itself(harness: Harness) -> None:
    """Back at 00:30 on Pitching Day (Thu 24 December), companies and officials were told 「내일은
    피칭데이입니다」; back on the decision deadline's day, officials were told 「내일이 마감입니다」."""
    from tests.handlers.committee import make_official, seed_selected

    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9101, "서울교통공사")
    await tick_and_send(harness, dt.datetime(2026, 12, 17, 10, 0, tzinfo=KST))  # the week's notice
    await tick_and_send(harness, dt.datetime(2026, 12, 24, 0, 30, tzinfo=KST))
    assert reminder_texts(harness, 8001, "내일은 피칭데이") == reminder_texts(harness, 9101, "내일은 피칭데이") == []
    await tick_and_send(harness, dt.datetime(2026, 12, 24, 8, 0, tzinfo=KST))
    assert reminder_texts(harness, 8001, "오늘은 피칭데이")  # the day's own reminder still comes
    await tick_and_send(harness, dt.datetime(2027, 1, 5, 10, 0, tzinfo=KST))  # three days before the deadline
    await tick_and_send(harness, dt.datetime(2027, 1, 8, 0, 5, tzinfo=KST))  # down over the 7th
    assert reminder_texts(harness, 9101, "내일이 마감") == []
    assert outbox_rows(harness, event_key="2026-12:decision_d14") == []


async def _draft_left_and_close_moved(harness: Harness, chat: int, closes: dt.datetime) -> None:
    """A company with an application left midway, and the window's close moved by an organizer."""
    from bot.calendar import Month
    from bot.services import cycles

    drafter = harness.user(chat, "작성기업")
    await register_profile(drafter, brn=OTHER_BRN, name="작성기업")
    await drafter.send("미완성 제품")
    await drafter.send("/cancel")
    with harness.session() as session:
        moved = {"window_closes_at": closes}
        cycles.set_override(session, Month(2026, 12), moved, harness.settings, harness.clock.now())


async def test_the_last_call_comes_before_a_close_an_organizer_moved_to_the_afternoon(harness: Harness) -> None:
    """The window's close moved to 17:00 on the 10th: the last call, due at 18:00, came after it and was
    never sent."""
    await _draft_left_and_close_moved(harness, 2401, dt.datetime(2026, 12, 10, 17, 0, tzinfo=KST))
    await tick_and_send(harness, dt.datetime(2026, 12, 10, 9, 0, tzinfo=KST))
    assert reminder_texts(harness, 2401, "마감됩니다") == []
    await tick_and_send(harness, dt.datetime(2026, 12, 10, 14, 0, tzinfo=KST))
    [last] = reminder_texts(harness, 2401, "마감됩니다")
    assert "17:00" in last, last


async def test_a_close_written_as_the_next_days_midnight_still_has_its_last_call(harness: Harness) -> None:
    """「2026-12-11 00:00」 is the end of the 10th: its last call fell on the 11th, at the close, moot."""
    await _draft_left_and_close_moved(harness, 2402, dt.datetime(2026, 12, 11, 0, 0, tzinfo=KST))
    await tick_and_send(harness, dt.datetime(2026, 12, 10, 18, 0, tzinfo=KST))
    assert len(reminder_texts(harness, 2402, "마감됩니다")) == 1

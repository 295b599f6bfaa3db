"""When reminders go out where an organizer moved a date, and after the bot was down over their times: each
one follows the month's dates as they are now, and a tick catching up sends only the latest of its kind."""

from __future__ import annotations

import datetime as dt

from bot.calendar import Month
from bot.services import cycles
from tests.handlers.committee import make_official, seed_selected
from tests.handlers.flows import register_profile
from tests.harness import KST, Harness
from tests.scheduler.helpers import make_company, outbox_rows, tick_and_send


def texts(harness: Harness, chat: int, marker: str) -> list[str]:
    return [e.text for e in harness.server.events[chat] if marker in e.text]


def move(harness: Harness, **changes: dt.datetime) -> None:
    with harness.session() as session:
        cycles.set_override(session, Month(2026, 12), changes, harness.settings, harness.clock.now())


async def a_draft(harness: Harness) -> None:
    drafter = harness.user(2101, "작성기업")
    harness.clock.set(dt.datetime(2026, 12, 3, 10, 0, tzinfo=KST))
    await register_profile(drafter)
    await drafter.send("미완성 제품")
    await drafter.send("/cancel")


async def test_back_after_downtime_a_draft_gets_the_last_call_alone(harness: Harness) -> None:
    await a_draft(harness)
    await tick_and_send(harness, dt.datetime(2026, 12, 10, 19, 0, tzinfo=KST))  # down from the 7th
    assert [r.event_key for r in outbox_rows(harness) if "draft" in r.event_key] == ["2026-12:draft_last_call"]


async def test_back_after_downtime_an_official_gets_one_decision_reminder(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9301, "서울교통공사")
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    await tick_and_send(harness, dt.datetime(2027, 1, 7, 11, 0, tzinfo=KST))  # down from 30 December
    [told] = texts(harness, 9301, "구매결정 기한은")
    assert "내일이 마감입니다" in told


async def test_a_weeks_notice_three_days_before_is_not_sent(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사"])
    await tick_and_send(harness, dt.datetime(2026, 12, 21, 12, 0, tzinfo=KST))  # D-7 was the 17th
    assert not [r for r in outbox_rows(harness) if r.event_key.startswith("2026-12:pitch_d7")]
    await tick_and_send(harness, dt.datetime(2026, 12, 23, 18, 0, tzinfo=KST))
    assert [r for r in outbox_rows(harness) if r.event_key.startswith("2026-12:pitch_d1")]


async def test_reminders_follow_an_organizers_dates(harness: Harness) -> None:
    make_company(harness, 2004, "쉬는기업", "2208812340")
    harness.clock.set(dt.datetime(2026, 11, 25, 10, 0, tzinfo=KST))
    move(harness, window_opens_at=dt.datetime(2026, 12, 3, 9, 0, tzinfo=KST),
         window_closes_at=dt.datetime(2026, 12, 13, 23, 59, 59, tzinfo=KST))  # fmt: skip
    await tick_and_send(harness, dt.datetime(2026, 12, 1, 9, 0, tzinfo=KST))
    assert not harness.server.events[2004]  # told "applications open" on the 1st, though they opened on the 3rd
    await tick_and_send(harness, dt.datetime(2026, 12, 3, 9, 0, tzinfo=KST))
    assert texts(harness, 2004, "신청 접수")

    await a_draft(harness)
    await tick_and_send(harness, dt.datetime(2026, 12, 10, 18, 0, tzinfo=KST))
    assert not [r for r in outbox_rows(harness) if r.event_key == "2026-12:draft_last_call"]  # "closes today"
    await tick_and_send(harness, dt.datetime(2026, 12, 13, 18, 0, tzinfo=KST))
    [last_call] = [r for r in outbox_rows(harness) if r.event_key == "2026-12:draft_last_call"]
    assert last_call.due_at == dt.datetime(2026, 12, 13, 18, 0, tzinfo=KST)
    assert len(texts(harness, 2101, "오늘 23:59에 피칭데이 신청 접수가 마감됩니다")) == 1


async def test_decision_reminders_count_from_a_moved_deadline(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9301, "서울교통공사")
    move(harness, decision_deadline_at=dt.datetime(2027, 1, 20, 23, 59, 59, tzinfo=KST))
    for day in (dt.datetime(2026, 12, 31, 10, 0, tzinfo=KST), dt.datetime(2027, 1, 7, 10, 0, tzinfo=KST)):
        await tick_and_send(harness, day)
    assert not texts(harness, 9301, "구매결정 기한은")  # the 7th day after the pitch said 「내일이 마감」
    await tick_and_send(harness, dt.datetime(2027, 1, 19, 10, 0, tzinfo=KST))
    [told] = texts(harness, 9301, "구매결정 기한은")
    assert "2027년 1월 20일" in told and "내일이 마감입니다" in told


async def test_an_early_pitching_day_still_gets_its_morning_reminder(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사"])
    move(harness, pitch_at=dt.datetime(2026, 12, 24, 8, 0, tzinfo=KST))  # at the reminder's own hour
    await tick_and_send(harness, dt.datetime(2026, 12, 24, 7, 0, tzinfo=KST))
    [morning] = [r for r in outbox_rows(harness) if r.event_key.startswith("2026-12:pitch_day")]
    assert morning.due_at == dt.datetime(2026, 12, 24, 7, 0, tzinfo=KST)


async def test_a_deadline_set_months_later_is_still_escalated(harness: Harness) -> None:
    """The tick looked two months back only: a deadline set to March for December's Pitching Day never got
    its escalation nor the companies' notice."""
    from tests.handlers.committee import ORGANIZER

    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9301, "서울교통공사")
    await harness.user(ORGANIZER, "운영자").send("/start")
    move(harness, decision_deadline_at=dt.datetime(2027, 3, 2, 23, 59, 59, tzinfo=KST))
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))  # the decision rows
    await tick_and_send(harness, dt.datetime(2027, 3, 3, 10, 0, tzinfo=KST))
    keys = {r.event_key.split(":")[1] for r in outbox_rows(harness) if r.event_key.startswith("2026-12:")}
    assert {"decision_overdue", "decision_overdue_company"} <= keys, keys

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

    from tests.handlers.committee import make_official

    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9101, "서울교통공사")
    await tick_and_send(harness, dt.datetime(2026, 12, 17, 10, 0, tzinfo=KST))  # D-7
    await harness.bot.outbox_settled()
    [week] = [e.text for e in harness.server.events[8001] if "일주일 남았습니다" in e.text]
    assert CHRISTMAS_KO in week
    [official] = [e.text for e in harness.server.events[9101] if "일주일 남았습니다" in e.text]
    assert CHRISTMAS_KO in official  # the officials' reminder said the 24th without why


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


async def test_a_published_programme_follows_pitching_day_when_moved(harness: Harness) -> None:
    """Pitching Day moved after the programme was published: the board, the slots, the .ics and the eve
    reminder stayed on the old day (and the results of a selection confirmed early went out on the old
    selection day, below)."""
    from tests.handlers.committee import ORGANIZER, make_official

    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9101, "서울교통공사")
    harness.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/programme")
    await organizer.press("게시하기")
    await harness.bot.outbox_settled()
    with harness.session() as session:  # README's example: Pitching Day on Wednesday the 23rd at 15:00
        cycles.set_override(session, Month(2026, 12), {"pitch_at": dt.datetime(2026, 12, 23, 15, 0, tzinfo=KST)},
                            harness.settings, harness.clock.now())  # fmt: skip
    await harness.bot.outbox_settled()
    [moved] = [e for e in harness.server.events[8001] if e.kind == "document"][-1:]
    assert "2026년 12월 23일(수) 15:00–15:20" in moved.text, moved.text
    ics = harness.server.files[moved.document["file_id"]].content.decode()  # type: ignore[index]
    assert "DTSTART:20261223T060000Z" in ics and "SEQUENCE:2" in ics
    assert any("2026년 12월 23일(수) 15:00" in e.text for e in harness.server.events[9101][1:])  # the new line-up
    [board] = await organizer.send("/programme")
    assert "1. 15:00–15:20 기업1" in board.text and "2차 게시" in board.text
    await tick_and_send(harness, dt.datetime(2026, 12, 22, 18, 0, tzinfo=KST))  # the eve of the new day
    [eve] = [e.text for e in harness.server.events[8001] if "내일은 피칭데이" in e.text]
    assert "12월 24일" not in eve and "12월 23일(수) 15:00" in eve


async def test_results_held_for_selection_day_follow_it_when_moved(harness: Harness) -> None:
    from bot.models import Selection
    from tests.handlers.committee import seed_applications

    ids = seed_applications(harness, 2, month="2027-01")
    at = dt.datetime(2027, 1, 14, 12, 0, tzinfo=KST)
    harness.clock.set(at)
    with harness.session() as session:  # confirmed early: held until selection day (the 15th, 10:00)
        session.add(Selection(month="2027-01", confirmed_at=at, release_at=dt.datetime(2027, 1, 15, 10, 0, tzinfo=KST),
                              decided={"selected": ids[:1], "waitlisted": [], "not_selected": ids[1:]}))  # fmt: skip
    with harness.session() as session:
        cycles.set_override(session, Month(2027, 1), {"selection_at": dt.datetime(2027, 1, 18, 10, 0, tzinfo=KST)},
                            harness.settings, harness.clock.now())  # fmt: skip
    await tick_and_send(harness, dt.datetime(2027, 1, 15, 10, 5, tzinfo=KST))
    with harness.session() as session:
        assert session.get(Selection, "2027-01").released_at is None  # type: ignore[union-attr]
    await tick_and_send(harness, dt.datetime(2027, 1, 18, 10, 0, tzinfo=KST))
    with harness.session() as session:
        assert session.get(Selection, "2027-01").released_at is not None  # type: ignore[union-attr]


async def test_pitching_day_moved_after_the_results_is_told_to_those_the_results_named_it_to(
    harness: Harness,
) -> None:
    """Moved after the results went out and before the programme was published, nobody heard of the new day,
    and the appeal deadline the results had promised (the 22nd) quietly became the eve of the new day."""
    from bot.models import Application, Selection
    from tests.handlers.committee import ensure_department, make_official, seed_applications

    ids = seed_applications(harness, 3)
    make_official(harness, 9101, "서울교통공사")
    at = dt.datetime(2026, 12, 14, 12, 0, tzinfo=KST)
    harness.clock.set(at)
    with harness.session() as session:
        app = session.get(Application, ids[0])
        assert app is not None
        app.responsible_department_ids = [ensure_department(session, "서울교통공사", at).id]
        session.add(app)
        decided = {"selected": ids[:1], "waitlisted": ids[1:2], "not_selected": ids[2:]}
        release = dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST)
        session.add(Selection(month="2026-12", confirmed_at=at, release_at=release, decided=decided))
    await tick_and_send(harness, dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST))
    assert any("2026년 12월 22일(화) 23:59까지" in e.text for e in harness.server.events[8003])  # the promise
    before = {chat: len(harness.server.events[chat]) for chat in (8001, 8002, 8003, 9101)}

    harness.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    for _ in range(2):  # set twice to the same day: told once
        with harness.session() as session:
            cycles.set_override(session, Month(2026, 12), {"pitch_at": dt.datetime(2026, 12, 18, 15, 0, tzinfo=KST)},
                                harness.settings, harness.clock.now())  # fmt: skip
    await harness.bot.outbox_settled()
    new = {chat: [e.text for e in harness.server.events[chat][n:]] for chat, n in before.items()}
    day = "• 피칭데이: 2026년 12월 18일(금) 15:00 (변경 전 2026년 12월 24일(목) 14:00)"
    appeal = "• 이의신청 기한: 2026년 12월 17일(목) 23:59 (변경 전 2026년 12월 22일(화) 23:59)"
    [selected] = new[8001]
    assert day in selected and "구매결정 기한: 2027년 1월 2일(토)" in selected and "이의신청" not in selected
    [waitlisted] = new[8002]
    assert day in waitlisted and appeal in waitlisted and "예비 순위는 변함이 없습니다" in waitlisted
    [not_selected] = new[8003]
    assert appeal in not_selected and "/appeal" in not_selected
    [official] = new[9101]
    assert day in official and "발표 순서가 확정되면" in official

    # Back to the 24th and to the 18th again: each move is told (the third was planned under the first's key).
    for pitch in (dt.datetime(2026, 12, 24, 14, 0, tzinfo=KST), dt.datetime(2026, 12, 18, 15, 0, tzinfo=KST)):
        harness.clock.advance(dt.timedelta(minutes=5))
        with harness.session() as session:
            cycles.set_override(session, Month(2026, 12), {"pitch_at": pitch}, harness.settings, harness.clock.now())
    await harness.bot.outbox_settled()
    moves = [e.text for e in harness.server.events[8001][before[8001] :] if "일정이 변경되었습니다" in e.text]
    assert len(moves) == 3 and day in moves[2]


async def test_a_decision_deadline_with_an_hour_is_written_with_it(harness: Harness) -> None:
    """An organizer's deadline at 18:00 was written as the day alone (「1월 8일(금)까지」) while recording
    stopped at 18:00; the day's end still reads as the day."""
    from tests.handlers.committee import make_official

    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9101, "서울교통공사")
    with harness.session() as session:
        deadline = {"decision_deadline_at": dt.datetime(2027, 1, 8, 18, 0, tzinfo=KST)}
        cycles.set_override(session, Month(2026, 12), deadline, harness.settings, harness.clock.now())
    await tick_and_send(harness, dt.datetime(2026, 12, 17, 10, 0, tzinfo=KST))  # the week's notice
    [official] = [e.text for e in harness.server.events[9101] if "일주일" in e.text]
    [company] = [e.text for e in harness.server.events[8001] if "일주일" in e.text]
    assert "2027년 1월 8일(금) 18:00" in official and "2027년 1월 8일(금) 18:00" in company

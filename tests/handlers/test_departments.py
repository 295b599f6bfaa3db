"""Over HTTP on Telegram: buying departments as a list, the flags of departments nobody represents, the
responsible departments changing until the programme is published, and officials told the day."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from bot.models import Application, Department, Outbox, PurchaseDecision, User
from tests.handlers.committee import ORGANIZER, make_official, seed_applications
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

AFTER_SELECTION_DAY = dt.datetime(2026, 12, 15, 11, 0, tzinfo=KST)


def decisions_of(harness: Harness, app_id: int) -> list[tuple[str, int]]:
    with harness.session() as session:
        rows = session.exec(select(PurchaseDecision).where(PurchaseDecision.application_id == app_id)).all()
        return sorted((d.department, d.department_id) for d in rows)


def entry(harness: Harness, name: str) -> int:
    with harness.session() as session:
        found = session.exec(select(Department).where(Department.name == name)).one()
        return found.id or 0


async def test_departments_are_flagged_changed_until_publication_and_matched_by_id(harness: Harness) -> None:
    [first, second, _] = seed_applications(harness, 3)  # the companies wished 수요처1, 수요처2, 수요처3
    make_official(harness, 9501, "수요처1")
    harness.clock.set(AFTER_SELECTION_DAY)
    organizer = harness.user(ORGANIZER, "운영자")

    # Confirming names the departments nobody in the bot represents, and how to invite an official.
    await organizer.send("/selection 2026-12")
    [ask] = await organizer.press("선정 확정")
    assert "⚠ 담당자가 없는 수요처: 수요처2, 수요처3" in ask.text and "/invite 수요처 담당자로" in ask.text
    [done] = await organizer.press("예, 확정합니다")
    assert "결과 3건을 발송했습니다" in done.text and "⚠ 담당자가 없는 수요처: 수요처2, 수요처3" in done.text
    assert decisions_of(harness, second) == [("수요처2", entry(harness, "수요처2"))]

    # After the confirmation the responsible departments still change: picked from the list by typing.
    [board] = await organizer.send("/selection 2026-12")
    assert "PD-202612-0002" in " ".join(board.button_texts())
    await organizer.press("PD-202612-0002")
    [form] = await organizer.press("담당 수요처")
    assert "선택하신 수요처: 수요처2" in form.text and form.button_texts()[0] == "✅ 수요처2"
    [found] = await organizer.send("기후")
    assert "선택하신 수요처: 수요처2, 기후환경본부" in found.text
    await organizer.press("✅ 수요처2", expect=0)
    [saved, card] = await organizer.press("선택 완료", expect=2)
    assert "⚠ 담당자가 없는 수요처: 기후환경본부" in saved.text
    assert "담당 수요처: 기후환경본부" in card.text and "희망 수요처: 수요처2" in card.text
    climate = entry(harness, "기후환경본부")
    assert decisions_of(harness, second) == [("기후환경본부", climate)]  # the open decision followed

    # An official is invited to that entry; a rename later changes nothing of who decides what.
    [made] = await organizer.send("/invite 수요처 담당자 기후")  # as the confirmation put it
    assert "수요처 담당자 초대를 만들었습니다 (기후환경본부)" in made.text
    payload = made.text.split("start=")[1].split()[0]
    official = harness.user(9502, "기후 담당")
    [joined] = await official.send(f"/start {payload}")
    assert "(기후환경본부)" in joined.text
    await organizer.send("/departments 기후")
    await organizer.press("기후환경본부")
    await organizer.press("이름 변경")
    [renamed, _] = await organizer.send("기후환경본부(개편)", expect=2)
    assert "「기후환경본부(개편)」을 저장했습니다" in renamed.text
    assert decisions_of(harness, second) == [("기후환경본부(개편)", climate)]

    # Publishing names the one department still without an official.
    with harness.session() as session:  # the first company and 수요처1's official read English
        for person in session.exec(select(User).where(col(User.external_id).in_(["8001", "9501"]))):
            person.language = "en"
    await organizer.send("/programme 2026-12")
    await organizer.press("장소")
    await organizer.send("서울특별시청 본관 8층 다목적홀")
    [published] = await organizer.press("게시하기")
    assert "1차 프로그램을 게시했습니다" in published.text
    assert "⚠ 담당자가 없는 수요처: 수요처3" in published.text and "기후" not in published.text
    await harness.bot.outbox_settled()

    # Officials are told the day: the date, time and venue, with an .ics of the whole programme.
    [lineup] = [e for e in harness.server.events[9502] if "발표 순서" in e.text]
    assert "• 일시: 2026년 12월 24일(목) 14:00–15:00" in lineup.text
    assert "• 장소: 서울특별시청 본관 8층 다목적홀" in lineup.text and "2. 14:20 기업2" in lineup.text
    assert "발표자료" not in lineup.text  # no company handed one in: none is promised
    assert lineup.kind == "document" and lineup.document["file_name"] == "pitchday-2026-12.ics"  # type: ignore[index]
    ics = harness.server.files[lineup.document["file_id"]].content.decode()  # type: ignore[index]
    assert "DTSTART:20261224T050000Z" in ics and "DTEND:20261224T060000Z" in ics
    assert "LOCATION:서울특별시청 본관 8층 다목적홀" in ics and "SUMMARY:혁신제품 피칭데이 2026년 12월" in ics
    assert "2번째 14:20 기업2 — 제품2" in ics.replace("\r\n ", "")
    [theirs] = [e for e in harness.server.events[9501] if e.kind == "document"]  # 수요처1 judges company 1
    assert "기업1 — 제품1 (your department)" in theirs.text and "기업2 — 제품2 (your department)" not in theirs.text
    ics = harness.server.files[theirs.document["file_id"]].content.decode().replace("\r\n ", "")  # type: ignore[index]
    assert "SUMMARY:Innovation Product Pitching Day December 2026" in ics and "No. 1 at 14:00: 기업1 — 제품1" in ics
    # Each company's slot comes with an .ics of its own pitch, in its language too.
    for company, words in ((8001, "SUMMARY:Innovation Product Pitching Day pitch: 제품1"),
                           (8002, "SUMMARY:혁신제품 피칭데이 발표: 제품2")):  # fmt: skip
        [slot] = [e for e in harness.server.events[company] if e.kind == "document"]
        assert words in harness.server.files[slot.document["file_id"]].content.decode()  # type: ignore[index]

    # Published: the responsible departments are fixed now.
    [board] = await organizer.send("/selection 2026-12")
    assert board.button_texts() == ["↩ 0001 선정 포기", "↩ 0002 선정 포기", "↩ 0003 선정 포기"]  # no card to change
    [locked] = await organizer.press_data(f"e:selection:departments:{first}", board.message_id)
    assert "게시되어 담당 수요처를 더 바꿀 수 없습니다" in locked.text

    # The week before and the eve, at the companies' times, the officials who judge are reminded; once.
    week = dt.datetime(2026, 12, 17, 10, 0, tzinfo=KST)
    assert await tick_and_send(harness, week) >= 2
    assert await tick_and_send(harness, week) == 0
    await tick_and_send(harness, dt.datetime(2026, 12, 23, 18, 0, tzinfo=KST))
    await harness.bot.outbox_settled()
    reminders = [e.text for e in harness.server.events[9502] if ("피칭데이" in e.text and "남았습니다" in e.text)
                 or "내일은 피칭데이" in e.text]  # fmt: skip
    assert len(reminders) == 2
    assert "• 장소: 서울특별시청 본관 8층 다목적홀" in reminders[0] and "기업2(제품2)" in reminders[0]
    assert "일주일" in reminders[0] and "내일은" in reminders[1]
    with harness.session() as session:
        keys = sorted(
            r.event_key for r in session.exec(select(Outbox).where(Outbox.template == "reminders/pitch_official"))
        )
        app = session.get(Application, second)
        assert app is not None and app.responsible_department_ids == [climate]
    assert keys == ["2026-12:pitch_d1_official", "2026-12:pitch_d1_official", "2026-12:pitch_d7_official",
                    "2026-12:pitch_d7_official"]  # fmt: skip

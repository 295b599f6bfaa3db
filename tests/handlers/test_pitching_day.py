"""Pitching Day: the programme, its publication and changes, purchase decisions, reminders, export."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from sqlmodel import select

from bot.models import AuditLog, Outbox, PurchaseDecision
from tests.handlers.committee import ORGANIZER, exported, make_official, seed_selected
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

AFTER_PITCH = dt.datetime(2026, 12, 24, 17, 0, tzinfo=KST)


async def test_programme_published_then_changed(harness: Harness) -> None:
    deck = harness.server.upload(b"%PDF-1.4 deck", "deck.pdf", "application/pdf")
    seed_selected(harness, ["서울교통공사", "서울교통공사, 도시기반시설본부", "푸른도시여가국"])
    with harness.session() as session:
        from bot.models import Application

        for app in session.exec(select(Application)).all():
            app.deck_file_id = deck
            session.add(app)
        session.commit()
    make_official(harness, 9101, "서울교통공사")
    make_official(harness, 9102, "도시기반시설본부")
    harness.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER, "운영자")
    [board] = await organizer.send("/programme")
    assert "미게시" in board.text and "1. 14:00–14:20 기업1" in board.text and "3. 14:40–15:00 기업3" in board.text
    [board] = await organizer.press("▲ 3")
    assert "2. 14:20–14:40 기업3" in board.text
    await organizer.press("장소")
    [board] = await organizer.send("서울특별시청 본관 8층 다목적홀")
    assert "장소: 서울특별시청 본관 8층 다목적홀" in board.text
    await organizer.press("시작 시각")
    [again] = await organizer.send("25:00")
    assert "14:00 또는 오후 2시처럼" in again.text
    [board] = await organizer.send("15:00")
    await organizer.press("발표 시간")
    [board] = await organizer.send("30")
    assert "1. 15:00–15:30 기업1" in board.text and "3. 16:00–16:30 기업2" in board.text
    [done] = await organizer.press("게시하기")
    assert "1차 프로그램을 게시" in done.text
    await harness.bot.outbox_settled()

    [slot] = [e for e in harness.server.events[8002] if e.kind == "document"]
    assert "3번째" in slot.text and "2026년 12월 24일(목) 16:00–16:30" in slot.text and "다목적홀" in slot.text
    calendar_file = harness.server.files[slot.document["file_id"]].content.decode()  # type: ignore[index]
    assert "DTSTART:20261224T070000Z" in calendar_file and "DTEND:20261224T073000Z" in calendar_file
    assert "LOCATION:서울특별시청 본관 8층 다목적홀" in calendar_file and "SEQUENCE:1" in calendar_file
    metro = harness.server.events[9101]
    assert "발표 순서를 알려 드립니다" in metro[0].text and "(귀 부서 담당)" in metro[0].text
    assert "발표자료 2건을 이어서 보내 드립니다" in metro[0].text
    assert [e.document["file_id"] for e in metro[1:]] == [deck, deck]  # companies 1 and 2: the Metro judges both
    assert len(harness.server.events[9102]) == 2  # the line-up and company 2's deck

    # A change after publishing reaches only those it affects.
    before = {tg: len(harness.server.events[tg]) for tg in (8001, 8002, 8003, 9101, 9102)}
    await organizer.send("/programme")
    await organizer.press("▲ 3")  # company 2 moves before company 3
    [done] = await organizer.press("게시하기")
    assert "2차" in done.text
    await harness.bot.outbox_settled()
    assert len(harness.server.events[8001]) == before[8001]  # unchanged slot: no message
    assert (
        "변경되었습니다" in harness.server.events[8002][-1].text
        and "15:30–16:00" in harness.server.events[8002][-1].text
    )
    assert "변경되었습니다" in harness.server.events[8003][-1].text
    assert len(harness.server.events[9101]) > before[9101] and len(harness.server.events[9102]) > before[9102]
    await organizer.send("/programme")
    [same] = await organizer.press("게시하기")
    assert "바뀐 내용이 없어" in same.text


async def test_decisions_every_path_with_confirmation_and_correction(harness: Harness) -> None:
    [a, b] = seed_selected(harness, ["서울교통공사", "서울교통공사"])
    make_official(harness, 9201, "서울교통공사")
    make_official(harness, 9202, "서울교통공사")  # a second official of the same department
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))  # decision rows exist
    official = harness.user(9201, "담당자")
    harness.clock.set(dt.datetime(2026, 12, 20, 10, 0, tzinfo=KST))
    [listing] = await official.send("/decisions")
    assert "미결정, 기한 2027년 1월 8일(금)" in listing.text
    # Told at once when decisions open, with no company to pick yet.
    assert "피칭데이(2026년 12월 24일(목) 14:00)부터 입력하실 수 있으며" in listing.text and not listing.buttons
    with harness.session() as session:
        first = session.exec(select(PurchaseDecision).where(PurchaseDecision.application_id == a)).one()
    [early] = await official.press_data(f"e:decisions:open:{first.id}", 1)  # a button from another screen
    assert "피칭데이(2026년 12월 24일(목) 14:00)부터 2027년 1월 8일(금) 23:59까지" in early.text

    harness.clock.set(AFTER_PITCH)
    await official.send("/decisions")
    await official.press("기업1")
    [ask] = await official.press("구매")
    assert "수량 또는 금액" in ask.text
    await official.send("10대, 4억 8천만 원")
    await official.press("건너뛰기")
    [confirm] = harness.server.events[9201][-1:]
    assert "구매" in confirm.text and "10대, 4억 8천만 원" in confirm.text
    [saved] = await official.press("확정")
    assert "결정을 저장하고 기업에 안내" in saved.text
    await harness.bot.outbox_settled()
    [told] = [e.text for e in harness.server.events[8001] if "결정했습니다" in e.text]
    assert "서울교통공사에서 「제품1」을 구매하기로 결정했습니다." in told, told  # it said "decided whether to"
    assert "결정: 구매" in told and "10대, 4억 8천만 원" in told and "서울교통공사 담당자가 계약 절차" in told

    # The other official of the department corrects it: not buying needs a reason.
    other = harness.user(9202, "다른 담당자")
    await other.send("/decisions")
    await other.press("기업1")
    await other.press("미구매")
    [again] = await other.send("   ")
    assert "사유가 필요합니다" in again.text
    await other.send("올해 예산이 확보되지 않았습니다.")
    [saved] = await other.press("확정")
    assert "정정한 결정" in saved.text
    await harness.bot.outbox_settled()
    [corrected] = [e.text for e in harness.server.events[8001] if "정정되었습니다" in e.text]
    assert "미구매" in corrected and "예산이 확보되지" in corrected

    # More review, then a cancelled attempt that changes nothing.
    await official.send("/decisions")
    await official.press("기업2")
    await official.press("추가 검토")
    await official.send("현장 실증 후 결정하겠습니다.")
    await official.press("확정")
    await official.send("/decisions")
    await official.press("기업2")
    await official.press("구매")
    [cancelled] = await official.press("취소")
    assert "바뀌지 않았습니다" in cancelled.text
    with harness.session() as session:
        rows = {d.application_id: d for d in session.exec(select(PurchaseDecision)).all()}
        assert (rows[a].status, rows[a].corrections, rows[a].reason) == (
            "no_buy",
            1,
            "올해 예산이 확보되지 않았습니다.",
        )
        assert rows[b].status == "review" and rows[b].amount is None
        actions = [x.action for x in session.exec(select(AuditLog)).all()]
        assert actions.count("decision_recorded") == 2 and actions.count("decision_corrected") == 1

    # After the deadline nothing can change.
    harness.clock.set(dt.datetime(2027, 1, 9, 0, 0, 1, tzinfo=KST))
    [late] = await official.press_data(f"e:decisions:open:{rows[a].id}", 1)
    assert "기한(2027년 1월 8일(금) 23:59)이 지나" in late.text


async def test_reminders_escalation_board_and_export(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사", "푸른도시여가국"])
    make_official(harness, 9301, "서울교통공사")
    make_official(harness, 9302, "푸른도시여가국")
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    harness.clock.set(AFTER_PITCH)
    park = harness.user(9302)
    await park.send("/decisions")
    await park.press("기업2")
    await park.press("구매")
    await park.press("건너뛰기")
    await park.press("건너뛰기")
    await park.press("확정")
    # D+7, D+12 and D+14 at 10:00: only the department still open is reminded.
    for day, marker in ((31, "decision_d7"), (5, "decision_d12"), (7, "decision_d14")):
        year, month = (2026, 12) if day == 31 else (2027, 1)
        await tick_and_send(harness, dt.datetime(year, month, day, 10, 0, tzinfo=KST))
        with harness.session() as session:
            rows = session.exec(select(Outbox).where(Outbox.event_key == f"2026-12:{marker}")).all()
        assert [r.chat_id for r in rows] == ["9301"], marker
    metro = [e.text for e in harness.server.events[9301] if "구매결정 기한은" in e.text]
    assert len(metro) == 3 and "기업1" in metro[0] and "내일이 마감" in metro[2]
    assert not [e for e in harness.server.events[9302] if "구매결정 기한은" in e.text]
    # After the deadline: an escalation to the organizers.
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/start")
    await tick_and_send(harness, dt.datetime(2027, 1, 9, 9, 0, tzinfo=KST))
    [escalation] = [e.text for e in harness.server.events[ORGANIZER] if "기한" in e.text and "지났으나" in e.text]
    assert "서울교통공사: 기업1" in escalation
    organizer.cursor = len(organizer.events)  # the escalation has been read
    [board] = await organizer.send("/decisions 2026-12")
    assert "결정 1 · 미결정 0 · 기한 초과 1" in board.text and "기업1 / 서울교통공사: 미결정 (기한 초과)" in board.text

    [document] = await organizer.send("/export 2026-12")
    assert document.kind == "document" and document.document["file_name"] == "pitchday-2026-12.xlsx"  # type: ignore[index]
    book = openpyxl.load_workbook(io.BytesIO(harness.server.files[document.document["file_id"]].content))  # type: ignore[index]
    assert book.sheetnames == ["신청", "심사", "선정", "프로그램", "구매결정", "결과·이의신청"]
    apps = list(book["신청"].iter_rows(values_only=True))
    assert apps[0][:3] == ("접수번호", "기업명", "사업자등록번호") and len(apps) == 3
    decisions = {row[1]: row for row in book["구매결정"].iter_rows(min_row=2, values_only=True)}
    assert decisions["기업2"][2:4] == ("푸른도시여가국", "구매") and decisions["기업1"][3] == "미결정"
    assert decisions["기업1"][10] == "예"  # overdue
    selection = list(book["선정"].iter_rows(min_row=2, values_only=True))
    assert {row[2] for row in selection} == {"기업1", "기업2"}
    with harness.session() as session:
        escalations = session.exec(select(Outbox).where(Outbox.template == "reminders/escalation")).all()
        assert len(escalations) == 1

    # The department answers late, to the organizers: they record it (nobody could, and the board had nothing
    # to press, though the company had been promised an answer), and the company is told.
    # A decided one can be corrected too (an official asking to change one was told to ask the organizers, who
    # could not).
    assert "운영자가 기록하거나 정정할 수 있습니다" in board.text
    assert board.button_texts() == ["1. 기업1 / 서울교통공사", "2. 기업2 / 푸른도시여가국"]
    await organizer.press("기업1")
    await organizer.press("미구매")
    await organizer.send("내년 예산에 반영하기로 했습니다.")
    [saved] = await organizer.press("확정")
    assert "결정을 저장하고 기업에 안내" in saved.text
    await harness.bot.outbox_settled()
    [told] = [e.text for e in harness.server.events[8001] if "결정했습니다" in e.text]
    assert "구매하지 않기로 결정했습니다" in told and "결정: 미구매" in told
    assert "내년 예산에 반영하기로 했습니다." in told
    with harness.session() as session:
        recorded = [a.data for a in session.exec(select(AuditLog)) if a.action == "decision_recorded"]
        assert [(r["new"], r.get("late")) for r in recorded] == [("buy", None), ("no_buy", True)]
    await organizer.send("/decisions")
    await organizer.press("기업2")
    await organizer.press("추가 검토")
    await organizer.send("수요처 요청으로 정정합니다.")
    [corrected] = await organizer.press("확정")
    assert "정정한 결정을 저장하고" in corrected.text
    await harness.bot.outbox_settled()
    assert any("정정되었습니다" in e.text for e in harness.server.events[8002])


async def test_refusals_outside_the_department_or_role(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9401, "푸른도시여가국")  # another department
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    harness.clock.set(AFTER_PITCH)
    with harness.session() as session:
        decision = session.exec(select(PurchaseDecision)).one()
    company = harness.user(8001, "기업1")
    outsider = harness.user(9401, "다른 부서")
    for person in (company, outsider):
        [answer] = await person.press_data(f"e:decisions:open:{decision.id}", 1)
        assert "권한이 없어" in answer.text
    for command in ("/programme", "/export", "/decisions"):
        [answer] = await company.send(command)
        assert "권한이 없어" in answer.text, command
    [listing] = await outsider.send("/decisions")
    assert "귀 부서가 담당하는 발표 기업이 없어 지금 입력하실 구매결정이 없습니다" in listing.text
    # After this month's Pitching Day the next one is named (it said this month's was "from then").
    assert "2027년 1월 피칭데이는" in listing.text and "2026년 12월 피칭데이는" not in listing.text, listing.text
    for data in ("e:programme:pub:2026-12", "e:programme:up:2026-12:1", "e:programme:edit:2026-12:venue"):
        [answer] = await outsider.press_data(data, 1)
        assert "권한이 없어" in answer.text, data
    with harness.session() as session:
        assert session.exec(select(PurchaseDecision)).one().status == "open"


async def test_the_default_venue_reaches_an_english_company_in_english(harness: Harness) -> None:
    """The settings' venue is Korean; an English reader's slot message and calendar file name it in English.
    A venue the organizer types is shown to everyone as typed."""
    from bot.models import User

    seed_selected(harness, ["서울교통공사", "서울교통공사"])
    with harness.session() as session:
        english = session.exec(select(User).where(User.external_id == "8001")).one()
        english.language = "en"
        session.add(english)
        session.commit()
    harness.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER, "운영자")
    [board] = await organizer.send("/programme")
    assert "장소: 서울특별시청 본관 다목적홀" in board.text
    await organizer.press("게시하기")
    await harness.bot.outbox_settled()
    [slot] = [e for e in harness.server.events[8001] if e.kind == "document"]
    assert "Venue: Multipurpose Hall, Seoul City Hall (Main Building)" in slot.text and "다목적홀" not in slot.text
    calendar_file = harness.server.files[slot.document["file_id"]].content.decode()  # type: ignore[index]
    assert "LOCATION:Multipurpose Hall\\, Seoul City Hall (Main Building)" in calendar_file
    [korean] = [e for e in harness.server.events[8002] if e.kind == "document"]
    assert "서울특별시청 본관 다목적홀" in korean.text
    book = await exported(harness, "en")
    assert {row[5] for row in book[book.sheetnames[3]].iter_rows(min_row=2, values_only=True)} == {
        "Multipurpose Hall, Seoul City Hall (Main Building)"
    }

    await organizer.send("/programme")
    await organizer.press("장소")
    await organizer.send("서울특별시청 본관 8층 다목적홀")
    await organizer.press("게시하기")
    await harness.bot.outbox_settled()
    changed = [e for e in harness.server.events[8001] if e.kind == "document"][-1]
    assert "Venue: 서울특별시청 본관 8층 다목적홀" in changed.text

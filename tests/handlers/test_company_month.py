"""A selected company's month over Telegram: its own slot and the venue in every pitch reminder, each
department's decision in /status, a plain word when a department misses the deadline, and the waitlist
taking the place of a company that gives it up."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.models import Application, AuditLog, Outbox, PurchaseDecision, Selection
from tests.handlers.committee import ORGANIZER, exported, make_official, seed_applications, seed_selected
from tests.handlers.waitlist import messages, seed_released
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

AFTER_PITCH = dt.datetime(2026, 12, 28, 10, 0, tzinfo=KST)
VENUE = "장소: 서울특별시청 본관 다목적홀"


def texts(harness: Harness, tg: int, marker: str) -> list[str]:
    return [e.text for e in harness.server.events[tg] if marker in e.text]


async def decide(harness: Harness, official_tg: int, company: str, choice: str, typed: str | None = None) -> None:
    """An official records a decision: 구매 with an amount, or 미구매/추가 검토 with a reason."""
    official = harness.user(official_tg, "담당자")
    await official.send("/decisions")
    await official.press(company)
    await official.press(choice)
    if choice == "구매":
        await official.send(typed or "10대")
        await official.press("건너뛰기")
    else:
        await official.send(typed or "예산이 없습니다.")
    await official.press("확정")


async def test_the_result_and_pitch_reminders_name_the_companys_slot_and_venue(harness: Harness) -> None:
    ids = seed_applications(harness, 2)
    with harness.session() as session:  # confirmed, held until the 15th
        session.add(Selection(month="2026-12", confirmed_at=harness.clock.now(),
                              release_at=dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST),
                              decided={"selected": ids[:1], "waitlisted": ids[1:], "not_selected": []}))  # fmt: skip
    await tick_and_send(harness, dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST))
    [selected] = texts(harness, 8001, "선정되었습니다")
    assert VENUE in selected and "세부 발표 순서는 별도로" in selected
    [waiting] = texts(harness, 8002, "예비 1순위")
    assert "자리가 생기면 예비 순위에 따라" in waiting and "이 대화로 바로 연락드리겠습니다" in waiting

    # A week before, the programme is not published: the day and the venue, and the slot will follow.
    await tick_and_send(harness, dt.datetime(2026, 12, 17, 10, 0, tzinfo=KST))
    [week] = texts(harness, 8001, "일주일 남았습니다")
    assert "발표 순서가 정해지는 대로 따로 알려 드립니다" in week and VENUE in week


async def test_pitch_reminders_and_status_follow_the_published_programme(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사", "서울교통공사, 푸른도시여가국", "푸른도시여가국"])
    harness.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    third = harness.user(8003, "기업3")
    [status] = await third.send("/status")
    assert "발표 순서는 정해지는 대로 알려 드립니다" in status.text and "서울특별시청 본관 다목적홀" in status.text
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/programme")
    await organizer.press("시작 시각")
    await organizer.send("15:00")
    await organizer.press("게시하기")
    await harness.bot.outbox_settled()

    await tick_and_send(harness, dt.datetime(2026, 12, 23, 18, 0, tzinfo=KST))
    [eve] = texts(harness, 8003, "내일은 피칭데이")
    assert "2026년 12월 24일(목) 15:40–16:00 (3번째 발표)" in eve and VENUE in eve and "14:00" not in eve
    await tick_and_send(harness, dt.datetime(2026, 12, 24, 8, 0, tzinfo=KST))
    [morning] = texts(harness, 8001, "오늘은 피칭데이")
    assert "15:00–15:20 (1번째 발표)" in morning and VENUE in morning
    third.cursor = len(third.events)  # the reminders have been read
    [status] = await third.send("/status")
    assert "15:40–16:00에 3번째로 발표하십니다" in status.text

    # After the pitch, /status shows each responsible department's decision, or that it is open.
    make_official(harness, 9501, "서울교통공사")
    harness.clock.set(AFTER_PITCH)
    await decide(harness, 9501, "기업1", "구매", "10대, 4억 8천만 원")
    await decide(harness, 9501, "기업2", "미구매", "올해 예산이 없습니다.")
    await harness.bot.outbox_settled()  # the decisions' notices have arrived
    first, second = harness.user(8001, "기업1"), harness.user(8002, "기업2")  # read from here on
    [status] = await first.send("/status")
    assert "발표하셨습니다" in status.text and "기한 2027년 1월 8일(금) 23:59" in status.text
    assert "서울교통공사: 구매, 10대, 4억 8천만 원" in status.text
    [status] = await second.send("/status")
    assert "서울교통공사: 미구매 — 올해 예산이 없습니다." in status.text
    assert "푸른도시여가국: 미결정 — 기한까지 결정되면 바로 알려 드립니다" in status.text
    harness.clock.set(dt.datetime(2027, 1, 9, 12, 0, tzinfo=KST))
    [status] = await second.send("/status")
    assert "(기한 2027년 1월 8일(금) 지남)" in status.text
    assert "푸른도시여가국: 미결정 — 기한이 지나 운영기관이 수요처에 확인을 요청했습니다" in status.text


async def test_an_overdue_decision_is_explained_to_the_company_once(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사, 푸른도시여가국", "서울교통공사"])
    make_official(harness, 9601, "서울교통공사")
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))  # decision rows exist
    harness.clock.set(AFTER_PITCH)
    await decide(harness, 9601, "기업1", "구매")
    await decide(harness, 9601, "기업2", "추가 검토", "실증 후 결정합니다.")
    await harness.user(ORGANIZER, "운영자").send("/start")
    await tick_and_send(harness, dt.datetime(2027, 1, 8, 23, 0, tzinfo=KST))
    assert messages(harness, "reminders/decision_overdue") == []  # not before the deadline
    # Just after midnight the organizers are asked to follow up; the company hears at the morning hour.
    await tick_and_send(harness, dt.datetime(2027, 1, 9, 0, 5, tzinfo=KST))
    [escalation] = texts(harness, ORGANIZER, "지났으나")
    assert "푸른도시여가국: 기업1" in escalation and "2027년 1월 15일(금)까지 결과를 알려 드린다고" in escalation
    assert not texts(harness, 8001, "도착하지 않았습니다")
    await tick_and_send(harness, dt.datetime(2027, 1, 9, 10, 0, tzinfo=KST))
    [notice] = texts(harness, 8001, "도착하지 않았습니다")
    assert "결정을 기다리는 수요처: 푸른도시여가국" in notice and "서울교통공사" not in notice
    assert "운영기관이 해당 수요처에 결정을 요청했습니다" in notice and "늦어도 2027년 1월 15일(금)까지" in notice
    assert "서울특별시 경제정책과" in notice and "/status" in notice
    assert not texts(harness, 8002, "도착하지 않았습니다")  # its department decided (추가 검토)
    await tick_and_send(harness, dt.datetime(2027, 1, 10, 10, 0, tzinfo=KST))
    await harness.restart_bot()
    await tick_and_send(harness, dt.datetime(2027, 1, 12, 10, 0, tzinfo=KST))
    assert len(messages(harness, "reminders/decision_overdue")) == 1 and len(texts(harness, 8001, "도착하지")) == 1


async def test_a_selected_company_gives_up_and_the_first_waitlisted_takes_its_slot(harness: Harness) -> None:
    [a, b, c], [d, e] = seed_released(harness, ["서울교통공사", "푸른도시여가국", "서울교통공사"], 2)
    make_official(harness, 9701, "서울교통공사")
    make_official(harness, 9702, "수요처8004")  # the department 기업8004 wished for
    make_official(harness, 9703, "푸른도시여가국")  # judged only 기업8002
    harness.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    await harness.bot.tick()
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/programme")
    await organizer.press("게시하기")
    await harness.bot.outbox_settled()
    before = {tg: len(harness.server.events[tg]) for tg in (8001, 8003, 8005, 9701)}

    harness.clock.set(dt.datetime(2026, 12, 18, 15, 0, tzinfo=KST))
    [board] = await organizer.send("/selection 2026-12")
    assert "선정 포기」 버튼" in board.text and sum(len(row) for row in board.buttons) == 3
    [ask] = await organizer.press("↩ 0002 선정 포기")
    assert "포기를 요청한 사유" in ask.text
    [again] = await organizer.send(" ")
    assert "필수" in again.text or "짧습니다" in again.text
    [confirm] = await organizer.send("대표자 일정으로 참석이 어렵다고 알려 왔습니다.")
    assert "선정 포기를 처리하시겠습니까?" in confirm.text and "예비 1순위 PD-202612-0004 기업8004" in confirm.text
    assert "다시 게시되어" in confirm.text
    [done, board] = await organizer.press("예, 처리합니다", expect=2)
    assert "PD-202612-0002의 선정 포기를 처리" in done.text and "예비 기업(PD-202612-0004)은 선정으로" in done.text
    assert "↩ PD-202612-0002 기업8002 — 제품8002 · 선정 포기" in board.text
    assert sum(len(row) for row in board.buttons) == 3
    await harness.bot.outbox_settled()

    [gone] = texts(harness, 8002, "선정을 취소")
    assert "사유: 대표자 일정으로 참석이 어렵다고" in gone
    assert "다음 신청은 2027년 1월 1일(금)부터 2027년 1월 10일(일) 23:59까지 받습니다" in gone, gone
    [promoted] = texts(harness, 8004, "예비 1순위였던")
    assert "2026년 12월 24일(목) 14:00" in promoted and VENUE in promoted and "수요처8004" in promoted
    assert "이어지는 메시지" in promoted
    [slot] = [m for m in harness.server.events[8004] if m.kind == "document"]
    assert "2번째" in slot.text and "14:20–14:40" in slot.text and "변경" not in slot.text
    calendar_file = harness.server.files[slot.document["file_id"]].content.decode()  # type: ignore[index]
    assert "DTSTART:20261224T052000Z" in calendar_file and "SEQUENCE:2" in calendar_file
    # The others keep their slots: no message; the officials get the new line-up.
    assert {tg: len(harness.server.events[tg]) for tg in (8001, 8003)} == {tg: before[tg] for tg in (8001, 8003)}
    # The company still waiting moved up, and is told so once: its new position, the day, the promise.
    assert len(harness.server.events[8005]) == before[8005] + 1
    [moved] = texts(harness, 8005, "예비 1순위입니다")
    assert "(이전 예비 2순위)" in moved and "2026년 12월 24일(목) 14:00" in moved and "PD-202612-0005" in moved
    assert "자리가 나면 예비 순위에 따라 피칭데이 전에 이 대화로 바로 연락드리겠습니다" in moved
    assert "선정 기업이 참가를 포기하여" in moved and "「제품8005」는 이제" in moved
    assert len(harness.server.events[9701]) > before[9701]
    assert [ev for ev in harness.server.events[9702] if "발표 순서" in ev.text]
    [left] = texts(harness, 9703, "참가를 포기하여")
    assert "기업8002의 「제품8002」" in left and "구매결정은 필요하지 않습니다" in left

    with harness.session() as session:
        decided = session.get(Selection, "2026-12").decided
        assert decided["selected"] == [a, c, d] and decided["waitlisted"] == [e] and decided["withdrawn"] == [b]
        apps = {x.id: x.status for x in session.exec(select(Application)).all()}
        assert (apps[b], apps[d], apps[e]) == ("withdrawn", "selected", "waitlisted")
        rows = {(r.application_id, r.department) for r in session.exec(select(PurchaseDecision)).all()}
        assert (d, "수요처8004") in rows and not [r for r in rows if r[0] == b]
        actions = [x.action for x in session.exec(select(AuditLog)).all()]
        assert actions.count("selection_withdrawn") == 1 and actions.count("selection_promoted") == 1
        assert session.exec(select(Outbox).where(Outbox.template == "results/promoted")).one().chat_id == "8004"

    # Promoted after the week-before reminder was due: not "one week away" now, but the eve's, with its slot.
    await tick_and_send(harness, dt.datetime(2026, 12, 18, 15, 5, tzinfo=KST))
    assert not texts(harness, 8004, "일주일 남았습니다")
    await tick_and_send(harness, dt.datetime(2026, 12, 23, 18, 0, tzinfo=KST))
    [eve] = texts(harness, 8004, "내일은 피칭데이")
    assert "14:20–14:40 (2번째 발표)" in eve
    assert not texts(harness, 8002, "내일은 피칭데이")  # the company that left

    # The month's records keep the company that gave up, in its place, with what became of it.
    book = await exported(harness, "ko")
    ranked = {row[1]: row for row in book["선정"].iter_rows(min_row=2, values_only=True)}
    assert ranked["PD-202612-0002"][6] == "철회" and ranked["PD-202612-0004"][6] == "선정"
    assert [row[0] for row in book["선정"].iter_rows(min_row=2, values_only=True)] == [1, 2, 3, 4, 5]
    results = {row[0]: row[2] for row in book["결과·이의신청"].iter_rows(min_row=2, values_only=True)}
    assert results["PD-202612-0002"] == "선정 포기" and len(results) == 5


async def test_withdrawal_is_refused_before_the_results_and_after_the_pitch(harness: Harness) -> None:
    [a], _ = seed_released(harness, ["서울교통공사"], 1)
    with harness.session() as session:  # held until the 15th
        held = session.get(Selection, "2026-12")
        held.released_at = None
        session.add(held)
        session.commit()
    organizer = harness.user(ORGANIZER, "운영자")
    harness.clock.set(dt.datetime(2026, 12, 14, 10, 0, tzinfo=KST))
    [board] = await organizer.send("/selection 2026-12")
    # Its departments can still change (until publication); no withdrawal is offered.
    assert board.button_texts() == ["1. PD-202612-0001"] and "선정 포기" not in board.text
    [early] = await organizer.press_data(f"e:selection:wd:{a}", 1)
    assert "결과 발송(2026년 12월 15일(화) 10:00) 후에" in early.text
    await tick_and_send(harness, dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST))
    harness.clock.set(dt.datetime(2026, 12, 24, 14, 0, tzinfo=KST))
    [late] = await organizer.press_data(f"e:selection:wd:{a}", 1)
    assert "피칭데이(2026년 12월 24일(목) 14:00)가 시작되어" in late.text
    company = harness.user(8001, "기업8001")
    [refused] = await company.press_data(f"e:selection:wd:{a}", 1)
    assert "권한이 없어" in refused.text
    with harness.session() as session:
        assert session.get(Application, a).status == "selected"


async def test_a_withdrawal_confirmed_after_the_waitlist_changed_is_shown_again(harness: Harness) -> None:
    """The confirmation named who would take the place; the waitlist changed before the organizer pressed
    「예」: the new state is shown to confirm, and only then is it done."""
    from bot.models import User
    from bot.services import selection

    seed_released(harness, ["서울교통공사", "푸른도시여가국"], 2)
    harness.clock.set(dt.datetime(2026, 12, 18, 15, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/selection 2026-12")
    await organizer.press("↩ 0002 선정 포기")
    [confirm] = await organizer.send("대표자 일정으로 참석이 어렵다고 알려 왔습니다.")
    assert "예비 1순위 PD-202612-0003 기업8003" in confirm.text
    with harness.session() as session:  # meanwhile another organizer fills a place from the waitlist
        other = session.exec(select(User).where(User.external_id == str(ORGANIZER))).one()
        promoted = selection.promote_first(session, other, "2026-12", harness.settings, harness.clock.now())
        assert promoted is not None and promoted.receipt_no == "PD-202612-0003"
        session.commit()
    [again] = await organizer.press("예, 처리합니다")
    assert "예비 순위가 방금 바뀌었습니다" in again.text and "예비 1순위 PD-202612-0004 기업8004" in again.text
    with harness.session() as session:
        assert session.get(Selection, "2026-12").decided.get("withdrawn") in (None, [])  # type: ignore[union-attr]
    [done, _] = await organizer.press("예, 처리합니다", expect=2)
    assert "예비 기업(PD-202612-0004)은 선정으로" in done.text

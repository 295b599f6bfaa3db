"""Appeals (이의신청) over HTTP on Telegram: one tap on the result message, the form with a PDF, the
organizers' decision without the application's reviewers, the company told, the accepted company moved
into the selection before Pitching Day, the period closing, and the export."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook
from sqlmodel import select

from bot.models import Appeal, Application, AuditLog, Programme, PurchaseDecision, Role, Selection
from bot.services import export, users
from tests.handlers.committee import (
    ORGANIZER,
    make_official,
    make_reviewers,
    seed_applications,
    set_scores,
    statuses,
    write_reasons,
)
from tests.handlers.flows import SAMPLE_PDF
from tests.handlers.waitlist import seed_accepted_appeal, seed_released
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

AFTER_CLOSE = dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST)
RELEASED = dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST)
ORGANIZER_WHO_REVIEWED = 7702


async def released_month(harness: Harness) -> list[int]:
    """Three applications scored by a reviewer and by an organizer who also reviews; one selected, one on
    the waitlist, one not selected; results out on the 16th at 09:00."""
    ids = seed_applications(harness, 3)
    make_reviewers(harness, 7701, ORGANIZER_WHO_REVIEWED)
    with harness.session() as session:
        users.grant_role(session, "telegram", str(ORGANIZER_WHO_REVIEWED), Role.ORGANIZER, harness.clock.now())
        session.commit()
    await tick_and_send(harness, AFTER_CLOSE)
    for app_id, s in zip(ids, (5, 4, 2), strict=True):
        set_scores(harness, 7701, app_id, s, s, s, s)
        set_scores(harness, ORGANIZER_WHO_REVIEWED, app_id, s, s - 1, s, s)
    harness.settings = harness.settings.model_copy(update={"selected_count": 1, "waitlist_count": 1})
    harness.bot.settings = harness.settings
    await harness.restart_bot()
    harness.clock.set(RELEASED)
    organizer = harness.user(ORGANIZER, "운영자")
    await write_reasons(organizer, {"2. PD-202612-0002": "경제성 근거가 부족합니다.",
                                    "3. PD-202612-0003": "현장 실증 자료가 부족합니다."})  # fmt: skip
    await organizer.send("/selection 2026-12")
    await organizer.press("선정 확정")
    await organizer.press("예, 확정합니다")
    await harness.bot.outbox_settled()
    return ids


async def test_an_appeal_from_the_result_message_to_the_decision_and_into_the_selection(harness: Harness) -> None:
    _, waitlisted, lost = await released_month(harness)
    company = harness.user(8003, "기업3")
    [result] = [e for e in harness.server.events[8003] if "선정되지 않았습니다" in e.text]
    assert "순위 구간: 하위" in result.text and "항목별 평균: 혁신성 2.00 · 안전성 1.50" in result.text
    [ground] = await company.press("이의신청", event=result)  # one tap on the result message itself
    assert "PD-202612-0003" in ground.text and "2026년 12월 23일(수) 23:59" in ground.text
    assert ground.button_texts()[:3] == ["심사위원의 사실관계 오류", "명백한 오인", "행정적 오류"]
    await company.press("명백한 오인")
    [short] = await company.send("오인")
    assert "이의 내용" in short.text and "10자" in short.text  # too short: said, and asked again
    [evidence] = await company.send("실증 자료 3건을 제출했으나 심사에서 자료가 없다고 평가되었습니다.")
    assert "증빙자료(PDF)" in evidence.text and "건너뛰기" in evidence.button_texts()
    [review] = await company.send_document(SAMPLE_PDF, "실증자료.pdf")
    assert "이의신청 확인" in review.text and "명백한 오인" in review.text and "실증자료.pdf" in review.text
    organizer = harness.user(ORGANIZER, "운영자")
    reviewing_organizer = harness.user(ORGANIZER_WHO_REVIEWED, "박운영")
    [filed] = await company.press("이의신청 제출")
    assert "이의신청을 접수했습니다" in filed.text
    await harness.bot.outbox_settled()
    for person in (organizer, reviewing_organizer):
        assert any("새 이의신청" in e.text and "PD-202612-0003" in e.text for e in person.events)
        person.cursor = len(person.events)  # read, not taken as replies below
    [again] = await company.press("이의신청", event=result)
    assert "이미 접수되었습니다" in again.text and "한 번만" in again.text  # one per application
    [status] = await company.send("/appeal")
    assert "처리 중" in status.text

    # The organizer who reviewed the application sees it but cannot decide it, not even by a forged button.
    [listing] = await reviewing_organizer.send("/appeals")
    assert "처리 중 1건" in listing.text and "처리 불가" in listing.text
    card = (await reviewing_organizer.press("1. 기업3"))[-1]
    assert "처리하실 수 없습니다" in card.text and "결정" not in " ".join(card.button_texts())
    with harness.session() as session:
        appeal_id = session.exec(select(Appeal.id)).one()
    [refused] = await reviewing_organizer.press_data(f"e:appeals:decide:{appeal_id}", 1)
    assert "처리하실 수 없습니다" in refused.text

    # Another organizer decides, with the evidence attached to the card.
    await organizer.send("/appeals")
    [card] = await organizer.press("1. 기업3")
    assert card.document is not None and card.document.get("file_name") == "실증자료.pdf", card.document
    assert "실증 자료 3건을 제출했으나" in card.text
    await organizer.press("인용·기각 결정")
    await organizer.press("인용")
    [confirm] = await organizer.send("제출 자료 3건을 확인했습니다. 현장 실증 평가를 정정합니다.")
    assert "처리 결과: 인용" in confirm.text and "제출 자료 3건을 확인했습니다" in confirm.text
    [saved, card] = await organizer.press("결정 확정", expect=2)
    assert "인용으로 처리하고" in saved.text and "선정에 추가" in card.button_texts()[0]
    await harness.bot.outbox_settled()
    [told] = [e.text for e in company.events if "이의신청 처리 결과" in e.text]
    assert "처리 결과: 인용" in told and "현장 실증 평가를 정정합니다" in told

    # Before Pitching Day the accepted company joins the presenting companies (nobody else loses a place).
    [ask] = await organizer.press("선정에 추가")
    assert "발표 기업에 추가하시겠습니까" in ask.text
    [done] = await organizer.press("예, 선정에 추가합니다")
    assert "추가하고 선정 안내를 발송했습니다" in done.text
    await harness.bot.outbox_settled()
    assert any("축하드립니다" in e.text for e in company.events)
    assert statuses(harness)[lost] == "selected" and statuses(harness)[waitlisted] == "waitlisted"
    [twice] = await organizer.press_data(f"e:appeals:promote:{appeal_id}", done.message_id)
    assert "선정에 추가할 수 없습니다" in twice.text  # once only
    with harness.session() as session:
        chosen = session.get(Selection, "2026-12")
        assert (
            chosen is not None and chosen.decided["selected"][-1] == lost and lost not in chosen.decided["not_selected"]
        )
        assert session.exec(select(PurchaseDecision).where(PurchaseDecision.application_id == lost)).all()
        actions = [a.action for a in session.exec(select(AuditLog)).all()]
        typed = session.get(Application, waitlisted)
        assert typed is not None
        typed.feedback = '=HYPERLINK("http://x.example","근거")'  # typed text that looks like a formula
        session.add(typed)
        appeal = session.exec(select(Appeal)).one()
        book = load_workbook(io.BytesIO(export.workbook(session, "2026-12", harness.settings, harness.clock.now(),
                                                        harness.bot.runtime.ctx.texts, "ko")))  # fmt: skip
    assert {"appeal_filed", "appeal_decided", "appeal_promoted"} <= set(actions)
    assert appeal.status == "accepted" and appeal.decided_by != appeal.filed_by and appeal.file_path
    # The export carries the reasons and the appeal, in a sheet of their own.
    rows = {r[0]: r for r in book["결과·이의신청"].iter_rows(min_row=2, values_only=True)}
    assert rows["PD-202612-0003"][9] == "현장 실증 자료가 부족합니다."
    assert rows["PD-202612-0003"][10:12] == (
        "명백한 오인",
        "실증 자료 3건을 제출했으나 심사에서 자료가 없다고 평가되었습니다.",
    )
    assert rows["PD-202612-0003"][14] == "인용" and rows["PD-202612-0003"][17]
    assert rows["PD-202612-0002"][10] is None  # no appeal
    formula_like = [c for c in book["결과·이의신청"]["J"] if str(c.value).startswith("=HYPERLINK")]
    assert [c.data_type for c in formula_like] == ["s"]  # kept as text, never run as a formula


async def test_the_appeal_closes_after_the_period_with_its_date(harness: Harness) -> None:
    selected, waitlisted_id, _ = await released_month(harness)
    waitlisted = harness.user(8002, "기업2")
    [result] = [e for e in harness.server.events[8002] if "예비 1순위" in e.text]
    assert "예비 1순위</b>로 지정되었습니다" in result.html and "선정되었습니다" not in result.text
    assert "심사위원회 종합의견\n경제성 근거가 부족합니다." in result.text and "선정되지 않은" not in result.text
    harness.clock.set(dt.datetime(2026, 12, 24, 0, 0, 1, tzinfo=KST))
    [closed] = await waitlisted.press("이의신청", event=result)
    assert "이의신청 기간은 2026년 12월 23일(수) 23:59에 끝났습니다" in closed.text
    [typed] = await waitlisted.send("/appeal")
    assert "2026년 12월 23일(수) 23:59에 끝났습니다" in typed.text
    # Nobody else may appeal someone's result; the selected company has nothing to appeal.
    harness.clock.set(dt.datetime(2026, 12, 17, 9, 0, tzinfo=KST))
    [not_yours] = await harness.user(8001, "기업1").press_data(f"e:appeal:new:{waitlisted_id}", 1)
    assert "해당 신청서를 찾을 수 없습니다" in not_yours.text
    [nothing] = await harness.user(8001, "기업1").send("/appeal")
    assert "이의신청하실 수 있는 결과가 없습니다" in nothing.text
    for forged in ("e:appeals:list", "e:appeals:case:1", "e:appeals:decide:1", "e:appeals:promote:1", "5:appeals:py"):
        [answer] = await waitlisted.press_data(forged, result.message_id)
        assert "권한이 없어" in answer.text, forged
    [answer] = await waitlisted.send("/appeals")
    assert "권한이 없어" in answer.text
    with harness.session() as session:
        assert session.exec(select(Appeal)).all() == []
        assert session.exec(select(Application).where(Application.status == "selected")).one().id == selected


async def test_a_company_added_after_publication_gets_its_slot_and_the_departments_the_new_lineup(
    harness: Harness,
) -> None:
    """The programme is out when an accepted appeal adds the second on the waitlist: it is published again
    in the same step, the company last in the running order with its slot and .ics (SEQUENCE 2), every
    department's official the new line-up; the companies already in it keep their slots and hear nothing."""
    _, [_, second] = seed_released(harness, ["서울교통공사", "푸른도시여가국"], 2)
    appeal_id = seed_accepted_appeal(harness, second)  # 기업8004
    make_official(harness, 9701, "서울교통공사")
    make_official(harness, 9702, "수요처8004")  # the department 기업8004 wished for
    harness.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/programme")
    await organizer.press("게시하기")
    await harness.bot.outbox_settled()
    before = {tg: len(harness.server.events[tg]) for tg in (8001, 8002, 8003, 9701, 9702)}
    assert before[9702] == 0  # not a department of the line-up yet

    harness.clock.set(dt.datetime(2026, 12, 18, 15, 0, tzinfo=KST))
    await organizer.send("/appeals")
    await organizer.press("1. 기업8004")
    [ask] = await organizer.press("🏅 선정에 추가")
    assert "마지막 순서에 넣어 다시 게시하므로" in ask.text
    [done] = await organizer.press("예, 선정에 추가합니다")
    assert "3번째 순서(14:40–15:00)에 넣어 다시 게시했으며" in done.text, done.text
    await harness.bot.outbox_settled()

    company = harness.server.events[8004]
    [selected] = [e.text for e in company if "축하드립니다" in e.text]
    assert "이어지는 메시지(일정 파일 .ics 포함)" in selected and "서울특별시청 본관 다목적홀" in selected
    [slot] = [e for e in company if e.kind == "document"]
    assert "3번째" in slot.text and "14:40–15:00" in slot.text and "변경" not in slot.text
    assert company.index(slot) > [e.text for e in company].index(selected)  # the result first, then the slot
    calendar_file = harness.server.files[slot.document["file_id"]].content.decode()  # type: ignore[index]
    assert "DTSTART:20261224T054000Z" in calendar_file and "SEQUENCE:2" in calendar_file
    for official in (9701, 9702):  # the new line-up, with the whole day's .ics of a higher SEQUENCE
        [lineup] = [e for e in harness.server.events[official][before[official] :] if "발표 순서" in e.text]
        assert "3. 14:40 기업8004" in lineup.text and "변경되었습니다" in lineup.text
        ics_text = harness.server.files[lineup.document["file_id"]].content.decode()  # type: ignore[index]
        assert "SEQUENCE:2" in ics_text and "DTEND:20261224T060000Z" in ics_text
    assert "(귀 부서 담당)" in next(e for e in harness.server.events[9702] if "발표 순서" in e.text).text
    unchanged = (8001, 8002, 8003)  # nobody was behind 8004 on the waitlist
    assert {tg: len(harness.server.events[tg]) for tg in unchanged} == {tg: before[tg] for tg in unchanged}
    with harness.session() as session:
        programme = session.get(Programme, "2026-12")
        assert programme is not None and programme.version == 2 and programme.order[-1] == second
        actions = [a.action for a in session.exec(select(AuditLog)).all()]
        assert actions.count("programme_published") == 2 and "appeal_promoted" in actions
        assert session.get(Appeal, appeal_id).promoted_at is not None  # type: ignore[union-attr]

    # Added after the week-before reminder was due: not "one week away" now, but the eve's, with its slot.
    await tick_and_send(harness, dt.datetime(2026, 12, 18, 15, 5, tzinfo=KST))
    assert not [e for e in harness.server.events[8004] if "일주일 남았습니다" in e.text]
    await tick_and_send(harness, dt.datetime(2026, 12, 23, 18, 0, tzinfo=KST))
    [eve] = [e.text for e in harness.server.events[8004] if "내일은 피칭데이" in e.text]
    assert "14:40–15:00 (3번째 발표)" in eve

"""Ranking, the organizers' selection, the held release on the 15th, and the result messages."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.models import Application, AuditLog, Review, Selection, User
from bot.services import review
from tests.handlers.committee import ORGANIZER, make_reviewers, seed_applications, set_scores, statuses
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

AFTER_CLOSE = dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST)


async def test_ranking_with_ties_and_missing_reviews(harness: Harness) -> None:
    a, b, c, d, e = seed_applications(harness, 5)
    make_reviewers(harness, 7501, 7502, 7503)
    await tick_and_send(harness, AFTER_CLOSE)
    set_scores(harness, 7501, a, 4, 4, 4, 4)
    set_scores(harness, 7502, a, 4, 4, 4, 4)  # a: 4.0 from two reviews
    for tg in (7501, 7502, 7503):
        set_scores(harness, tg, b, 4, 4, 4, 4)  # b: 4.0 from three: ahead of a
    set_scores(harness, 7501, c, 5, 5, 5, None)  # c: nothing complete, last
    set_scores(harness, 7501, d, 2, 2, 2, 2)
    set_scores(harness, 7502, d, 4, 4, 4, 4)  # d: 3.0, spread 2
    set_scores(harness, 7501, e, 3, 3, 3, 3)
    set_scores(harness, 7502, e, 3, 3, 3, 3)  # e: 3.0, same count as d but applied later
    with harness.session() as session:
        ranked = review.ranking(session, "2026-12", harness.settings)
    assert [r.application.id for r in ranked] == [b, a, d, e, c]
    assert [(r.mean, r.reviews, r.spread) for r in ranked] == [
        (4.0, 3, 0.0), (4.0, 2, 0.0), (3.0, 2, 2.0), (3.0, 2, 0.0), (None, 0, None)]  # fmt: skip
    weighted = harness.settings.model_copy(update={"score_weights": (3.0, 1.0, 1.0, 1.0)})
    set_scores(harness, 7503, e, 5, 1, 1, 1)  # innovative but weak elsewhere
    with harness.session() as session:
        plain = {r.application.id: r.mean for r in review.ranking(session, "2026-12", harness.settings)}
        heavy = {r.application.id: r.mean for r in review.ranking(session, "2026-12", weighted)}
    assert plain[e] == 2.67 and heavy[e] == 3.0  # the weights count


async def test_selection_is_held_until_the_15th_then_every_result_goes_out(harness: Harness) -> None:
    ids = seed_applications(harness, 9)
    make_reviewers(harness, 7601)
    await tick_and_send(harness, AFTER_CLOSE)
    for rank, app_id in enumerate(ids):  # 기업1 best … 기업9 worst
        score = 5 - rank * 0.5
        set_scores(harness, 7601, app_id, round(score), round(score), 4 if rank < 4 else 2, 3)
    organizer = harness.user(ORGANIZER, "운영자")
    harness.clock.set(dt.datetime(2026, 12, 12, 14, 0, tzinfo=KST))
    [board] = await organizer.send("/selection")
    assert "2026-12 선정 심의" in board.text and "선정 6개, 예비 3개" in board.text
    # Move the 7th in and the 1st out; write feedback for the 9th; set the departments of the 2nd.
    await organizer.press("7. PD-202612-0007")
    await organizer.press("선정에 포함")
    await organizer.press("1. PD-202612-0001")
    [board] = await organizer.press("선정에서 제외")
    assert board.text.count("선정 (운영자 포함)") == 1 and "예비 (운영자 제외)" in board.text
    await organizer.press("9. PD-202612-0009")
    [ask] = await organizer.press("피드백")
    assert "피드백을 입력" in ask.text
    await organizer.send("시정 적용 방안을 구체화해 주십시오.", expect=2)
    await organizer.press("2. PD-202612-0002")
    await organizer.press("담당 수요처")
    [picked] = await organizer.send("서울교통공사, 도시기반시설본부")  # found in the list by name
    assert "선택하신 수요처: 수요처2, 서울교통공사, 도시기반시설본부" in picked.text  # the company's wish first
    await organizer.press("✅ 수요처2", expect=0)  # taken off (the message is edited)
    [saved, detail] = await organizer.press("선택 완료", expect=2)
    assert "담당자가 없는 수요처: 서울교통공사, 도시기반시설본부" in saved.text  # nobody was invited yet
    assert "담당 수요처: 서울교통공사, 도시기반시설본부" in detail.text
    await organizer.send("/selection")
    [ask] = await organizer.press("선정 확정")
    assert "선정 6개, 예비 3개, 미선정 0개" in ask.text and "2026년 12월 15일(화) 10:00에 일괄 발송" in ask.text
    [held] = await organizer.press("예, 확정합니다")
    assert "2026년 12월 15일(화) 10:00에 발송" in held.text

    # Held: nothing reaches the companies, their status still reads "received", scores are frozen.
    assert set(statuses(harness).values()) == {"submitted"}
    reviewer = harness.user(7601)
    [frozen] = await reviewer.press_data(f"e:review:score:{_a_review(harness)}", 1)
    assert "확정되어" in frozen.text
    assert await tick_and_send(harness, dt.datetime(2026, 12, 14, 23, 0, tzinfo=KST)) == 0
    assert not [e for e in harness.server.events[8001] if "피칭데이" in e.text and "선정" in e.text]

    # The 15th at 10:00: every result in one batch.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST)) == 9
    result = {tg: [e.text for e in harness.server.events[tg] if "피칭데이" in e.text][-1] for tg in range(8001, 8010)}
    assert "예비 1순위" in result[8001]  # moved out: first on the waitlist
    assert "축하드립니다" in result[8002] and "서울교통공사, 도시기반시설본부" in result[8002]
    assert "2026년 12월 24일(목) 14:00" in result[8002]
    assert "축하드립니다" in result[8007] and "수요처7" in result[8007]  # moved in; the company's wish stands
    assert "예비 3순위" in result[8009] and "시정 적용 방안을 구체화해" in result[8009]
    assert sum("축하드립니다" in t for t in result.values()) == 6
    assert sum("예비" in t for t in result.values()) == 3
    assert not any("점" in t.split("피칭데이")[-1] and "평균" in t for t in result.values())  # no scores
    st = statuses(harness)
    assert sorted(st.values()).count("selected") == 6 and sorted(st.values()).count("waitlisted") == 3
    assert await tick_and_send(harness, dt.datetime(2026, 12, 15, 11, 0, tzinfo=KST)) == 0  # once
    with harness.session() as session:
        actions = {a.action for a in session.exec(select(AuditLog)).all()}
    assert {"selection_placement", "selection_feedback", "responsible_departments", "selection_confirmed",
            "selection_released"} <= actions  # fmt: skip


async def test_confirming_after_the_15th_sends_at_once_with_not_selected(harness: Harness) -> None:
    ids = seed_applications(harness, 3)
    make_reviewers(harness, 7701)
    await tick_and_send(harness, AFTER_CLOSE)
    for app_id, s in zip(ids, (5, 4, 1), strict=True):
        set_scores(harness, 7701, app_id, s, s, s, s)
    harness.settings = harness.settings.model_copy(update={"selected_count": 1, "waitlist_count": 1})
    harness.bot.settings = harness.settings
    await harness.restart_bot()
    harness.clock.set(dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER)
    await organizer.send("/selection 2026-12")
    await organizer.press("3. PD-202612-0003")
    await organizer.press("피드백")
    await organizer.send("안전성 검증 자료를 보완해 주십시오.", expect=2)
    await organizer.send("/selection 2026-12")
    [ask] = await organizer.press("선정 확정")
    assert "확정 즉시" in ask.text
    [done] = await organizer.press("예, 확정합니다")
    assert "결과 3건을 발송했습니다" in done.text
    await harness.bot.outbox_settled()
    [lost] = [e.text for e in harness.server.events[8003] if "선정되지 않았습니다" in e.text]
    assert "안전성 검증 자료를 보완해" in lost and "다음 달 신청" in lost
    [again] = await organizer.send("/selection 2026-12")
    # Confirmed: only the selected company's responsible departments still change (until publication).
    assert "확정됨" in again.text and again.button_texts() == ["1. PD-202612-0001"]
    [card] = await organizer.press("1. PD-202612-0001")
    assert card.button_texts() == ["🏛 담당 수요처", "◀ 선정 목록"]


async def test_refusals_of_everyone_without_the_role(harness: Harness) -> None:
    [app_id, _] = seed_applications(harness, 2)
    make_reviewers(harness, 7801, 7802)
    await tick_and_send(harness, AFTER_CLOSE)
    with harness.session() as session:
        second = session.exec(select(User).where(User.external_id == "7802")).one()
        other = session.exec(
            select(Review.id).where(Review.application_id == app_id, Review.reviewer_user_id == second.id)
        ).one()
    company = harness.user(8001, "기업1")
    stranger = harness.user(7899, "외부인")
    reviewer = harness.user(7801)
    refusals = [
        (company, "/review"), (company, "/selection"), (stranger, "/selection 2026-12"), (reviewer, "/selection"),
        (company, "/invite reviewer"), (reviewer, "/invite reviewer"),
    ]  # fmt: skip
    for person, command in refusals:
        [answer] = await person.send(command)
        assert "권한이 없어" in answer.text, (person.id, command)
    forged = ["e:review:score:1", "e:review:open:1", "e:review:conflict:1", "e:review:list", "9:review:cy",
              "e:selection:board:2026-12", f"e:selection:app:{app_id}", f"e:selection:place:{app_id}:in",
              f"e:selection:feedback:{app_id}", f"e:selection:departments:{app_id}", "e:selection:ok:2026-12",
              "3:selection:y"]  # fmt: skip
    for data in forged:
        [answer] = await company.press_data(data, 1)
        assert "권한이 없어" in answer.text, data
    # A reviewer cannot reach another reviewer's review, nor confirm anything.
    for data in (f"e:review:score:{other}", f"e:review:open:{other}", f"e:review:conflict:{other}", "1:selection:y"):
        [answer] = await reviewer.press_data(data, 1)
        assert "권한이 없어" in answer.text, data
    with harness.session() as session:
        assert session.exec(select(Selection)).all() == []
        assert all(r.innovation is None for r in session.exec(select(Review)).all())
        assert all(a.placement is None for a in session.exec(select(Application)).all())


def _a_review(harness: Harness) -> int:
    with harness.session() as session:
        return session.exec(select(Review.id)).first()  # type: ignore[return-value]

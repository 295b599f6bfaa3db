"""Ranking, the organizers' selection, the held release on the 15th, and the result messages."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.clock import ManualClock
from bot.models import Application, AuditLog, Review, Selection, User
from bot.services import review, selection
from bot.settings import Settings
from tests.handlers.committee import (
    ORGANIZER,
    make_reviewers,
    seed_applications,
    set_scores,
    statuses,
    write_reasons,
)
from tests.harness import KST, Harness, running
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
    reviewer = harness.user(7601, "김심사")
    with harness.session() as session:
        comment = session.exec(select(Review).where(Review.application_id == ids[8])).one()
        comment.comment = "실증 장소가 특정되지 않았습니다."
        session.add(comment)
        session.commit()
    organizer = harness.user(ORGANIZER, "운영자")
    harness.clock.set(dt.datetime(2026, 12, 12, 14, 0, tzinfo=KST))
    [board] = await organizer.send("/selection")
    assert "2026년 12월 선정 심의" in board.text and "선정 6곳, 예비 3곳" in board.text
    # Move the 7th in and the 1st out; write the opinion for the 9th; set the departments of the 2nd.
    await organizer.press("7. PD-202612-0007")
    await organizer.press("선정에 포함")
    await organizer.press("1. PD-202612-0001")
    [board] = await organizer.press("선정에서 제외")
    assert board.text.count("선정 (운영자 포함)") == 1 and "예비 (운영자 제외)" in board.text
    assert board.text.count("⚠ 사유 미입력") == 3  # the three on the waitlist
    await organizer.press("9. PD-202612-0009")
    [ask] = await organizer.press("피드백")
    # The reviewers' comments are shown to base the opinion on, in no one's name.
    assert "종합의견을 입력" in ask.text and "실증 장소가 특정되지 않았습니다" in ask.text and "김심사" not in ask.text
    await organizer.send("시정 적용 방안을 구체화해 주십시오.", expect=2)
    await organizer.press("2. PD-202612-0002")
    await organizer.press("담당 수요처")
    [picked] = await organizer.send("서울교통공사, 도시기반시설본부")  # found in the list by name
    assert "선택하신 수요처: 수요처2, 서울교통공사, 도시기반시설본부" in picked.text  # the company's wish first
    await organizer.press("✅ 수요처2", expect=0)  # taken off (the message is edited)
    [saved, detail] = await organizer.press("선택 완료", expect=2)
    assert "담당자가 없는 수요처: 서울교통공사, 도시기반시설본부" in saved.text  # nobody was invited yet
    assert "담당 수요처: 서울교통공사, 도시기반시설본부" in detail.text
    # Without reasons for every waitlisted application, nothing can be confirmed: the bot names them.
    await organizer.send("/selection")
    [refused] = await organizer.press("선정 확정")
    assert "PD-202612-0001, PD-202612-0008" in refused.text and "확정할 수 없습니다" in refused.text
    await write_reasons(organizer, {"1. PD-202612-0001": "운영자 조정으로 제외되었습니다. 안전 인증이 늦습니다.",
                                    "8. PD-202612-0008": "시정 적용가능성 점수가 낮았습니다."})  # fmt: skip
    await organizer.send("/selection")
    [ask] = await organizer.press("선정 확정")
    assert "선정 6곳, 예비 3곳, 미선정 0곳" in ask.text and "2026년 12월 15일(화) 10:00에 일괄 발송" in ask.text
    [held] = await organizer.press("예, 확정합니다")
    assert "2026년 12월 15일(화) 10:00에 발송" in held.text

    # Held: nothing reaches the companies, their status still reads "received", scores are frozen.
    assert set(statuses(harness).values()) == {"submitted"}
    [frozen] = await reviewer.press_data(f"e:review:score:{_a_review(harness)}", 1)
    assert "확정되어" in frozen.text
    assert await tick_and_send(harness, dt.datetime(2026, 12, 14, 23, 0, tzinfo=KST)) == 0
    assert not [e for e in harness.server.events[8001] if "피칭데이" in e.text and "선정" in e.text]

    # The 15th at 10:00: every result in one batch, each explaining itself.
    assert await tick_and_send(harness, dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST)) == 9
    events = {tg: [e for e in harness.server.events[tg] if "피칭데이" in e.text][-1] for tg in range(8001, 8010)}
    result = {tg: e.text for tg, e in events.items()}
    assert "예비 1순위" in result[8001]  # moved out: first on the waitlist
    assert "심사위원회 종합의견\n운영자 조정으로 제외" in result[8001]
    assert "가중 총점: 4.25점" in result[8001]  # (5 + 5 + 4 + 3) / 4: the ranking's mean
    assert "항목별 평균: 혁신성 5.00 · 안전성 5.00 · 시정 적용가능성 4.00 · 경제성 3.00" in result[8001]
    assert "축하드립니다" in result[8002] and "서울교통공사, 도시기반시설본부" in result[8002]
    assert "2026년 12월 24일(목) 14:00" in result[8002] and "가중 총점" in result[8002]
    assert "축하드립니다" in result[8007] and "수요처7" in result[8007]  # moved in; the company's wish stands
    assert "예비 3순위" in result[8009] and "시정 적용 방안을 구체화해" in result[8009]
    assert sum("축하드립니다" in t for t in result.values()) == 6
    assert sum("예비" in t for t in result.values()) == 3
    assert not any("김심사" in t or "심사위원 1" in t for t in result.values())  # never whose score
    # The waitlist may appeal until the 22nd, with one tap; the selected have nothing to appeal.
    appeal_button = [("⚖ 이의신청", f"e:appeal:new:{ids[0]}")]
    assert events[8001].buttons == [appeal_button] and "2026년 12월 22일(화) 23:59까지" in result[8001]
    assert events[8002].buttons == [] and "이의신청" not in result[8002]
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
    await write_reasons(organizer, {"2. PD-202612-0002": "경제성 근거가 부족합니다.",
                                    "3. PD-202612-0003": "안전성 검증 자료를 보완해 주십시오."})  # fmt: skip
    await organizer.send("/selection 2026-12")
    [ask] = await organizer.press("선정 확정")
    assert "확정 즉시" in ask.text
    [done] = await organizer.press("예, 확정합니다")
    assert "결과 3건을 발송했습니다" in done.text
    await harness.bot.outbox_settled()
    [lost] = [e.text for e in harness.server.events[8003] if "선정되지 않았습니다" in e.text]
    assert "미선정 사유(심사위원회 종합의견)\n안전성 검증 자료를 보완해" in lost
    # When to apply again, as the calendar has it (it said "the 1st to the 10th of each month").
    assert "다음 신청은 2027년 1월 1일(금)부터 2027년 1월 10일(일) 23:59까지 받습니다" in lost, lost
    assert "순위 구간: 하위" in lost and "가중 총점: 1.00점" in lost  # the last of three scored
    [again] = await organizer.send("/selection 2026-12")
    assert "확정됨" in again.text
    # Confirmed and released: the selected company's responsible departments still change (until publication),
    # and it may give up its place (tests/handlers/test_company_month.py).
    assert again.button_texts() == ["1. PD-202612-0001", "↩ 0001 선정 포기"]
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


async def test_trimmed_mean_and_pass_marks_on_the_board(settings: Settings, clock: ManualClock) -> None:
    fairer = settings.model_copy(update={"trim_min_reviews": 3, "pass_marks": (3.0, 0.0, 0.0, 0.0),
                                         "selected_count": 1, "waitlist_count": 1})  # fmt: skip
    async with running(fairer, clock) as harness:
        a, b, c = seed_applications(harness, 3)
        make_reviewers(harness, 7801, 7802, 7803)
        await tick_and_send(harness, AFTER_CLOSE)
        plan = {a: [(5, 5, 5, 5), (4, 4, 4, 4), (1, 1, 1, 1)],  # one reviewer far off: trimmed to 4.00
                b: [(2, 5, 5, 5)] * 3,  # the best total, but 혁신성 2 is under the pass mark of 3
                c: [(4, 3, 3, 3), (3, 3, 3, 3), (3, 3, 3, 3)]}  # fmt: skip
        for app_id, rows in plan.items():
            for tg, scores in zip((7801, 7802, 7803), rows, strict=True):
                set_scores(harness, tg, app_id, *scores)
        harness.clock.set(dt.datetime(2026, 12, 14, 15, 0, tzinfo=KST))
        organizer = harness.user(ORGANIZER, "운영자")
        [board] = await organizer.send("/selection 2026-12")
        assert "완료된 심사가 3건 이상이면 최고·최저 총점을 하나씩 빼고 평균(절사평균)" in board.text
        assert "기준 점수: 혁신성 3." in board.text
        lines = board.text.split("\n")
        first = lines.index(next(line for line in lines if line.startswith("1. PD-202612-0002")))
        assert "평균 4.25점" in lines[first + 1] and " · 미선정" in lines[first + 1]  # ranked first, not proposed
        assert "⚠ 기준 미달: 혁신성 2.00" in lines[first + 2]
        assert any(line.startswith("2. PD-202612-0001") for line in lines)
        second = lines.index(next(line for line in lines if line.startswith("2. PD-202612-0001")))
        assert "평균 4.00점" in lines[second + 1] and "절사평균 1건" in lines[second + 1]
        assert lines[second + 1].endswith(" · 선정") and "기준 미달" not in lines[second + 2]
        assert "평균 3.00점" in board.text and " · 예비" in board.text
        # The organizer may still move the marked application in, and sees why it was left out.
        [card] = await organizer.press("1. PD-202612-0002")
        assert "혁신성 평균이 기준 점수(3)에 못 미쳐" in card.text
        assert "항목별 평균(절사평균, 1건): 혁신성 2.00 · 안전성 5.00" in card.text
        [board] = await organizer.press("선정에 포함")
        with harness.session() as session:
            prop = selection.proposal(session, "2026-12", fairer)
        assert [r.application.id for r in prop.selected] == [b]
        assert [r.application.id for r in prop.waitlisted] == [a]
        assert [r.application.id for r in prop.not_selected] == [c]
        assert "· 선정 (운영자 포함)" in board.text
        # Without the settings: the plain mean, and no application held back.
        with harness.session() as session:
            plain = {r.application.id: r for r in review.ranking(session, "2026-12", settings)}
        assert plain[a].mean == 3.33 and not plain[a].trimmed and plain[b].below_pass == ()


async def test_the_selection_waits_for_the_reviewers_deadline_while_scores_are_missing(harness: Harness) -> None:
    """Confirmed on the 14th with one reviewer's scores still to come (they had until 23:59), the selection
    ranked applications nobody had scored and shut the reviewer out unheard. Before the deadline it is
    refused, with the deadline; after it, the question says how many were never scored."""
    first, second = seed_applications(harness, 2)
    make_reviewers(harness, 7651, 7652)
    await tick_and_send(harness, AFTER_CLOSE)
    for app_id in (first, second):
        set_scores(harness, 7651, app_id, 4, 4, 4, 4)
    with harness.session() as session:
        missing = review.unscored(session, "2026-12")
    assert missing == 2  # the second reviewer's two
    organizer = harness.user(ORGANIZER, "운영자")
    harness.clock.set(dt.datetime(2026, 12, 14, 9, 0, tzinfo=KST))
    await organizer.send("/selection")
    [refused] = await organizer.press("선정 확정")
    assert "점수가 입력되지 않은 심사가 2건" in refused.text and "2026년 12월 14일(월) 23:59" in refused.text
    with harness.session() as session:
        assert session.get(Selection, "2026-12") is None
        withdrawn = session.get(Application, second)
        assert withdrawn is not None
        withdrawn.status = "withdrawn"  # its company gave up: its unscored review holds nothing up
        session.add(withdrawn)
        session.flush()
        assert review.unscored(session, "2026-12") == 1
        withdrawn.status = "submitted"
        session.add(withdrawn)

    harness.clock.set(dt.datetime(2026, 12, 15, 9, 0, tzinfo=KST))
    await organizer.send("/selection")
    [ask] = await organizer.press("선정 확정")
    assert "점수가 입력되지 않은 심사 2건" in ask.text
    [confirmed] = await organizer.press("예, 확정합니다")
    assert "선정을 확정했습니다" in confirmed.text

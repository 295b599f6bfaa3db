"""Purchase decisions over Telegram: told at once before the Pitching Day and after the deadline, the
deadline's last second still counts, and two officials deciding at once never overwrite each other."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from bot.models import AuditLog, PurchaseDecision
from bot.sandbox.users import SimUser
from tests.handlers.committee import make_official, seed_selected
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

AFTER_PITCH = dt.datetime(2026, 12, 24, 17, 0, tzinfo=KST)


async def _to_confirmation(official: SimUser, status: str, reason: str | None = None) -> None:
    """From /decisions to the confirmation page of the one company of the month."""
    await official.send("/decisions")
    await official.press("기업1")
    if status == "구매":
        await official.press("구매")
        await official.press("건너뛰기")
        [confirm] = await official.press("건너뛰기")
    else:
        await official.press(status)
        [confirm] = await official.send(reason or "사유")
    assert "아래와 같이 결정하시겠습니까" in confirm.text


async def _two_officials(harness: Harness) -> tuple[SimUser, SimUser]:
    """Company 1 selected for the Metro, whose two officials meet after the Pitching Day."""
    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9711, "서울교통공사")
    make_official(harness, 9712, "서울교통공사")
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    harness.clock.set(AFTER_PITCH)
    kim, lee = harness.user(9711, "김주무관"), harness.user(9712, "이주무관")
    await kim.send("/start")
    await lee.send("/start")
    return kim, lee


def _decision(harness: Harness) -> PurchaseDecision:
    with harness.session() as session:
        return session.exec(select(PurchaseDecision)).one()


def _notices(harness: Harness, chat: int) -> list[str]:
    told = ("결정했습니다", "검토하기로 했습니다", "정정되었습니다")
    return [e.text for e in harness.server.events[chat] if any(words in e.text for words in told)]


async def test_no_company_yet_and_after_the_deadline_the_list_says_why(harness: Harness) -> None:
    official = harness.user(9701, "담당자")
    make_official(harness, 9701, "서울교통공사")
    harness.clock.set(dt.datetime(2026, 12, 2, 10, 0, tzinfo=KST))
    [empty] = await official.send("/decisions")
    assert "지금 입력하실 구매결정이 없습니다" in empty.text
    assert "2026년 12월 피칭데이는 2026년 12월 24일(목) 14:00이며" in empty.text
    assert "2027년 1월 8일(금) 23:59까지 입력하실 수 있습니다" in empty.text

    seed_selected(harness, ["서울교통공사"])
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    harness.clock.set(dt.datetime(2027, 1, 9, 0, 0, 0, tzinfo=KST))
    [late] = await official.send("/decisions")
    assert "기한 초과" in late.text and not late.buttons
    assert "구매결정 기한(2027년 1월 8일(금) 23:59)이 지나 더 이상 입력하거나 고칠 수 없습니다" in late.text
    assert "운영 부서(경제정책과·SBA 테스트베드 사업단)에 문의" in late.text

    english = harness.user(9701, "Official", language_code="en")
    await english.send("/language")
    await english.press("English")
    [late] = await english.send("/decisions")
    assert "has passed: decisions can no longer be recorded or changed" in late.text


async def test_a_decision_in_the_last_second_of_the_deadline_day_counts(harness: Harness) -> None:
    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9702, "서울교통공사")
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    official = harness.user(9702, "담당자")
    harness.clock.set(dt.datetime(2027, 1, 8, 23, 50, tzinfo=KST))
    await _to_confirmation(official, "구매")
    harness.clock.set(dt.datetime(2027, 1, 8, 23, 59, 59, 900000, tzinfo=KST))
    [saved] = await official.press("확정")
    assert "결정을 저장하고 기업에 안내" in saved.text
    assert _decision(harness).status == "buy"

    # One second later the same press is refused, naming the deadline.
    harness.clock.set(dt.datetime(2027, 1, 8, 23, 55, tzinfo=KST))
    await _to_confirmation(official, "미구매", "예산 부족")
    harness.clock.set(dt.datetime(2027, 1, 9, 0, 0, 0, tzinfo=KST))
    [late] = await official.press("확정")
    assert "기한(2027년 1월 8일(금) 23:59)이 지나" in late.text
    assert _decision(harness).status == "buy"


async def test_two_officials_at_once_the_second_sees_the_first_and_confirms_a_change(harness: Harness) -> None:
    kim, lee = await _two_officials(harness)
    await _to_confirmation(kim, "구매")
    await _to_confirmation(lee, "미구매", "올해 예산이 없습니다.")

    # Both confirm at the same moment: one is saved, the other is shown it.
    [a], [b] = await asyncio.gather(kim.press("확정"), lee.press("확정"))
    saved, shown = (a, b) if "저장하고" in a.text else (b, a)
    second = lee if saved is a else kim
    assert "결정을 저장하고 기업에 안내" in saved.text
    assert "이 결정을 먼저 저장했습니다" in shown.text and "현재 결정:" in shown.text
    assert "✅ 변경 확정" in shown.button_texts()
    await harness.bot.outbox_settled()
    assert len(_notices(harness, 8001)) == 1  # the company heard one decision, not two contradictory ones
    kept = _decision(harness)
    assert kept.version == 1 and kept.corrections == 0

    # The second official confirms the change on purpose: a correction, told to the company as one.
    [changed] = await second.press("변경 확정")
    assert "정정한 결정을 저장하고" in changed.text
    await harness.bot.outbox_settled()
    notices = _notices(harness, 8001)
    assert len(notices) == 2 and "정정되었습니다" in notices[1] and "이전 안내를 대신합니다" in notices[1]
    final = _decision(harness)
    assert (final.version, final.corrections) == (2, 1) and final.status != kept.status
    with harness.session() as session:
        actions = [x.action for x in session.exec(select(AuditLog)).all()]
    assert actions.count("decision_recorded") == 1 and actions.count("decision_corrected") == 1


async def test_the_second_official_keeps_the_first_decision_by_cancelling(harness: Harness) -> None:
    kim, lee = await _two_officials(harness)
    await _to_confirmation(lee, "추가 검토", "현장 실증 후 결정")
    await _to_confirmation(kim, "구매")
    await kim.press("확정")
    [shown] = await lee.press("확정")  # Lee read the decision before Kim saved it
    assert "김주무관 님이 이 결정을 먼저 저장했습니다" in shown.text and "현재 결정: 구매" in shown.text
    [kept] = await lee.press("취소")
    assert "바뀌지 않았습니다" in kept.text
    await harness.bot.outbox_settled()
    assert len(_notices(harness, 8001)) == 1
    assert _decision(harness).status == "buy"


async def test_the_same_decision_confirmed_again_tells_the_company_nothing(harness: Harness) -> None:
    """Recording 미구매/「예산」 and then the same again sent the company 「정정되었습니다 … 이전 안내를 대신합니다」
    with the same content, and the export counted a correction."""
    kim, _ = await _two_officials(harness)
    await _to_confirmation(kim, "미구매", "예산 부족")
    await kim.press("확정")
    await _to_confirmation(kim, "미구매", "예산  부족 ")  # the same, spaces aside
    [same] = await kim.press("확정")
    assert "이미 기록된 결정과 같아 바꾸지 않았습니다" in same.text
    await harness.bot.outbox_settled()
    assert len(_notices(harness, 8001)) == 1
    decision = _decision(harness)
    assert (decision.corrections, decision.version) == (0, 1)


async def test_an_organizer_who_is_also_an_official_sees_the_organizers_board(harness: Harness) -> None:
    """They got only their department's list: /decisions 2026-12 was ignored, other departments unreachable."""
    from tests.handlers.committee import ORGANIZER

    seed_selected(harness, ["서울교통공사", "푸른도시여가국"])
    make_official(harness, ORGANIZER, "서울교통공사")
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    harness.clock.set(AFTER_PITCH)
    organizer = harness.user(ORGANIZER, "운영자")
    [board] = await organizer.send("/decisions")
    assert "푸른도시여가국" in board.text and "서울교통공사" in board.text


async def test_an_officials_list_leaves_out_months_long_closed(harness: Harness) -> None:
    """Every past month added its companies and a "deadline passed" paragraph: after nine months this month's
    companies were on the list's second message."""
    from bot.models import Application
    from bot.services import decisions

    seed_selected(harness, ["서울교통공사"])
    make_official(harness, 9713, "서울교통공사")
    with harness.session() as session:
        december = session.exec(select(Application)).one()
        october = Application(**{**december.model_dump(exclude={"id", "receipt_no"}), "month": "2026-10",
                                 "receipt_no": "PD-202610-0001", "product_name": "시월 제품"})  # fmt: skip
        session.add(october)
        session.flush()
        decisions.ensure_rows(session, "2026-10", harness.clock.now())
        decisions.ensure_rows(session, "2026-12", harness.clock.now())
        session.commit()
    harness.clock.set(AFTER_PITCH)
    official = harness.user(9713, "김주무관")
    [listing] = await official.send("/decisions")
    assert "시월 제품" in listing.text  # still owed: an open one stays, however old
    with harness.session() as session:
        for decision in session.exec(select(PurchaseDecision)).all():
            if decision.application_id == october.id:
                decision.status, decision.reason = "no_buy", "예산"
                session.add(decision)
        session.commit()
    [listing] = await official.send("/decisions")
    assert "제품1" in listing.text and "시월 제품" not in listing.text
    assert "지난 달의 결정 1건은 기한이 지난 지 한 달이 넘어 표시하지 않습니다" in listing.text
    assert "2026년 10월" not in listing.text


async def test_the_organizers_board_names_other_months_with_decisions_still_open(harness: Harness) -> None:
    """On 16 January the board opened on January alone, with no word of December's overdue decision that the
    company had been promised an answer to by the 15th."""
    from bot.models import Application, Selection
    from bot.services import decisions
    from tests.handlers.committee import ORGANIZER

    seed_selected(harness, ["서울교통공사"])
    with harness.session() as session:
        december = session.exec(select(Application)).one()
        january = Application(**{**december.model_dump(exclude={"id", "receipt_no"}), "month": "2027-01",
                                 "receipt_no": "PD-202701-0001", "product_name": "새해 제품"})  # fmt: skip
        session.add(january)
        at = dt.datetime(2027, 1, 15, 10, 0, tzinfo=KST)
        session.add(Selection(month="2027-01", confirmed_at=at, release_at=at, released_at=at,
                              decided={"selected": [], "waitlisted": [], "not_selected": []}))  # fmt: skip
        session.flush()
        decisions.ensure_rows(session, "2026-12", harness.clock.now())
        decisions.ensure_rows(session, "2027-01", harness.clock.now())
        session.commit()
    harness.clock.set(dt.datetime(2027, 1, 16, 10, 0, tzinfo=KST))
    [board] = await harness.user(ORGANIZER, "운영자").send("/decisions")
    assert "2027년 1월 구매결정 현황" in board.text
    assert "다른 달의 미결정: 2026년 12월 1건 (/decisions 2026-12)" in board.text, board.text


async def test_an_organizer_types_the_month_of_the_board_as_people_write_it(harness: Harness) -> None:
    """「구매결정 2026.11」 gave an empty board headed 「2026년」 ("nothing to decide") beside "November: 2 open";
    「구매결정 아무거나」 an empty board headed 「아무거나」."""
    from tests.handlers.committee import ORGANIZER

    seed_selected(harness, ["서울교통공사"])
    await tick_and_send(harness, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    harness.clock.set(dt.datetime(2027, 1, 20, 10, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER, "운영자")
    typed_months = ("2026.12", "2026년 12월", "2026-12", "2026. 12.", "26년 12월", "12월")  # 「12월」: the nearest
    for typed in (f"/decisions {m}" for m in typed_months):
        [board] = await organizer.send(typed)
        assert "2026년 12월 구매결정 현황" in board.text and "기업1 / 서울교통공사" in board.text, typed
    [refused] = await organizer.send("/decisions 아무거나")
    assert "연월로 알아볼 수 없습니다" in refused.text

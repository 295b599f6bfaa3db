"""KakaoTalk: two officials of one department deciding at once, and a Pitching Day moved by a holiday
explained in help and in the month's messages."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import col, select

from bot.models import Outbox, PurchaseDecision, Role
from bot.sandbox.kakao import KakaoUser
from tests.handlers.committee import seed_selected
from tests.handlers.kakao.conftest import KakaoWorld
from tests.handlers.kakao.test_month import grant, tick_at
from tests.harness import KST


async def _confirmation(official: KakaoUser) -> None:
    await official.say("구매결정")
    await official.tap("기업1")
    await official.tap("구매")
    await official.tap("건너뛰기")
    page = await official.tap("건너뛰기")
    assert "아래와 같이 결정하시겠습니까" in page.text


async def test_two_officials_in_kakaotalk_never_overwrite_each_other(kakao: KakaoWorld) -> None:
    seed_selected(kakao, ["서울교통공사"])  # type: ignore[arg-type]
    kim, lee = kakao.user(), kakao.user()
    for person in (kim, lee):
        await person.say("메뉴")
        grant(kakao, person.user_id, Role.OFFICIAL, "서울교통공사")
    await tick_at(kakao, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    kakao.clock.set(dt.datetime(2026, 12, 24, 17, 0, tzinfo=KST))
    await _confirmation(kim)
    await lee.say("구매결정")
    await lee.tap("기업1")
    await lee.tap("미구매")
    await lee.say("올해 예산이 없습니다.")

    a, b = await asyncio.gather(kim.tap("확정"), lee.tap("확정"))
    saved, shown, second = (a, b, lee) if "저장하고" in a.text else (b, a, kim)
    assert "결정을 저장하고 기업에 안내" in saved.text and not saved.problems and not shown.problems
    assert "결정을 먼저 저장했습니다" in shown.text and "현재 결정:" in shown.text
    assert "✅ 변경 확정" in shown.labels()
    with kakao.session() as session:
        notices = session.exec(select(Outbox).where(col(Outbox.template).like("decisions/%"))).all()
        assert [n.template for n in notices] == ["decisions/recorded"]

    changed = await second.say("변경 확정")  # typed, as KakaoTalk allows
    assert "정정한 결정을 저장하고" in changed.text
    with kakao.session() as session:
        notices = session.exec(select(Outbox).where(col(Outbox.template).like("decisions/%"))).all()
        assert [n.template for n in notices] == ["decisions/recorded", "decisions/corrected"]
        row = session.exec(select(PurchaseDecision)).one()
        assert (row.version, row.corrections) == (2, 1)


async def test_the_moved_pitching_day_is_explained_in_kakaotalk(kakao: KakaoWorld) -> None:
    person = kakao.user()
    answer = await person.say("도움말")
    assert "※ 12월 25일(금)은 공휴일(기독탄신일)이므로 피칭데이를 12월 24일(목)에 개최합니다." in answer.text
    assert "마지막 주 금요일" not in answer.text and not answer.problems
    english = kakao.user(language="en")
    answer = await english.say("help")
    assert "Fri 25 December is a public holiday (Christmas Day), so Pitching Day is held on Thu 24 December" in (
        answer.text
    )


async def test_an_answer_with_nothing_to_pick_inside_a_flow_carries_the_menu(kakao: KakaoWorld) -> None:
    """An official's 「구매결정」 before Pitching Day (nothing to pick yet) and a refusal came with no quick
    replies at all: on KakaoTalk the person had no way on but typing."""
    seed_selected(kakao, ["서울교통공사"])
    official = kakao.user()
    await official.say("메뉴")
    grant(kakao, official.user_id, Role.OFFICIAL, department="서울교통공사")
    await tick_at(kakao, dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
    early = await official.say("구매결정")
    assert "피칭데이(2026년 12월 24일(목) 14:00)부터" in early.text
    assert "❓ 도움말" in early.labels() and "🛒 구매결정" in early.labels(), early.labels()
    refused = await official.say("선정 심의")
    assert "권한이 없어" in refused.text and "❓ 도움말" in refused.labels(), refused.labels()
    helped = await official.tap("❓ 도움말")
    assert "도움말" in helped.text

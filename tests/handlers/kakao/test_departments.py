"""Over HTTP in KakaoTalk: a company finds its buying departments by typing part of a name (ten quick
replies at most), an official is invited to an entry of the list, and that official is told the day:
the line-up with its date, time and venue and the .ics as a link, then the week-before and eve reminders."""

from __future__ import annotations

import datetime as dt
import re

import aiohttp
from sqlmodel import delete, select

from bot.models import Application, Department, Role
from bot.services import departments, users
from tests.handlers.kakao.conftest import KakaoWorld
from tests.handlers.kakao.test_month import tick_at
from tests.harness import KST


async def test_departments_picked_by_typing_and_the_official_told_the_day(kakao: KakaoWorld) -> None:
    company = kakao.user()
    await company.say("신청")
    await company.tap("동의합니다")
    for answer in ("한빛로보틱스", "220-81-62517", "김민준", "중소기업", "서울 마포구 월드컵북로 400", "최담당",
                   "010-2345-6789", "choi@hanbit.kr"):  # fmt: skip
        await company.say(answer)
    await company.tap("저장하기")
    answers = ("자율 순찰 로봇 HR-1", "로봇", "선택 완료", "7", "공원과 지하철 역사를 야간에 자율 순찰하는 로봇입니다.",
               "공원녹지사업소 야간 순찰에 투입합니다.")  # fmt: skip
    for answer in answers:
        question = await company.say(answer)
    assert "희망 수요처 (6/8)" in question.text and "이름의 일부를 입력" in question.text
    assert len(question.quick_replies) <= 10 and "목록 1/" in question.text  # 80 entries, paged

    found = await company.say("교통")
    assert "「교통」이 들어간 수요처 2곳입니다" in found.text
    assert found.labels()[:2] == ["도시교통실", "서울교통공사"] and len(found.quick_replies) <= 10
    picked = await company.say("2")  # its number on the screen
    assert "선택하신 수요처: 서울교통공사" in picked.text
    both = await company.say("다산")  # one entry holds it: added at once
    assert "선택하신 수요처: 서울교통공사, 120다산콜재단" in both.text
    nothing = await company.say("강원도청")
    assert "「강원도청」이 들어간 수요처가 목록에 없습니다" in nothing.text
    price = await company.say("선택 완료")
    assert "가격·단가 (7/8)" in price.text
    await company.say("건너뛰기")
    review = await company.say("건너뛰기")
    assert "희망 수요처: 서울교통공사, 120다산콜재단" in review.text
    receipt = await company.say("제출하기")
    assert "접수번호: PD-202612-0001" in receipt.text
    with kakao.session() as session:
        names = {d.id: d.name for d in session.exec(select(Department))}
        [app] = session.exec(select(Application)).all()
        assert [names[i] for i in app.department_ids] == ["서울교통공사", "120다산콜재단"]

    # The organizer invites an official to an entry, picked from the list by typing.
    organizer, official = kakao.user(), kakao.user()
    await organizer.say("메뉴")
    with kakao.session() as session:
        users.grant_role(session, "kakao", organizer.user_id, Role.ORGANIZER, kakao.clock.now())
    picker = await organizer.say("초대 official")
    assert "수요처를 목록에서 골라" in picker.text and len(picker.quick_replies) <= 10
    made = await organizer.say("다산콜")
    assert "수요처 담당자 초대를 만들었습니다 (120다산콜재단)" in made.text
    code = made.text.split("「시작 ")[1].split("」")[0]
    joined = await official.say(f"시작 {code}")
    assert "수요처 담당자로 등록되셨습니다 (120다산콜재단)" in joined.text

    # Selection (held until the 15th) and the programme.
    kakao.clock.set(dt.datetime(2026, 12, 12, 14, 0, tzinfo=KST))
    await organizer.say("선정 2026-12")
    ask = await organizer.tap("선정 확정")
    assert "⚠ 담당자가 없는 수요처: 서울교통공사" in ask.text  # 120다산콜재단 has its official
    await organizer.tap("예, 확정합니다")
    kakao.clock.set(dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST))
    await kakao.bot.tick()
    kakao.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    await organizer.say("프로그램")
    await organizer.tap("장소")
    await organizer.say("서울특별시청 본관 8층 다목적홀")
    published = await organizer.tap("게시하기")
    assert "1차 프로그램을 게시" in published.text and "⚠ 담당자가 없는 수요처: 서울교통공사" in published.text
    await kakao.bot.outbox_settled()
    [lineup] = [t for t in kakao.events(official) if "발표 순서" in t]
    assert "• 일시: 2026년 12월 24일(목) 14:00–14:20" in lineup and "• 장소: 서울특별시청 본관 8층 다목적홀" in lineup
    link = re.search(r"http://\S+/files/\S+", lineup)
    assert link is not None, lineup
    async with aiohttp.ClientSession() as client, client.get(link.group(0)) as answer:
        ics = (await answer.read()).decode()
        assert answer.status == 200 and "pitchday-2026-12.ics" in answer.headers.get("Content-Disposition", "")
    assert "DTSTART:20261224T050000Z" in ics and "LOCATION:서울특별시청 본관 8층 다목적홀" in ics

    for when in (dt.datetime(2026, 12, 17, 10, 0, tzinfo=KST), dt.datetime(2026, 12, 23, 18, 0, tzinfo=KST)):
        kakao.clock.set(when)
        await kakao.bot.tick()
        await kakao.bot.tick()  # the same tick again sends nothing twice
    await kakao.bot.outbox_settled()
    reminders = [t for t in kakao.events(official) if "일주일 남았습니다" in t or "내일은 피칭데이" in t]
    assert len(reminders) == 2 and all("한빛로보틱스(자율 순찰 로봇 HR-1)" in t for t in reminders)
    assert all("서울특별시청 본관 8층 다목적홀" in t for t in reminders)
    assert kakao.platform.violations == []


async def test_no_list_yet_the_organizer_is_warned_and_the_waiting_company_called_back(kakao: KakaoWorld) -> None:
    """Before anyone loaded the list: the organizer hears it through the Event API when the window opens, a
    company at the departments question is told the list is being prepared (its answers kept), and the
    tick after the list is loaded tells it, once, to go on with 「신청」."""
    with kakao.session() as session:
        session.exec(delete(Department))  # type: ignore[call-overload]
        session.commit()
    organizer, company = kakao.user(), kakao.user()
    await organizer.say("메뉴")
    with kakao.session() as session:
        users.grant_role(session, "kakao", organizer.user_id, Role.ORGANIZER, kakao.clock.now())
        session.commit()
    await kakao.bot.tick()  # 3 December: the window is open and the list is empty
    await kakao.bot.outbox_settled()
    [warned] = [t for t in kakao.events(organizer) if "수요처 목록이 비어 있습니다" in t]
    assert "신청 접수가 시작되었지만(마감 2026년 12월 10일(목) 23:59)" in warned
    assert "pitchbot departments load 파일" in warned and "「수요처 목록」의 「➕ 수요처 추가」" in warned

    await company.say("신청")
    await company.tap("동의합니다")
    for answer in ("한빛로보틱스", "220-81-62517", "김민준", "중소기업", "서울 마포구 월드컵북로 400", "최담당",
                   "010-2345-6789", "choi@hanbit.kr"):  # fmt: skip
        await company.say(answer)
    await company.tap("저장하기")
    for answer in (
        "자율 순찰 로봇 HR-1",
        "로봇",
        "선택 완료",
        "7",
        "공원과 지하철 역사를 야간에 자율 순찰하는 로봇입니다.",
    ):
        await company.say(answer)
    waiting = await company.say("공원녹지사업소 야간 순찰에 투입합니다.")
    assert "희망 수요처 (6/8)" in waiting.text and "수요처 목록을 운영기관이 준비하고 있습니다" in waiting.text
    assert "「신청」으로 이 질문부터" in waiting.text and waiting.labels() == ["◀ 이전", "✖ 중단"]

    with kakao.session() as session:
        departments.load_path(session, departments.SAMPLE, kakao.clock.now())
        session.commit()
    await tick_at(kakao, dt.datetime(2026, 12, 3, 10, 5, tzinfo=KST))
    await tick_at(kakao, dt.datetime(2026, 12, 3, 10, 6, tzinfo=KST))
    await kakao.bot.outbox_settled()
    [ready] = [t for t in kakao.events(company) if "수요처 목록이 준비되었습니다" in t]
    assert "「신청」으로 이어 주십시오" in ready and "신청 마감: 2026년 12월 10일(목) 23:59" in ready
    again = await company.say("신청")
    assert "희망 수요처 (6/8)" in again.text and "이름의 일부를 입력" in again.text

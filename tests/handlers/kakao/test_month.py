"""The rest of a month with every role in KakaoTalk: the organizer confirms the selection and publishes
the programme, the company gets its result and its slot (with the .ics as a link), an official records the
purchase decision, and the organizer broadcasts. What the bot starts arrives through the Event API."""

from __future__ import annotations

import datetime as dt
import re

import aiohttp
from sqlmodel import select

from bot.models import Application, PurchaseDecision, Review, Role, User
from bot.services import review, users
from bot.services.departments import ensure as ensure_department
from tests.handlers.committee import seed_applications
from tests.handlers.kakao.conftest import KakaoWorld
from tests.handlers.kakao.test_company import apply_in_kakaotalk
from tests.harness import KST


def grant(world: KakaoWorld, key: str, role: Role, department: str | None = None) -> None:
    with world.session() as session:
        entry = ensure_department(session, department, world.clock.now()) if department else None
        users.grant_role(session, "kakao", key, role, world.clock.now(), department_id=entry.id if entry else None)


async def tick_at(world: KakaoWorld, when: dt.datetime) -> None:
    world.clock.set(when)
    await world.bot.tick()


async def fetch(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as answer:
        return answer.status, await answer.read(), answer.headers.get("Content-Disposition", "")


async def test_every_role_in_kakaotalk(kakao: KakaoWorld) -> None:
    company = kakao.user()
    receipt = await apply_in_kakaotalk(company)
    seed_applications(kakao, 2)  # two Telegram companies apply too
    organizer, official = kakao.user(), kakao.user()
    await organizer.say("메뉴")
    await official.say("메뉴")
    grant(kakao, organizer.user_id, Role.ORGANIZER)
    grant(kakao, official.user_id, Role.OFFICIAL, "서울교통공사")
    await tick_at(kakao, dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST))
    with kakao.session() as session:  # a quick committee: everyone has a score
        users.grant_role(session, "kakao", "rev-1", Role.REVIEWER, kakao.clock.now())
        review.assign(session, "2026-12", kakao.settings, kakao.clock.now())
        for n, row in enumerate(session.exec(select(Review)).all()):
            row.innovation = row.safety = row.applicability = row.economy = 5 - n
            session.add(row)

    kakao.clock.set(dt.datetime(2026, 12, 12, 14, 0, tzinfo=KST))
    board = await organizer.say("선정 2026-12")
    assert "2026년 12월 선정 심의" in board.text and receipt in board.text
    await organizer.tap("선정 확정")
    # Typed again on the question (or anywhere): the question, not "「확정」 is no month".
    again = await organizer.say("선정 확정")
    assert "선정을 확정하시겠습니까?" in again.text and "연월" not in again.text, again.text
    held = await organizer.tap("예, 확정합니다")
    assert "2026년 12월 15일(화) 10:00에 발송" in held.text
    await tick_at(kakao, dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST))
    [result] = [t for t in kakao.events(company) if "선정되었습니다" in t]
    assert "축하드립니다" in result and "2026년 12월 24일(목) 14:00" in result

    kakao.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    await organizer.say("프로그램")
    await organizer.tap("장소")
    await organizer.say("서울특별시청 본관 8층 다목적홀")
    published = await organizer.tap("게시하기")
    assert "1차 프로그램을 게시" in published.text
    await kakao.bot.outbox_settled()
    [slot] = [t for t in kakao.events(company) if "발표 일정" in t]
    assert "다목적홀" in slot and "14:00" in slot
    link = re.search(r"http://\S+/files/\S+", slot)
    assert link is not None, slot
    status, ics, disposition = await fetch(link.group(0))
    assert status == 200 and b"BEGIN:VEVENT" in ics and b"LOCATION:" in ics and "pitchday-2026-12.ics" in disposition
    [lineup] = [t for t in kakao.events(official) if "발표 순서" in t]
    assert "(귀 부서 담당)" in lineup

    kakao.clock.set(dt.datetime(2026, 12, 28, 10, 0, tzinfo=KST))
    listing = await official.say("구매결정")
    assert "한빛로보틱스" in listing.text
    await official.tap("한빛로보틱스")
    await official.tap("구매")
    await official.tap("건너뛰기")
    await official.tap("건너뛰기")
    saved = await official.tap("확정")
    assert "결정을 저장하고 기업에 안내" in saved.text
    await kakao.bot.outbox_settled()
    [told] = [t for t in kakao.events(company) if "결정했습니다" in t]
    assert "결정: 구매" in told
    with kakao.session() as session:
        decision = session.exec(select(PurchaseDecision).where(PurchaseDecision.department == "서울교통공사")).one()
        assert decision.status == "buy"

    await organizer.say("공지")
    await organizer.tap("소식 구독자 전체")
    await organizer.tap("직접 작성")
    confirm = await organizer.say("테스트베드 박람회가 곧 열립니다.")
    assert "테스트베드 박람회가 곧 열립니다." in confirm.text and "명에게 보냅니다" in confirm.text
    progress = await organizer.tap("보내기")
    assert "공지 #1" in progress.text
    await kakao.bot.outbox_settled()
    assert any("테스트베드 박람회가 곧 열립니다." in t for t in kakao.events(company))
    # No message follows it live in KakaoTalk: the tick closes it and tells the organizer (it stayed 「발송 중」).
    await kakao.bot.tick()
    await kakao.bot.outbox_settled()
    [finished] = [t for t in kakao.events(organizer) if "발송을 마쳤습니다" in t]
    assert "공지 #1" in finished and "발송: " in finished and "「공지 내역」" in finished
    history = await organizer.say("공지 내역")
    assert "· 운영자 · 소식 구독자 전체 · 완료" in history.text, history.text
    assert kakao.platform.violations == [] and max(kakao.platform.latencies) < 5.0
    with kakao.session() as session:
        app = session.exec(select(Application).where(Application.receipt_no == receipt)).one()
        assert app.status == "selected"
        assert session.exec(select(User).where(User.external_id == company.user_id)).one().channel == "kakao"

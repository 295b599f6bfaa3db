"""The waitlist over KakaoTalk: after the programme is published, the organizer withdraws a selected company
by typed words and quick replies; the withdrawn and the promoted company hear through the Event API, the
promoted one with its slot and a link to its .ics, and a department's overdue decision reaches the company
as a plain notice."""

from __future__ import annotations

import datetime as dt
import re

from bot.models import Appeal, Application, Role
from bot.sandbox.kakao import KakaoUser
from tests.handlers.kakao.conftest import KakaoWorld
from tests.handlers.kakao.test_month import fetch, grant, tick_at
from tests.handlers.waitlist import messages, seed_accepted_appeal, seed_released
from tests.harness import KST


async def organizer_publishes(kakao: KakaoWorld) -> KakaoUser:
    """An organizer on KakaoTalk publishes December's programme the day after selection."""
    organizer = kakao.user()
    await organizer.say("메뉴")
    grant(kakao, organizer.user_id, Role.ORGANIZER)
    await tick_at(kakao, dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    await organizer.say("프로그램")
    await organizer.tap("게시하기")
    await kakao.bot.outbox_settled()
    return organizer


async def told_second_slot(kakao: KakaoWorld, company: KakaoUser) -> None:
    """The company was told it presents second, with a link to the re-published .ics (SEQUENCE 2)."""
    [slot] = [t for t in kakao.events(company) if "발표 일정" in t]
    assert "2번째" in slot and "14:20–14:40" in slot
    link = re.search(r"http://\S+/files/\S+", slot)
    assert link is not None, slot
    status, ics, _ = await fetch(link.group(0))
    assert status == 200 and b"DTSTART:20261224T052000Z" in ics and b"SEQUENCE:2" in ics


async def test_withdraw_and_promote_in_kakaotalk(kakao: KakaoWorld) -> None:
    seed_released(kakao, ["서울교통공사", "서울교통공사"], 2, channel="kakao", first=5001)
    first, second, waiting, behind = (kakao.user(user_id=str(n)) for n in (5001, 5002, 5003, 5004))
    organizer = await organizer_publishes(kakao)
    told_first = len(kakao.events(first))

    kakao.clock.set(dt.datetime(2026, 12, 21, 9, 0, tzinfo=KST))
    board = await organizer.say("선정 2026-12")
    assert "「선정 포기」 버튼" in board.text
    ask = await organizer.tap("↩ 0002 선정 포기")
    assert "포기를 요청한 사유" in ask.text
    confirm = await organizer.say("시제품 결함으로 발표를 미루겠다고 알려 왔습니다.")
    assert "예비 1순위 PD-202612-0003 기업5003" in confirm.text and "다시 게시되어" in confirm.text
    assert "남은 예비 기업 1곳에도 바뀐 예비 순위를 알립니다" in confirm.text
    done = await organizer.tap("예, 처리합니다")
    assert "PD-202612-0002의 선정 포기를 처리" in done.text
    await kakao.bot.outbox_settled()

    [gone] = [t for t in kakao.events(second) if "선정을 취소" in t]
    assert "시제품 결함" in gone
    [promoted] = [t for t in kakao.events(waiting) if "예비 1순위였던" in t]
    assert "서울특별시청 본관 다목적홀" in promoted and "2026년 12월 24일(목) 14:00" in promoted
    await told_second_slot(kakao, waiting)
    assert len(kakao.events(first)) == told_first  # its slot did not change
    [moved] = kakao.events(behind)[-1:]  # the one behind it moved up: told once, with the day
    assert "예비 1순위입니다(이전 예비 2순위)" in moved and "2026년 12월 24일(목) 14:00" in moved
    assert "이 대화로 바로 연락드리겠습니다" in moved and "<b>" not in moved
    assert len([t for t in kakao.events(behind) if "예비 1순위입니다" in t]) == 1

    # The promoted company's department never decides: after the deadline it hears what happens next.
    await tick_at(kakao, dt.datetime(2027, 1, 9, 10, 0, tzinfo=KST))
    [notice] = [t for t in kakao.events(waiting) if "도착하지 않았습니다" in t]
    assert "수요처5003" in notice and "늦어도 2027년 1월 15일(금)까지" in notice and "「현황」에서" in notice
    assert len(messages(kakao, "reminders/decision_overdue")) == 2  # the first company too; not the one that left


async def test_an_appeal_adds_a_company_after_publication_in_kakaotalk(kakao: KakaoWorld) -> None:
    """The organizer adds, by quick replies, a waitlisted company whose appeal was accepted: the programme is
    published again at once, the company gets its slot with a link to its .ics (SEQUENCE 2), and the company
    behind it on the waitlist is told its new position, all through the Event API."""
    _, [_, appealed, behind_id] = seed_released(kakao, ["서울교통공사"], 3, channel="kakao", first=6001)
    appeal_id = seed_accepted_appeal(kakao, appealed)
    company, behind, ahead = (kakao.user(user_id=str(n)) for n in (6003, 6004, 6002))
    organizer = await organizer_publishes(kakao)
    told_ahead = len(kakao.events(ahead))

    kakao.clock.set(dt.datetime(2026, 12, 18, 11, 0, tzinfo=KST))
    await organizer.say("이의신청 처리")
    await organizer.tap("1. 기업6003")
    ask = await organizer.tap("선정에 추가")
    assert "마지막 순서에 넣어 다시 게시하므로" in ask.text
    done = await organizer.tap("예, 선정에 추가합니다")
    assert "2번째 순서(14:20–14:40)에 넣어 다시 게시했으며" in done.text, done.text
    await kakao.bot.outbox_settled()

    await told_second_slot(kakao, company)
    [moved] = [t for t in kakao.events(behind) if "예비 2순위입니다(이전 예비 3순위)" in t]
    assert "이의신청 결과 앞 순위의 예비 기업이 발표 기업에 추가되어" in moved
    assert len(kakao.events(ahead)) == told_ahead  # first on the waitlist still: nothing changed for it
    with kakao.session() as session:
        assert session.get(Appeal, appeal_id).promoted_at is not None  # type: ignore[union-attr]
        assert session.get(Application, behind_id).status == "waitlisted"  # type: ignore[union-attr]

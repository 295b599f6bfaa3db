"""One person on both channels: a company registered on Telegram joins its KakaoTalk account with a one-time
code; KakaoTalk then shows the same company and applications, and messages go where it talked last."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlmodel import select

from bot.models import Outbox, User
from bot.sandbox.users import SimUser
from bot.services.outbox import Planned, plan
from tests.handlers.flows import fill_application, register_profile, submit
from tests.handlers.kakao.conftest import KakaoWorld


async def test_a_company_joins_its_kakaotalk_account(both: KakaoWorld) -> None:
    assert both.telegram is not None
    telegram = SimUser(both.telegram, 5501, "김민준")
    await register_profile(telegram)
    await fill_application(telegram, deck=False)
    receipt = await submit(telegram)
    [code] = await telegram.send("/link")
    assert "연결 " in code.text and "한 번만" in code.text
    typed = code.text.split("연결 ")[1].split()[0]

    kakao = both.user()
    before = await kakao.say("현황")
    assert "기업 정보" in before.text and receipt not in before.text  # not joined yet: no company here
    wrong = await kakao.say("연결 AAAA-AAAA")
    assert "맞지 않거나" in wrong.text
    joined = await kakao.say(f" {typed.lower()} ")  # the code pasted alone, as the other chat shows it
    assert "계정을 연결했습니다" in joined.text and "한빛로보틱스" in joined.text
    status = await kakao.say("현황")
    assert receipt in status.text and "접수 완료" in status.text
    again = await kakao.say(f"연결 {typed}")  # a code works once
    assert "맞지 않거나" in again.text

    with both.session() as session:
        primary = session.exec(select(User).where(User.channel == "telegram", User.external_id == "5501")).one()
        account = session.exec(select(User).where(User.channel == "kakao")).one()
        assert account.linked_to == primary.id
        now = both.clock.now()
        plan(session, [Planned(primary, "news/subscribed", {}, "t:last", now)], now)
    await both.bot.outbox_settled()
    # It last talked on KakaoTalk: the message went there, through the Event API.
    with both.session() as session:
        row = session.exec(select(Outbox).where(Outbox.event_key == "t:last")).one()
        assert row.channel == "kakao" and row.chat_id == kakao.user_id and row.state == "sent"
    both.clock.advance(dt.timedelta(minutes=1))
    await telegram.send("/status")
    with both.session() as session:
        primary = session.exec(select(User).where(User.channel == "telegram", User.external_id == "5501")).one()
        plan(session, [Planned(primary, "news/subscribed", {}, "t:later", both.clock.now())], both.clock.now())
        row = session.exec(select(Outbox).where(Outbox.event_key == "t:later")).one()
        assert row.channel == "telegram"  # and now back to Telegram, where it talked last


async def test_guessing_codes_is_capped(kakao: KakaoWorld) -> None:
    user = kakao.user()
    for _ in range(5):
        assert "맞지 않거나" in (await user.say("연결 ZZZZ-ZZZZ")).text
    assert "여러 번" in (await user.say("연결 ZZZZ-ZZZZ")).text
    assert "여러 번" in (await user.say("연결 ZZZZ-ZZZZ")).text  # and nothing more is recorded


async def test_a_broadcast_reaches_a_person_on_two_channels_once_and_everyone_else(both: KakaoWorld) -> None:
    """Subscribed on KakaoTalk and a company on Telegram, then joined: one message, where they wrote last.
    Planned as two (the joined account and its person), both went to one KakaoTalk chat, and Kakao refused the
    whole Event API call (「duplicate users」): three other subscribers got nothing either."""
    assert both.telegram is not None
    others = [both.user() for _ in range(3)]
    for other in others:
        await other.say("소식 받기")
    telegram = SimUser(both.telegram, 5501, "김민준")
    await register_profile(telegram)  # a company: news by default
    kakao = both.user()
    await kakao.say("소식 받기")
    [code] = await telegram.send("/link")
    await kakao.say("연결 " + code.text.split("연결 ")[1].split()[0])

    organizer = SimUser(both.telegram, 900001, "운영자")
    await organizer.send("/broadcast")
    await organizer.press("소식")
    await organizer.press("직접")
    [_, confirm] = await organizer.send("겨울 박람회 안내입니다.", expect=2)
    assert "4명에게 보냅니다" in confirm.text  # the person on two channels counted once
    await organizer.press(confirm.button_texts()[0])
    for _ in range(20):
        await both.bot.outbox_settled()
        if all("겨울 박람회 안내입니다." in " ".join(both.events(o)) for o in others):
            break
        await asyncio.sleep(0.1)
    for other in others:
        assert [t for t in both.events(other) if "겨울 박람회 안내입니다." in t] != [], both.events(other)
    assert len([t for t in both.events(kakao) if "겨울 박람회 안내입니다." in t]) == 1
    assert not [e for e in telegram.events if "겨울 박람회 안내입니다." in e.text]
    assert both.platform.violations == []

"""One person on both channels: a company registered on Telegram joins its KakaoTalk account with a one-time
code; KakaoTalk then shows the same company and applications, and messages go where it talked last."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from sqlmodel import select

from bot.models import FormDraft, Outbox, User
from bot.sandbox.kakao import KakaoUser
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


async def _joined(both: KakaoWorld, telegram: SimUser, kakao: KakaoUser) -> None:
    """The company's Telegram account makes the code, the KakaoTalk account types it: Telegram's is the first."""
    await register_profile(telegram)
    [code] = await telegram.send("/link")
    joined = await kakao.say("연결 " + code.text.split("연결 ")[1].split()[0])
    assert "계정을 연결했습니다" in joined.text


def _plan_to(both: KakaoWorld, channel: str, key: str, later: dt.timedelta = dt.timedelta(0)) -> None:
    with both.session() as session:
        first = session.exec(select(User).where(User.channel == channel, User.linked_to.is_(None))).one()  # type: ignore[union-attr]
        now = both.clock.now()
        plan(session, [Planned(first, "news/subscribed", {}, key, now + later)], now)


def _row(both: KakaoWorld, key: str) -> tuple[str, str]:
    with both.session() as session:
        row = session.exec(select(Outbox).where(Outbox.event_key == key)).one()
        return row.channel, row.state


async def test_someone_who_left_the_kakaotalk_channel_they_used_last_is_written_to_on_telegram(
    both: KakaoWorld,
) -> None:
    """Messages went to the account used last even when that person had left the KakaoTalk channel: every one
    of them was lost (results, Pitching Day slots), while Telegram could have carried them."""
    assert both.telegram is not None
    # With Kakao Login (an app user id) the channel's block reaches the bot by a key it knows.
    telegram, kakao = SimUser(both.telegram, 5511, "김민준"), both.user(app_user_id="77001")
    await _joined(both, telegram, kakao)
    both.clock.advance(dt.timedelta(minutes=1))
    await kakao.say("현황")  # used last: KakaoTalk
    _plan_to(both, "telegram", "t:planned", later=dt.timedelta(hours=1))  # for KakaoTalk, due in an hour
    await both.platform.notify_channel(kakao, "blocked")
    _plan_to(both, "telegram", "t:left")
    await both.bot.outbox_settled()
    assert _row(both, "t:left") == ("telegram", "sent")
    assert _row(both, "t:planned") == ("kakao", "pending")
    both.clock.advance(dt.timedelta(hours=1))
    await both.bot.outbox_settled()
    assert _row(both, "t:planned") == ("telegram", "sent")  # addressed before the block, sent where it can go
    assert [e for e in telegram.events if "소식" in e.text]


async def test_a_kakaotalk_delivery_failure_marks_the_kakaotalk_account_and_the_next_message_goes_to_telegram(
    both: KakaoWorld,
) -> None:
    """Kakao's report that a message did not reach someone marked their first account (here Telegram's), so the
    KakaoTalk account kept being chosen and every message after failed the same way."""
    assert both.telegram is not None and both.bot.runtime is not None and both.bot.runtime.kakao is not None
    telegram, kakao = SimUser(both.telegram, 5512, "김민준"), both.user()
    await _joined(both, telegram, kakao)
    both.clock.advance(dt.timedelta(minutes=1))
    await kakao.say("현황")
    kakao.is_friend = False  # left the channel; the bot is not told (no channel webhook call)
    _plan_to(both, "telegram", "t:first")
    await both.bot.outbox_settled()
    assert _row(both, "t:first") == ("kakao", "sent")  # the Event API took it; only its report says otherwise
    assert await both.bot.runtime.kakao.check_deliveries(older_than=0) == 1
    with both.session() as session:
        marked = {u.channel: (u.is_friend, u.active) for u in session.exec(select(User)).all()}
    assert marked["kakao"] == (False, True) and marked["telegram"][0] is not False
    _plan_to(both, "telegram", "t:next")
    await both.bot.outbox_settled()
    assert _row(both, "t:next") == ("telegram", "sent")


async def test_someone_who_blocked_telegram_is_written_to_on_kakaotalk_and_on_telegram_again_once_back(
    both: KakaoWorld,
) -> None:
    """A 403 from Telegram for a joined account deactivated the person's first account (their KakaoTalk one):
    nothing reached them anywhere after, even once they wrote on Telegram again."""
    assert both.telegram is not None
    kakao = both.user()
    await kakao.say("소식 받기")
    made = await kakao.say("연결")
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", made.text)
    assert code is not None, made.text
    telegram = SimUser(both.telegram, 5513, "이서연")
    [joined] = await telegram.send(f"/link {code.group()}")
    assert "계정을 연결했습니다" in joined.text
    both.clock.advance(dt.timedelta(minutes=1))
    await telegram.send("/status")  # used last: Telegram
    both.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=5513)
    _plan_to(both, "kakao", "t:blocked")
    await both.bot.outbox_settled()
    assert _row(both, "t:blocked") == ("kakao", "sent")  # refused on Telegram, it went to KakaoTalk
    with both.session() as session:
        active = {u.channel: u.active for u in session.exec(select(User)).all()}
    assert active == {"kakao": True, "telegram": False}
    _plan_to(both, "kakao", "t:meanwhile")
    await both.bot.outbox_settled()
    assert _row(both, "t:meanwhile") == ("kakao", "sent")
    both.clock.advance(dt.timedelta(minutes=1))
    await telegram.send("/status")  # back on Telegram
    _plan_to(both, "kakao", "t:back")
    await both.bot.outbox_settled()
    assert _row(both, "t:back") == ("telegram", "sent")


async def test_a_registration_left_midway_on_the_joined_account_goes_on_after_joining(both: KakaoWorld) -> None:
    """Typed on KakaoTalk, then joined to a Telegram account: 「신청」 started again from the consent (the draft
    was the joined account's, turns act as the first), and its reminder kept coming."""
    assert both.telegram is not None
    kakao = both.user()
    await kakao.say("신청")
    await kakao.tap("동의합니다")
    await kakao.say("새솔테크")
    await kakao.say("220-81-62517")
    await kakao.say("취소")
    telegram = SimUser(both.telegram, 5514, "박서준")
    await telegram.send("/apply", expect=2)  # barely begun there: the form further along stays
    await telegram.press("동의합니다")
    await telegram.send("/cancel")
    [code] = await telegram.send("/link")
    assert "계정을 연결했습니다" in (await kakao.say("연결 " + code.text.split("연결 ")[1].split()[0])).text
    again = await kakao.say("신청")
    assert "대표자" in again.text and "동의" not in again.text.split("\n")[0], again.text
    with both.session() as session:
        first = session.exec(select(User).where(User.channel == "telegram")).one()
        [draft] = session.exec(select(FormDraft)).all()
        assert draft.user_id == first.id and draft.data["name"] == "새솔테크"


async def test_a_message_for_the_joined_account_itself_goes_where_its_person_is_reached(both: KakaoWorld) -> None:
    """A message planned for the joined account itself (an official's grant held there, the answer after an
    upload page) went to it whatever the person used last, and once that account left the channel it failed
    as 'recipient unknown' after being moved to Telegram."""
    assert both.telegram is not None
    telegram, kakao = SimUser(both.telegram, 5515, "김민준"), both.user()
    await _joined(both, telegram, kakao)
    both.clock.advance(dt.timedelta(minutes=1))
    await telegram.send("/status")  # used last: Telegram
    with both.session() as session:
        joined = session.exec(select(User).where(User.channel == "kakao")).one()
        plan(session, [Planned(joined, "news/subscribed", {}, "t:last", both.clock.now())], both.clock.now())
    await both.bot.outbox_settled()
    assert _row(both, "t:last") == ("telegram", "sent")
    both.clock.advance(dt.timedelta(minutes=1))
    await kakao.say("현황")  # used last: KakaoTalk, which it then leaves unseen
    with both.session() as session:
        joined = session.exec(select(User).where(User.channel == "kakao")).one()
        joined.is_friend = False
        session.add(joined)
        plan(session, [Planned(joined, "news/subscribed", {}, "t:left", both.clock.now())], both.clock.now())
    await both.bot.outbox_settled()
    assert _row(both, "t:left") == ("telegram", "sent")

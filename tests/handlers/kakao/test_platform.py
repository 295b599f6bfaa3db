"""What only KakaoTalk has: a slow turn answered through the block's callback URL (or, without one, through
the Event API after a short note), the channel's add/block webhook, and a message Kakao could not deliver
to someone who left the channel, learnt from the task poll."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from sqlmodel import select

from bot.clock import ManualClock
from bot.models import Outbox, User
from bot.sandbox.kakao import KakaoUser
from bot.services import users
from bot.services.outbox import Planned, plan
from bot.settings import Settings
from tests.handlers.flows import VALID_BRN
from tests.handlers.kakao.conftest import KakaoWorld, finish, running


@pytest.fixture
def slow(kakao: KakaoWorld, monkeypatch: pytest.MonkeyPatch) -> KakaoWorld:
    """Turns that take longer than the channel waits (an export on a busy database)."""
    return slowed(kakao, monkeypatch)


async def followed(world: KakaoWorld, user: KakaoUser, words: str) -> bool:
    """Whether an Event API message with ``words`` reaches the person within about five seconds."""
    for _ in range(100):
        await world.bot.outbox_settled()
        if any(words in t for t in world.events(user)):
            return True
        await asyncio.sleep(0.05)
    return False


def slowed(kakao: KakaoWorld, monkeypatch: pytest.MonkeyPatch) -> KakaoWorld:
    runtime = kakao.bot.runtime
    assert runtime is not None and runtime.kakao is not None
    monkeypatch.setattr(runtime.kakao, "answer_within", 0.2)
    turn = runtime.engine.turn

    def slowly(*args: object) -> object:
        time.sleep(0.5)
        return turn(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(runtime.engine, "turn", slowly)
    return kakao


async def test_a_slow_turn_answers_through_the_callback(slow: KakaoWorld) -> None:
    user = slow.user(callback=True)
    first = await user.say("도움말")
    assert first.callback  # "useCallback" at once
    answer = await slow.platform.wait_callback(user, timeout=10)
    assert "도움말" in answer.text and answer.quick_replies
    assert slow.platform.violations == []  # posted once, in time, valid


async def test_without_a_callback_url_the_answer_follows_through_the_event_api(slow: KakaoWorld) -> None:
    user = slow.user()
    first = await user.say("도움말")
    assert "처리하고 있습니다" in first.text
    assert await followed(slow, user, "도움말")


async def test_the_test_console_gets_no_callback(slow: KakaoWorld) -> None:
    """봇테스트 refuses callbacks: its slow turns answer the note, and the answer follows as an event."""
    user = slow.user(callback=True, test_console=True)
    first = await user.say("도움말")
    assert not first.callback and "처리하고 있습니다" in first.text


def person(world: KakaoWorld, key: str) -> User:
    with world.session() as session:
        return session.exec(select(User).where(User.channel == "kakao", User.external_id == key)).one()


async def test_the_channel_webhook_keeps_whether_the_bot_may_write_first(kakao: KakaoWorld) -> None:
    user = kakao.user(app_user_id="4100123")
    await user.say("메뉴")
    assert person(kakao, user.user_id).is_friend is True and person(kakao, user.user_id).app_user_id == "4100123"
    assert await kakao.platform.notify_channel(user, "blocked") == 200
    assert person(kakao, user.user_id).is_friend is False
    with kakao.session() as session:
        plan(session, [Planned(person(kakao, user.user_id), "news/subscribed", {}, "t:1", kakao.clock.now())],
             kakao.clock.now())  # fmt: skip
    await kakao.bot.outbox_settled()
    with kakao.session() as session:
        row = session.exec(select(Outbox)).one()
        assert row.state == "failed" and "blocked the KakaoTalk channel" in (row.last_error or "")
    assert kakao.platform.events[user.user_id] == []  # no Event API call spent on them
    assert await kakao.platform.notify_channel(user, "added") == 200
    assert person(kakao, user.user_id).is_friend is True


async def test_a_message_kakao_could_not_deliver(kakao: KakaoWorld) -> None:
    gone, here = kakao.user(), kakao.user()
    for u in (gone, here):
        await u.say("메뉴")
    gone.is_friend = False  # left the channel; the bot was not told
    now = kakao.clock.now()
    with kakao.session() as session:
        people = [person(kakao, gone.user_id), person(kakao, here.user_id)]
        for p in people:
            users.subscribe(session, p, "news", now)
        plan(session, [Planned(p, "news/subscribed", {}, "t:2", now) for p in people], now)
    await kakao.bot.outbox_settled()
    channel = kakao.bot.runtime.kakao  # type: ignore[union-attr]
    assert await channel.check_deliveries(older_than=0) == 1  # type: ignore[union-attr]
    with kakao.session() as session:
        rows = {r.chat_id: r for r in session.exec(select(Outbox))}
        assert rows[here.user_id].state == "sent" and rows[here.user_id].task_id
        assert rows[gone.user_id].state == "failed" and "not delivered" in (rows[gone.user_id].last_error or "")
    assert person(kakao, gone.user_id).is_friend is False and person(kakao, gone.user_id).inactive_reason
    assert await channel.check_deliveries(older_than=0) == 0  # asked once  # type: ignore[union-attr]


async def test_a_message_to_many_never_overtakes_anyone_s_earlier_message(kakao: KakaoWorld) -> None:
    """The parts of an answer put off to the Event API: the first is each person's own, the next is the
    same for all and goes in one call, after every first part, even one Kakao refused once."""
    people = [kakao.user() for _ in range(3)]
    for u in people:
        await u.say("메뉴")
    calls = kakao.platform.event_calls
    kakao.platform.fail_next("talk", 500)
    now = kakao.clock.now()
    with kakao.session() as session:
        for i, u in enumerate(people):
            p = person(kakao, u.user_id)
            plan(session, [Planned(p, "outbox/text", {"text": f"저장했습니다 {i}"}, f"r:{i}:0", now),
                           Planned(p, "outbox/text", {"text": "다음 질문"}, f"r:{i}:1", now)], now)  # fmt: skip
    await kakao.bot.outbox_settled()
    refused = [u for u in people if not kakao.events(u)]
    assert len(refused) == 1  # its own part put off, and the shared part with it
    assert all(kakao.events(u) == [f"저장했습니다 {i}", "다음 질문"] for i, u in enumerate(people) if u not in refused)
    kakao.clock.advance(dt.timedelta(minutes=1))
    kakao.bot.wake_dispatcher()
    await kakao.bot.outbox_settled()
    assert [kakao.events(u) for u in people] == [[f"저장했습니다 {i}", "다음 질문"] for i in range(3)]
    # three own (one refused), one shared for the two others; then the refused person's two, again in order
    assert kakao.platform.event_calls - calls == 3 + 1 + 2


async def test_a_long_text_goes_in_parts_and_a_retry_goes_on_after_the_parts_sent(kakao: KakaoWorld) -> None:
    u = kakao.user()
    await u.say("메뉴")
    lines = [f"{i:03d}. 피칭데이 발표 순서와 장소를 확인해 주십시오." for i in range(120)]
    kakao.platform.fail_next("talk", 500, after=1)  # the second part is refused once
    now = kakao.clock.now()
    with kakao.session() as session:
        plan(session, [Planned(person(kakao, u.user_id), "outbox/text", {"text": "\n".join(lines)}, "long", now)], now)
    await kakao.bot.outbox_settled()
    kakao.clock.advance(dt.timedelta(minutes=1))
    kakao.bot.wake_dispatcher()
    await kakao.bot.outbox_settled()
    parts = kakao.events(u)
    assert len(parts) >= 3 and all(len(p) <= 1000 for p in parts)
    assert "\n".join(parts).split("\n") == lines  # in order, nothing twice, nothing lost
    with kakao.session() as session:
        [row] = session.exec(select(Outbox).where(Outbox.event_key == "long")).all()
    assert row.state == "sent" and row.parts_sent == len(parts) - 1


async def test_quick_replies_are_cut_after_a_whole_word(kakao: KakaoWorld) -> None:
    """Kakao's quick replies are kept to 14 characters: the menu's fit whole in either language, and a longer
    label is cut after a word where that leaves half of it (「📋 My applicat…」 was what an English company saw)."""
    user = kakao.user()
    menu = await user.say("무엇을 할 수 있나요")
    assert "🌐 Language/언어" in menu.labels() and "📋 내 신청 현황" in menu.labels()
    await user.tap("🌐 Language/언어")
    await user.tap("English")
    menu = await user.say("hello")
    assert "📋 Applications" in menu.labels() and "🏢 Profile" in menu.labels(), menu.labels()
    await user.say("apply")
    await user.tap("I agree")
    for answer in ("Hanbit Robotics", VALID_BRN):
        await user.say(answer)
    size = await user.say("Kim Minjun")
    assert "Mid-size…" in size.labels(), size.labels()
    for reply in menu.quick_replies + size.quick_replies:
        label, whole = str(reply["label"]), str(reply["messageText"])
        assert len(label) <= 14, label
        if label.endswith("…"):
            kept = label[:-1]
            assert whole.startswith(kept) and not whole[len(kept)].isalnum(), (label, whole)


async def test_a_callback_kakao_refuses_is_followed_through_the_event_api(
    settings: Settings, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn past the callback's minute (here its tenth of a second) is refused by Kakao: the answer was
    lost; it follows through the Event API."""
    world = await running(settings, clock, callback_timeout=0.1, strict=False)
    try:
        slowed(world, monkeypatch)
        user = world.user(callback=True)
        first = await user.say("도움말")
        assert first.callback
        assert await followed(world, user, "도움말")
        assert [p for _, p in world.platform.violations] == ["callback after 0.1 s"]  # the refusal itself
    finally:
        await finish(world)

"""The Kakao stand-in sends what Kakao sends and refuses what Kakao refuses, so a KakaoTalk channel tested
against it breaks here first. A tiny aiohttp skill server plays the bot; each test sets its answer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.kakao import KakaoPlatform, KakaoUser, SkillTimeout, SkillViolation


def text_answer(*texts: str, quick_replies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    template: dict[str, Any] = {"outputs": [{"simpleText": {"text": t}} for t in texts]}
    if quick_replies is not None:
        template["quickReplies"] = quick_replies
    return {"version": "2.0", "template": template}


def reply(label: str, text: str | None = None, **extra: Any) -> dict[str, Any]:
    quick: dict[str, Any] = {"label": label, "action": "message", "messageText": text or label}
    if extra:
        quick["extra"] = extra
    return quick


class Bot:
    """A skill server and channel-webhook receiver whose behaviour each test sets."""

    def __init__(self) -> None:
        self.answer: Callable[[dict[str, Any]], Any] = lambda payload: text_answer(
            "echo: " + payload["userRequest"]["utterance"]
        )
        self.delay = 0.0
        self.skill_calls: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.webhook_calls: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.webhook_status = 200
        self.webhook_delay = 0.0
        self.url = ""
        # The slow handlers are cancelled when the stand-in hangs up, so stopping never waits on them.
        self._runner = web.AppRunner(self._app(), access_log=None, handler_cancellation=True, shutdown_timeout=1)

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/skill", self._skill)
        app.router.add_post("/channel", self._channel)
        return app

    async def _skill(self, request: web.Request) -> web.StreamResponse:
        payload = await request.json()
        self.skill_calls.append((dict(request.headers), payload))
        if self.delay:
            await asyncio.sleep(self.delay)
        answer = self.answer(payload)
        if isinstance(answer, web.StreamResponse):
            return answer
        return web.json_response(answer)

    async def _channel(self, request: web.Request) -> web.Response:
        self.webhook_calls.append((dict(request.headers), await request.json()))
        if self.webhook_delay:
            await asyncio.sleep(self.webhook_delay)
        return web.Response(status=self.webhook_status)

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        await self._runner.cleanup()


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    b = Bot()
    await b.start()
    yield b
    await b.stop()


async def started(bot: Bot, **kw: Any) -> KakaoPlatform:
    platform = KakaoPlatform(timeout=0.3, **kw)
    await platform.start()
    platform.connect_skill(bot.url + "/skill", header="X-Pitchbot-Secret", secret="s3cret")
    platform.connect_channel_webhook(bot.url + "/channel")
    return platform


@pytest.fixture
async def platform(bot: Bot) -> AsyncIterator[KakaoPlatform]:
    p = await started(bot)
    yield p
    await p.stop()


async def post(url: str, body: Any, key: str | None = "sandbox-rest-key") -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"KakaoAK {key}"} if key else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def get(url: str, key: str = "sandbox-rest-key") -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(url, headers={"Authorization": f"KakaoAK {key}"}) as resp:
        return resp.status, await resp.json()


# ---- skill payloads ----------------------------------------------------------------------------
async def test_payload_has_kakaos_shape_and_the_custom_header(bot: Bot, platform: KakaoPlatform) -> None:
    user = KakaoUser(platform, app_user_id="4001", language="ko")
    answer = await user.say("안녕하세요")
    assert answer.texts == ["echo: 안녕하세요"] and not platform.violations
    headers, payload = bot.skill_calls[0]
    assert headers["X-Pitchbot-Secret"] == "s3cret"
    assert set(payload) == {"intent", "userRequest", "bot", "action", "contexts", "flow"}
    request = payload["userRequest"]
    assert request["timezone"] == "Asia/Seoul" and request["lang"] == "ko" and request["utterance"] == "안녕하세요"
    assert request["params"] == {"surface": "Kakaotalk.plusfriend"}
    assert request["block"] == payload["intent"] and set(request["block"]) == {"id", "name"}
    assert "callbackUrl" not in request
    assert request["user"] == {
        "id": user.user_id,
        "type": "botUserKey",
        "properties": {"plusfriendUserKey": user.plusfriend_user_key, "appUserId": "4001", "isFriend": True},
    }
    assert len(user.user_id) <= 70
    assert payload["bot"] == {"id": "pitchbot-sandbox", "name": platform.bot_name}
    assert payload["action"]["clientExtra"] == {} and payload["action"]["params"] == {}
    assert set(payload["action"]) == {"name", "clientExtra", "params", "id", "detailParams"}
    assert payload["contexts"] == [] and payload["flow"] == {"trigger": {"type": "TEXT_INPUT"}}
    await user.say("두 번째")
    assert bot.skill_calls[1][1]["flow"]["lastBlock"] == request["block"]
    assert platform.payloads == [call[1] for call in bot.skill_calls]
    assert len(platform.latencies) == 2


async def test_optional_properties_development_channel_and_test_console(bot: Bot) -> None:
    platform = await started(bot, development=True)
    try:
        await KakaoUser(platform, "u-1", is_friend=None, language=None).say("x")
        await KakaoUser(platform, "u-2", test_console=True).say("x")
    finally:
        await platform.stop()
    first, console = (call[1] for call in bot.skill_calls)
    assert first["bot"]["id"] == "pitchbot-sandbox!"
    assert first["userRequest"]["user"]["properties"] == {
        "plusfriendUserKey": platform.users["u-1"].plusfriend_user_key
    }
    assert first["userRequest"]["lang"] is None
    assert console["userRequest"]["params"] == {"surface": "BuilderBotTest", "ignoreMe": "true"}
    with pytest.raises(ValueError):
        KakaoUser(platform, "x" * 71)


async def test_quick_reply_sends_its_message_text_and_extra(bot: Bot, platform: KakaoPlatform) -> None:
    bot.answer = lambda payload: text_answer(
        "지원하시겠어요?",
        quick_replies=[reply("신청하기", "신청", step="apply", form=7), reply("취소"),
                       {"label": "메뉴", "action": "block", "blockId": "menu-block"}],
    )  # fmt: skip
    user = KakaoUser(platform)
    answer = await user.say("시작")
    assert answer.labels() == ["신청하기", "취소", "메뉴"]
    await user.tap("신청하기")
    payload = bot.skill_calls[-1][1]
    assert payload["userRequest"]["utterance"] == "신청"
    assert payload["action"]["clientExtra"] == {"step": "apply", "form": 7}
    assert payload["flow"]["trigger"]["type"] == "QUICKREPLY_BUTTON_MESSAGE"
    await user.tap(1)
    assert bot.skill_calls[-1][1]["userRequest"]["utterance"] == "취소"
    assert bot.skill_calls[-1][1]["action"]["clientExtra"] == {}
    await user.tap("메뉴")
    assert bot.skill_calls[-1][1]["intent"]["id"] == "menu-block"
    with pytest.raises(AssertionError, match="no quick reply"):
        user.find_quick_reply("없음")


# ---- answers: valid, and each of Kakao's limits ------------------------------------------------
async def test_a_valid_rich_answer_passes(bot: Bot, platform: KakaoPlatform) -> None:
    bot.answer = lambda payload: {
        "version": "2.0",
        "template": {
            "outputs": [
                {"simpleText": {"text": "가" * 1000}},
                {"basicCard": {"title": "피칭데이", "description": "12월 3일", "thumbnail": {"imageUrl": "https://x.kr/a.png"},
                               "buttons": [{"label": "자세히", "action": "message", "messageText": "자세히"},
                                           {"label": "홈페이지", "action": "webLink", "webLinkUrl": "https://x.kr"},
                                           {"label": "전화 문의", "action": "phone", "phoneNumber": "02-120"}]}},
                {"carousel": {"type": "textCard", "items": [{"title": f"기업 {i}"} for i in range(10)]}},
            ],
            "quickReplies": [reply(f"선택지 {i}") for i in range(10)],
        },
        "context": {"values": []},
        "data": {"k": "v"},
    }  # fmt: skip
    answer = await KakaoUser(platform).say("목록")
    assert not platform.violations and not answer.problems
    assert answer.texts[1] == "피칭데이\n12월 3일" and answer.texts[-1] == "기업 9"
    assert "\n\n기업 0\n\n" in answer.text and len(answer.labels()) == 10


def too_big(payload: dict[str, Any]) -> dict[str, Any]:
    return {**text_answer("ok"), "data": {"blob": "a" * (30 * 1024)}}


@pytest.mark.parametrize(
    ("answer", "words"),
    [(lambda p: text_answer("a", "b", "c", "d"), "template.outputs holds 4 items; Kakao takes 1-3"),
     (lambda p: text_answer("가" * 1001), "1,001 characters, over 1,000"),
     (lambda p: text_answer("ok", quick_replies=[reply(f"q{i}") for i in range(11)]), "quickReplies holds 11 items"),
     (lambda p: text_answer("ok", quick_replies=[reply("열다섯글자가넘는아주긴빠른답장이다")]), "over 14"),
     (too_big, "over 30 KB"),
     (lambda p: text_answer("<b>굵게</b> 안내"), "HTML '<b>'"),
     (lambda p: text_answer('<a href="https://x.kr">링크</a>'), "HTML '<a href"),
     (lambda p: text_answer("R&amp;D 지원"), "HTML '&amp;'"),
     (lambda p: {"template": text_answer("ok")["template"]}, 'version must be "2.0"'),
     (lambda p: web.json_response(text_answer("ok"), status=500), "HTTP 500"),
     (lambda p: web.Response(text="ok"), "not JSON"),
     (lambda p: {"version": "2.0", "useCallback": True}, "no callbackUrl"),
     (lambda p: {"version": "2.0", "template": {"outputs": [{"basicCard": {"title": "t"}}]}}, "thumbnail"),
     (lambda p: text_answer("ok", quick_replies=[{"label": "x", "action": "message"}]), "needs a messageText")],
)  # fmt: skip
async def test_each_limit_is_caught(
    bot: Bot, platform: KakaoPlatform, answer: Callable[[dict[str, Any]], Any], words: str
) -> None:
    bot.answer = answer
    user = KakaoUser(platform)
    with pytest.raises(SkillViolation, match=re.escape(words)) as caught:
        await user.say("hi")
    assert not isinstance(caught.value, SkillTimeout)
    assert platform.violations and all(who == user.user_id for who, _ in platform.violations)
    assert any(words in problem for _, problem in platform.violations)


async def test_lenient_mode_returns_the_answer_with_its_problems(bot: Bot, platform: KakaoPlatform) -> None:
    platform.strict = False
    bot.answer = lambda p: text_answer("<i>x</i>", quick_replies=[reply("열다섯글자가넘는아주긴빠른답장이다")])
    answer = await KakaoUser(platform).say("hi")
    assert len(answer.problems) == 2 and answer.texts == ["<i>x</i>"] and len(platform.violations) == 2


async def test_a_slow_answer_is_a_timeout(bot: Bot, platform: KakaoPlatform) -> None:
    bot.delay = 0.6
    user = KakaoUser(platform)
    with pytest.raises(SkillTimeout, match=r"no answer within 0\.3 s"):
        await user.say("느린 질문")
    assert platform.violations == [(user.user_id, "no answer within 0.3 s")]
    assert platform.latencies == []
    assert KakaoPlatform().timeout == 5.0


# ---- callbacks ---------------------------------------------------------------------------------
async def test_callback_is_accepted_once(bot: Bot, platform: KakaoPlatform) -> None:
    bot.answer = lambda p: {"version": "2.0", "useCallback": True, "data": {"text": "잠시만요"}}
    user = KakaoUser(platform, callback=True)
    first = await user.say("심사 결과")
    assert first.callback and not first.problems
    url = bot.skill_calls[0][1]["userRequest"]["callbackUrl"]
    assert url.startswith(platform.url)
    status, body = await post(url, text_answer("결과: 선정", quick_replies=[reply("확인")]), key=None)
    assert status == 200 and body["status"] == "SUCCESS"
    late = await platform.wait_callback(user)
    assert late.texts == ["결과: 선정"] and user.last_answer is late
    status, body = await post(url, text_answer("또 보냄"), key=None)
    assert status == 400 and body["status"] == "FAIL"
    assert platform.violations == [(user.user_id, "callback URL used twice: it takes one answer")]


async def test_say_can_wait_for_the_callback_the_bot_posts_later(bot: Bot, platform: KakaoPlatform) -> None:
    posted: list[int] = []
    tasks: set[asyncio.Task[None]] = set()

    async def later(url: str) -> None:
        await asyncio.sleep(0.05)
        posted.append((await post(url, text_answer("다 됐어요"), key=None))[0])

    def answer(payload: dict[str, Any]) -> dict[str, Any]:
        task = asyncio.get_running_loop().create_task(later(payload["userRequest"]["callbackUrl"]))
        tasks.add(task)
        return {"version": "2.0", "useCallback": True}

    bot.answer = answer
    result = await KakaoUser(platform, callback=True).say("오래 걸리는 일", wait_callback=True)
    await asyncio.gather(*tasks)
    assert result.texts == ["다 됐어요"] and posted == [200] and not platform.violations


async def test_callback_rules(bot: Bot, platform: KakaoPlatform) -> None:
    bot.answer = lambda p: {"version": "2.0", "useCallback": True}
    console = KakaoUser(platform, test_console=True, callback=True)
    await console.say("봇테스트")
    status, _ = await post(bot.skill_calls[-1][1]["userRequest"]["callbackUrl"], text_answer("x"), key=None)
    assert status == 400 and "봇테스트" in platform.violations[-1][1]

    bad = KakaoUser(platform, callback=True)
    await bad.say("x")
    status, _ = await post(bot.skill_calls[-1][1]["userRequest"]["callbackUrl"], text_answer("가" * 1001), key=None)
    assert status == 400
    with pytest.raises(SkillViolation, match="over 1,000"):
        await platform.wait_callback(bad)

    bot.answer = lambda p: text_answer("바로 답함")
    direct = KakaoUser(platform, callback=True)
    await direct.say("x")
    status, _ = await post(bot.skill_calls[-1][1]["userRequest"]["callbackUrl"], text_answer("x"), key=None)
    assert status == 400 and "direct answer" in platform.violations[-1][1]

    assert (await post(platform.url + "/v1/callback/forged", text_answer("x"), key=None))[0] == 400


async def test_a_missing_callback_times_out(bot: Bot, platform: KakaoPlatform) -> None:
    platform.callback_timeout = 0.2
    bot.answer = lambda p: {"version": "2.0", "useCallback": True}
    user = KakaoUser(platform, callback=True)
    await user.say("x")
    with pytest.raises(TimeoutError):  # the caller's own, shorter patience: not Kakao's rule
        await platform.wait_callback(user, timeout=0.05)
    assert not platform.violations
    with pytest.raises(SkillTimeout, match=r"no callback within 0\.2 s"):
        await platform.wait_callback(user)
    status, _ = await post(bot.skill_calls[-1][1]["userRequest"]["callbackUrl"], text_answer("늦음"), key=None)
    assert status == 400 and platform.violations[-1][1] == "callback after 0.2 s"


# ---- Event API ---------------------------------------------------------------------------------
def event_body(*users: KakaoUser | tuple[str, str], name: str = "result_notice") -> dict[str, Any]:
    targets = [{"type": u[0], "id": u[1]} if isinstance(u, tuple) else {"type": "botUserKey", "id": u.user_id}
               for u in users]  # fmt: skip
    return {"event": {"name": name, "data": {"company": "서울랩"}}, "user": targets}


async def test_event_api_auth_bot_id_and_user_cap(platform: KakaoPlatform) -> None:
    talk = f"{platform.url}/v2/bots/pitchbot-sandbox/talk"
    users = [KakaoUser(platform) for _ in range(101)]
    assert (await post(talk, event_body(users[0]), key="wrong"))[0] == 401
    assert (await post(f"{platform.url}/v2/bots/other-bot/talk", event_body(users[0])))[0] == 404
    assert (await post(f"{platform.url}/v2/bots/pitchbot-sandbox!/talk", event_body(users[0])))[0] == 404
    status, body = await post(talk, event_body(*users))
    assert status == 400 and "1-100 users, got 101" in body["message"]
    assert (await post(talk, event_body(users[0], users[0])))[0] == 400
    assert (await post(talk, {"user": [{"type": "botUserKey", "id": "x"}]}))[0] == 400
    status, body = await post(talk, event_body(*users[:100]))
    assert status == 200 and body["status"] == "SUCCESS" and body["taskId"]
    assert all(u.events == [("result_notice", {"company": "서울랩"})] for u in users[:100]) and not users[100].events
    assert platform.event_calls == 7 and len(platform.refusals) == 6
    assert (await get(f"{platform.url}/v1/tasks/{body['taskId']}", key="wrong"))[0] == 401


async def test_task_poll_reports_who_got_the_event(platform: KakaoPlatform) -> None:
    friend = KakaoUser(platform, app_user_id="777")
    stranger = KakaoUser(platform, is_friend=False)
    unknown_key = KakaoUser(platform, is_friend=None)
    body = event_body(("appUserId", "777"), ("plusfriendUserKey", stranger.plusfriend_user_key),
                      unknown_key, ("botUserKey", "nobody"))  # fmt: skip
    status, sent = await post(f"{platform.url}/v2/bots/pitchbot-sandbox/talk", body)
    assert status == 200
    status, task = await get(f"{platform.url}/v1/tasks/{sent['taskId']}")
    assert status == 200
    assert task["taskId"] == sent["taskId"] and task["status"] == "2 FAIL"
    assert (task["allRequestCount"], task["successCount"], task["userKeyResolvingFailCount"]) == (4, 2, 1)
    assert task["fail"]["count"] == 2 and len(task["fail"]["list"]) == 1
    failure = task["fail"]["list"][0]
    assert failure["userId"] == stranger.plusfriend_user_key and failure["reqUserType"] == "plusfriendUserKey"
    assert "not added the channel" in failure["errorMsg"]["msg"]
    assert friend.events and unknown_key.events and not stranger.events
    assert (await get(f"{platform.url}/v1/tasks/no-such-task"))[0] == 404


async def test_event_api_faults(platform: KakaoPlatform) -> None:
    user = KakaoUser(platform)
    talk = f"{platform.url}/v2/bots/pitchbot-sandbox/talk"
    platform.fail_next("talk", 429, {"status": "FAIL", "message": "too many requests"}, times=2)
    platform.fail_next("tasks", 500)
    assert [(await post(talk, event_body(user)))[0] for _ in range(3)] == [429, 429, 200]
    assert len(user.events) == 1 and platform.event_calls == 3
    task_id = next(iter(platform.tasks))
    assert [(await get(f"{platform.url}/v1/tasks/{task_id}"))[0] for _ in range(2)] == [500, 200]


async def test_development_channel_event_api_needs_the_bang(bot: Bot) -> None:
    platform = await started(bot, development=True)
    try:
        user = KakaoUser(platform)
        assert (await post(f"{platform.url}/v2/bots/pitchbot-sandbox/talk", event_body(user)))[0] == 404
        assert (await post(f"{platform.url}/v2/bots/pitchbot-sandbox!/talk", event_body(user)))[0] == 200
    finally:
        await platform.stop()


# ---- channel add/block webhook -----------------------------------------------------------------
async def test_channel_webhook(bot: Bot, platform: KakaoPlatform) -> None:
    user = KakaoUser(platform, app_user_id="4242")
    assert await platform.notify_channel(user, "blocked") == 200
    headers, body = bot.webhook_calls[0]
    assert headers["Authorization"] == "KakaoAK sandbox-admin-key"
    assert headers["User-Agent"] == "KakaoOpenAPI/1.0" and headers["X-Kakao-Resource-ID"]
    assert body["event"] == "blocked" and (body["id"], body["id_type"]) == ("4242", "app_user_id")
    assert body["channel_public_id"] == platform.channel_public_id and body["updated_at"].endswith("Z")
    assert user.is_friend is False
    await platform.notify_channel(anonymous := KakaoUser(platform, is_friend=False), "added")
    assert bot.webhook_calls[1][1]["id_type"] == "open_id" and bot.webhook_calls[1][1]["id"] == anonymous.open_id
    assert anonymous.is_friend is True and not platform.violations


async def test_channel_webhook_needs_2xx_within_3_s(bot: Bot, platform: KakaoPlatform) -> None:
    user = KakaoUser(platform)
    bot.webhook_status = 500
    with pytest.raises(SkillViolation, match="HTTP 500, not 2xx"):
        await platform.notify_channel(user, "added")
    bot.webhook_status, bot.webhook_delay, platform.webhook_timeout = 204, 0.6, 0.2
    with pytest.raises(SkillTimeout, match=r"no answer within 0\.2 s"):
        await platform.notify_channel(user, "blocked")
    assert [problem for _, problem in platform.violations] == [
        "channel webhook answered HTTP 500, not 2xx",
        "channel webhook: no answer within 0.2 s",
    ]
    assert user.is_friend is False and KakaoPlatform().webhook_timeout == 3.0

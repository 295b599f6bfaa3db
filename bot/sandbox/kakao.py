"""A local stand-in for Kakao's chatbot platform (Kakao i Open Builder, 챗봇 관리자센터), for the tests,
``simulate`` and benchmarks: what ``botapi`` is for Telegram.

Kakao never calls a local address, so a KakaoTalk channel is tested against this. It plays both sides:
a client that posts skill payloads to the bot's skill URL, as Kakao does for every utterance or quick
reply, and a server for what the bot calls (Event API, task polls, callback URLs). Every answer is
checked against Kakao's limits; what Kakao would refuse or drop is collected in ``violations`` and, by
default, raised at the simulated user's call. Event API faults can be injected.

The facts it relies on, from Kakao's chatbot guide and Kakao Developers; *assumed* marks what was not
found in Kakao's own pages.

Skill calls
- A payload carries ``intent`` {id, name}, ``userRequest`` {timezone "Asia/Seoul", params, block {id,
  name}, utterance, lang, user, callbackUrl (only when the block has callback enabled)}, ``bot`` {id,
  name}, ``action`` {name, clientExtra, params, id, detailParams}, ``contexts`` and ``flow``. New fields
  appear over time.
- ``user.id`` is the botUserKey (per bot, up to 70 characters), ``user.type`` "botUserKey";
  ``user.properties`` holds plusfriendUserKey (always), appUserId (only with Kakao Login) and isFriend
  (not always there).
- A development channel's bot id ends with "!", in payloads and in Event API paths.
- 봇테스트 (the admin centre's test console) sends ``params`` {"surface": "BuilderBotTest", "ignoreMe":
  "true"} and its callback URLs are refused; a real channel sends {"surface": "Kakaotalk.plusfriend"}.
- The skill form can add one custom header ("헤더값 입력"), sent on every call: the only shared secret,
  as Kakao signs nothing and publishes no IP list.
- A quick reply comes back as a new utterance (its messageText) with ``action.clientExtra`` = its extra.
- *Assumed*: ``flow`` = {"lastBlock": {id, name} (absent on a first turn), "trigger": {"type":
  "TEXT_INPUT" | "QUICKREPLY_BUTTON_MESSAGE" | "QUICKREPLY_BUTTON_BLOCK"}}; a quick reply of action
  "block" runs that block, named here by the reply's label.
- The answer: HTTP 200 JSON within 5 s, ``version`` "2.0", ``template.outputs`` with 1-3 outputs:
  simpleText (text ≤ 1,000 characters), simpleImage (imageUrl, altText), basicCard (thumbnail) or
  textCard with ≤ 3 buttons, listCard (header, ≤ 5 items, ≤ 2 buttons), carousel (basicCard, textCard or
  listCard, ≤ 10 items); ``quickReplies`` ≤ 10, action "message" (messageText) or "block" (blockId),
  optional ``extra`` object. Plain text only: no HTML. An answer over 30 KB is not delivered.
  *Assumed* (integrators' SDKs, not Kakao's pages): the basicCard thumbnail and the listCard's 2 buttons.
- Button labels are about 14 characters. Quick-reply labels have no documented limit; they are held to
  the same 14, as integrators keep them.
- Callback: for slow work the skill answers ``{"version": "2.0", "useCallback": true}`` at once (only
  when the payload had a callbackUrl), then POSTs the real answer to the callbackUrl within one minute,
  once. *Assumed*: Kakao answers that POST ``{"taskId", "status": "SUCCESS", "message", "timestamp"}``
  and refuses a bad one with HTTP 400 ``{"status": "FAIL", "message"}``.

Event API (the bot speaks first)
- ``POST /v2/bots/{botId}/talk`` with ``Authorization: KakaoAK {REST API key}`` and ``{"event": {"name",
  "data"}, "user": [{"type": "botUserKey" | "plusfriendUserKey" | "appUserId", "id"}]}``, at most 100
  users a call. The answer ``{"taskId", "status": "SUCCESS", "timestamp"}`` only means accepted.
- ``GET /v1/tasks/{taskId}`` reports delivery: ``{"taskId", "status": "ALL SUCCESS" | "<n> FAIL",
  "allRequestCount", "successCount", "userKeyResolvingFailCount" (keys that matched nobody: counted in
  fail.count, not listed), "fail": {"count", "list": [{"userId", "reqUserType", "createdAt",
  "errorMsg": {"errorType", "msg"}}]}}``.
- A user who has not added the channel gets nothing; here everyone else gets the event at once (a user
  whose isFriend is unknown counts as a friend). *Assumed*: the wording and code of that failure
  (``NOT_FRIEND``), error bodies ``{"status": "FAIL", "message"}``, 401 for a wrong key, 404 for an
  unknown bot id, 400 for a bad body or duplicate users; the same key on the task poll.

Channel webhook (Kakao Developers, 카카오톡 채널 웹훅)
- ``POST`` to the registered URL with ``Authorization: KakaoAK {admin key}``, ``X-Kakao-Resource-ID``,
  ``User-Agent: KakaoOpenAPI/1.0`` and ``{"event": "added" | "blocked", "id", "id_type", "channel_public_id",
  "channel_uuid", "updated_at"}`` (RFC 3339, UTC); the service must answer 2xx within 3 s. ``id_type`` is
  "app_user_id" (the Kakao Login user id, when the user consented to share channel status) or "open_id",
  an id that no skill payload carries.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from aiohttp import web

from bot.sandbox import faults

MAX_OUTPUTS = 3
MAX_SIMPLE_TEXT = 1000
MAX_QUICK_REPLIES = 10
MAX_LABEL = 14
MAX_CARD_BUTTONS = 3
MAX_LIST_ITEMS = 5
MAX_LIST_BUTTONS = 2
MAX_CAROUSEL_ITEMS = 10
MAX_ANSWER_BYTES = 30 * 1024
MAX_EVENT_USERS = 100
KEY_TYPES = ("botUserKey", "plusfriendUserKey", "appUserId")
NOT_FRIEND = {"errorType": 301, "msg": "user not added the channel"}  # assumed: Kakao's code and wording not found
SKILL = {"id": "5f0c0d0e0a0b0c0d0e0f1a2b", "name": "pitchbot"}
FALLBACK_BLOCK = {"id": "5f0c0d0e0a0b0c0d0e0f1a2c", "name": "폴백 블록"}
CHANNEL = {"surface": "Kakaotalk.plusfriend"}
TEST_CONSOLE = {"surface": "BuilderBotTest", "ignoreMe": "true"}  # 봇테스트 in the admin centre
BUTTON_ACTIONS = {"webLink": "webLinkUrl", "message": "messageText", "phone": "phoneNumber", "block": "blockId",
                  "share": None, "operator": None, "addChannel": None}  # fmt: skip

# What a template rendered for Telegram would leak into KakaoTalk, where it shows as typed: tags and entities.
_HTML = re.compile(
    r"</?(?:a|b|i|u|s|em|strong|code|pre|br|p|div|span|ins|del|strike|blockquote|tg-[a-z-]+)(?:\s[^<>]*)?/?>"
    r"|&(?:amp|lt|gt|quot|#\d+);",
    re.IGNORECASE,
)


class SkillViolation(Exception):
    """The bot broke a rule Kakao enforces: in KakaoTalk the user would see nothing, or an error."""


class SkillTimeout(SkillViolation):
    """No answer in time: 5 s for a skill call, one minute for a callback, 3 s for the channel webhook."""


@dataclass
class SkillAnswer:
    """A skill answer as the user would see it, with the rules it broke (empty when valid)."""

    texts: list[str] = field(default_factory=list)
    quick_replies: list[dict[str, Any]] = field(default_factory=list)
    callback: bool = False  # useCallback: the real answer comes later, to the callbackUrl
    raw: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.texts)

    def labels(self) -> list[str]:
        return [str(reply.get("label", "")) for reply in self.quick_replies]


@dataclass
class Fault:
    method: str  # "talk" (Event API send) or "tasks" (task poll)
    status: int
    body: dict[str, Any]
    times: int = 1
    after: int = 0  # calls to let through first


@dataclass
class _Callback:
    user: KakaoUser
    deadline: float  # monotonic
    answer: asyncio.Future[SkillAnswer]
    direct: bool = False  # the immediate answer asked for no callback: the URL is dead
    used: bool = False


class KakaoUser:
    """One KakaoTalk user of the channel, as the bot sees them: through the keys Kakao hands it."""

    def __init__(
        self,
        platform: KakaoPlatform,
        user_id: str | None = None,
        *,
        plusfriend_user_key: str | None = None,
        app_user_id: str | None = None,
        is_friend: bool | None = True,  # None: the property is absent from payloads
        language: str | None = "ko",
        test_console: bool = False,
        callback: bool = False,  # the block has callback enabled: payloads carry a callbackUrl
    ) -> None:
        number = next(platform._user_numbers)
        self.platform = platform
        self.user_id = user_id or _key(platform.bot_id, "botUserKey", number, length=66)
        if len(self.user_id) > 70:
            raise ValueError("a botUserKey has at most 70 characters")
        self.plusfriend_user_key = plusfriend_user_key or _key(platform.bot_id, "plusfriend", number, length=12)
        self.app_user_id = app_user_id
        # What the channel webhook names a user by who did not consent to share their channel status.
        self.open_id = _key(platform.bot_id, "open_id", number, length=32)
        self.is_friend = is_friend
        self.language = language
        self.test_console = test_console
        self.callback = callback
        self.answers: list[SkillAnswer] = []
        self._last_block: dict[str, str] | None = None
        self._callback_token: str | None = None
        platform._add_user(self)

    @property
    def last_answer(self) -> SkillAnswer:
        if not self.answers:
            raise AssertionError(f"{self.user_id[:12]}…: the bot has not answered yet")
        return self.answers[-1]

    @property
    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """What the Event API delivered to this person: (event name, data)."""
        return self.platform.events[self.user_id]

    async def say(self, text: str, *, wait_callback: bool = False) -> SkillAnswer:
        """Types an utterance; with ``wait_callback`` a callback answer is followed to the real one."""
        answer = await self.platform._turn(self, text, {}, FALLBACK_BLOCK, "TEXT_INPUT")
        return await self.platform.wait_callback(self) if wait_callback and answer.callback else answer

    async def tap(self, choice: str | int, *, wait_callback: bool = False) -> SkillAnswer:
        """Presses a quick reply of the last answer, by index, label, or part of a label."""
        reply = self.find_quick_reply(choice)
        utterance = str(reply.get("messageText") or reply.get("label", ""))
        extra = reply.get("extra") if isinstance(reply.get("extra"), dict) else {}
        block, trigger = FALLBACK_BLOCK, "QUICKREPLY_BUTTON_MESSAGE"
        if reply.get("action") == "block":  # Kakao runs that block; named here by the label
            block = {"id": str(reply.get("blockId")), "name": str(reply.get("label"))}
            trigger = "QUICKREPLY_BUTTON_BLOCK"
        answer = await self.platform._turn(self, utterance, dict(extra), block, trigger)
        return await self.platform.wait_callback(self) if wait_callback and answer.callback else answer

    def find_quick_reply(self, choice: str | int) -> dict[str, Any]:
        replies = self.last_answer.quick_replies
        if isinstance(choice, int):
            if 0 <= choice < len(replies):
                return replies[choice]
        else:
            for matches in (lambda label: label == choice, lambda label: choice in label):
                for reply in replies:
                    if matches(str(reply.get("label", ""))):
                        return reply
        raise AssertionError(f"no quick reply {choice!r}; the last answer has {self.last_answer.labels()}")


class KakaoPlatform:
    """Kakao's side of a channel: calls the skill for its users, serves the Event API, task polls and
    callback URLs, and sends the channel webhook. ``strict`` raises each violation at the user's call."""

    def __init__(
        self,
        bot_id: str = "pitchbot-sandbox",
        rest_api_key: str = "sandbox-rest-key",
        admin_key: str = "sandbox-admin-key",
        *,
        development: bool = False,
        bot_name: str = "테스트베드 서울 피칭데이",
        timeout: float = 5.0,
        callback_timeout: float = 60.0,
        webhook_timeout: float = 3.0,
        strict: bool = True,
    ) -> None:
        self.bot_id = bot_id
        self.rest_api_key = rest_api_key
        self.admin_key = admin_key
        self.development = development
        self.bot_name = bot_name
        self.channel_public_id = "_xcSandbox"  # the channel's profile id, as in its URL
        self.channel_uuid = "@pitchday"  # the channel's search id
        self.timeout = timeout
        self.callback_timeout = callback_timeout
        self.webhook_timeout = webhook_timeout
        self.strict = strict
        self.skill_url = ""
        self.channel_webhook_url = ""
        self._skill_header: tuple[str, str] | None = None
        self.users: dict[str, KakaoUser] = {}
        self._by_key: dict[tuple[str, str], KakaoUser] = {}
        self._user_numbers = itertools.count(1)
        self.payloads: list[dict[str, Any]] = []
        self.latencies: list[float] = []
        self.violations: list[tuple[str, str]] = []  # (botUserKey, what Kakao would refuse or drop)
        self.refusals: list[tuple[str, str]] = []  # (endpoint, description): HTTP errors the stand-in answered
        self.events: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        self.event_calls = 0
        self.tasks: dict[str, dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self._callbacks: dict[str, _Callback] = {}
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    @property
    def api_bot_id(self) -> str:
        """The bot id in payloads and Event API paths: a development channel's ends with "!"."""
        return self.bot_id + ("!" if self.development else "")

    # ---- lifecycle and settings ----------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/v2/bots/{bot_id}/talk", self._talk)
        app.router.add_get("/v1/tasks/{task_id}", self._task)
        app.router.add_post("/v1/callback/{token}", self._callback_post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        # Kakao is many servers: no client-side cap on concurrent calls, or a benchmark would time the queue.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self.url

    async def stop(self) -> None:
        for pending in self._callbacks.values():
            pending.answer.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def connect_skill(self, url: str, header: str | None = None, secret: str | None = None) -> None:
        """The skill form: the URL and the optional custom header ("헤더값 입력") sent on every call."""
        if (header is None) != (secret is None):
            raise ValueError("a custom header needs both a name and a value")
        self.skill_url = url
        self._skill_header = (header, secret) if header is not None and secret is not None else None

    def connect_channel_webhook(self, url: str) -> None:
        self.channel_webhook_url = url

    def fail_next(
        self, method: str, status: int, body: dict[str, Any] | None = None, times: int = 1, after: int = 0
    ) -> None:
        """After ``after`` calls, the next ``times`` calls of ``method`` ("talk" or "tasks") answer
        ``status`` with ``body``."""
        body = body or {"status": "FAIL", "message": f"HTTP {status}"}
        self.faults.append(Fault(method, status, body, times, after))

    def _take_fault(self, method: str) -> Fault | None:
        return faults.take(self.faults, lambda fault: fault.method == method)

    def _add_user(self, user: KakaoUser) -> None:
        self.users[user.user_id] = user
        self._by_key[("botUserKey", user.user_id)] = user
        self._by_key[("plusfriendUserKey", user.plusfriend_user_key)] = user
        if user.app_user_id is not None:
            self._by_key[("appUserId", user.app_user_id)] = user

    def _violate(self, user_id: str, problems: list[str]) -> None:
        self.violations.extend((user_id, problem) for problem in problems)

    def _fail(self, user_id: str, problem: str, timeout: bool = False) -> SkillAnswer:
        self._violate(user_id, [problem])
        return self._outcome(user_id, SkillAnswer(problems=[problem]), timeout)

    def _outcome(self, user_id: str, answer: SkillAnswer, timeout: bool = False) -> SkillAnswer:
        if answer.problems and self.strict:
            error = SkillTimeout if timeout else SkillViolation
            raise error(f"{user_id[:12]}…: " + "; ".join(answer.problems))
        return answer

    # ---- skill calls: Kakao → bot --------------------------------------------------------------
    async def _turn(
        self, user: KakaoUser, utterance: str, extra: dict[str, Any], block: dict[str, str], trigger: str
    ) -> SkillAnswer:
        if self._session is None or not self.skill_url:
            raise RuntimeError("start() the platform and connect_skill() first")
        token = None
        if user.callback:
            token = uuid.uuid4().hex
            future: asyncio.Future[SkillAnswer] = asyncio.get_running_loop().create_future()
            self._callbacks[token] = _Callback(user, time.monotonic() + self.callback_timeout, future)
            user._callback_token = token
        payload = self._payload(user, utterance, extra, block, trigger, token)
        user._last_block = block
        self.payloads.append(payload)
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self._skill_header is not None:
            headers[self._skill_header[0]] = self._skill_header[1]
        data = json.dumps(payload, ensure_ascii=False).encode()
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.post(self.skill_url, data=data, headers=headers) as resp:
                    status, body = resp.status, await resp.read()
        except TimeoutError:
            return self._fail(user.user_id, f"no answer within {self.timeout:g} s", timeout=True)
        except aiohttp.ClientError as err:
            return self._fail(user.user_id, f"skill server unreachable: {err!r}")
        self.latencies.append(time.monotonic() - started)
        answer = _read_answer(status, body, None if token else "useCallback, but the payload had no callbackUrl")
        if token is not None and not answer.callback:
            self._callbacks[token].direct = True
        user.answers.append(answer)
        self._violate(user.user_id, answer.problems)
        return self._outcome(user.user_id, answer)

    def _payload(
        self,
        user: KakaoUser,
        utterance: str,
        extra: dict[str, Any],
        block: dict[str, str],
        trigger: str,
        token: str | None,
    ) -> dict[str, Any]:
        properties: dict[str, Any] = {"plusfriendUserKey": user.plusfriend_user_key}
        if user.app_user_id is not None:
            properties["appUserId"] = user.app_user_id
        if user.is_friend is not None:
            properties["isFriend"] = user.is_friend
        request: dict[str, Any] = {
            "timezone": "Asia/Seoul",
            "params": dict(TEST_CONSOLE if user.test_console else CHANNEL),
            "block": dict(block),
            "utterance": utterance,
            "lang": user.language,
            "user": {"id": user.user_id, "type": "botUserKey", "properties": properties},
        }
        if token is not None:
            request["callbackUrl"] = f"{self.url}/v1/callback/{token}"
        flow: dict[str, Any] = {"trigger": {"type": trigger}}
        if user._last_block is not None:
            flow["lastBlock"] = dict(user._last_block)
        return {
            "intent": dict(block),
            "userRequest": request,
            "bot": {"id": self.api_bot_id, "name": self.bot_name},
            "action": {
                "name": SKILL["name"],
                "clientExtra": extra,
                "params": {},
                "id": SKILL["id"],
                "detailParams": {},
            },
            "contexts": [],
            "flow": flow,
        }

    # ---- callbacks: bot → Kakao, once, within a minute -----------------------------------------
    async def wait_callback(self, user: KakaoUser, timeout: float | None = None) -> SkillAnswer:
        """The answer the bot POSTs to the user's latest callbackUrl. ``timeout`` shorter than Kakao's
        minute is the caller's own patience: running out of it is a TimeoutError, not a violation."""
        pending = self._callbacks.get(user._callback_token or "")
        if pending is None or pending.direct:
            raise AssertionError(f"{user.user_id[:12]}…: the last answer did not ask for a callback")
        left = max(pending.deadline - time.monotonic(), 0.0)
        wait = left if timeout is None else min(timeout, left)
        try:
            answer = await asyncio.wait_for(asyncio.shield(pending.answer), wait)
        except TimeoutError:
            if wait < left:
                raise TimeoutError(f"{user.user_id[:12]}…: no callback within {wait:g} s") from None
            return self._fail(user.user_id, f"no callback within {self.callback_timeout:g} s", timeout=True)
        return self._outcome(user.user_id, answer)

    async def _callback_post(self, request: web.Request) -> web.Response:
        pending = self._callbacks.get(request.match_info["token"])
        if pending is None:
            return self._refuse("callback", 400, "unknown callback URL")
        problem = ""
        if pending.user.test_console:
            problem = "callback for a 봇테스트 (test console) request: Kakao refuses it"
        elif pending.used:
            problem = "callback URL used twice: it takes one answer"
        elif pending.direct:
            problem = "callback after a direct answer: without useCallback the URL is dead"
        elif time.monotonic() > pending.deadline:
            problem = f"callback after {self.callback_timeout:g} s"
        if problem:
            self._violate(pending.user.user_id, [problem])
            return self._refuse("callback", 400, problem)
        pending.used = True
        answer = _read_answer(200, await request.read(), "useCallback inside a callback answer")
        self._violate(pending.user.user_id, answer.problems)
        pending.user.answers.append(answer)
        if not pending.answer.done():
            pending.answer.set_result(answer)
        if answer.problems:
            return self._refuse("callback", 400, "; ".join(answer.problems))
        return web.json_response({"taskId": str(uuid.uuid4()), "status": "SUCCESS", "message": "", "timestamp": _ms()})

    # ---- Event API: the bot speaks first -------------------------------------------------------
    def _refuse(self, endpoint: str, status: int, message: str) -> web.Response:
        self.refusals.append((endpoint, message))
        return web.json_response({"status": "FAIL", "message": message}, status=status)

    def _unauthorized(self, request: web.Request, endpoint: str) -> web.Response | None:
        if request.headers.get("Authorization") != f"KakaoAK {self.rest_api_key}":
            return self._refuse(endpoint, 401, "invalid REST API key")
        return None

    async def _talk(self, request: web.Request) -> web.Response:
        self.event_calls += 1
        if (fault := self._take_fault("talk")) is not None:
            return web.json_response(fault.body, status=fault.status)
        if (refused := self._unauthorized(request, "talk")) is not None:
            return refused
        if request.match_info["bot_id"] != self.api_bot_id:
            return self._refuse("talk", 404, f"bot {request.match_info['bot_id']!r} not found")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._refuse("talk", 400, "body is not JSON")
        event = body.get("event") if isinstance(body, dict) else None
        if not isinstance(event, dict) or not isinstance(event.get("name"), str) or not event["name"]:
            return self._refuse("talk", 400, "event.name is required")
        data = event.get("data", {})
        if not isinstance(data, dict):
            return self._refuse("talk", 400, "event.data must be an object")
        targets = body.get("user")
        if not isinstance(targets, list) or not 1 <= len(targets) <= MAX_EVENT_USERS:
            count = len(targets) if isinstance(targets, list) else 0
            return self._refuse("talk", 400, f"user must list 1-{MAX_EVENT_USERS} users, got {count}")
        keys: list[tuple[str, str]] = []
        for target in targets:
            if not isinstance(target, dict) or target.get("type") not in KEY_TYPES or not target.get("id"):
                return self._refuse("talk", 400, f"each user needs a type among {KEY_TYPES} and an id")
            keys.append((str(target["type"]), str(target["id"])))
        if len(set(keys)) != len(keys):
            return self._refuse("talk", 400, "duplicate users")
        return web.json_response({"taskId": self._deliver(event["name"], data, keys), "status": "SUCCESS",
                                  "timestamp": _ms()})  # fmt: skip

    def _deliver(self, name: str, data: dict[str, Any], keys: list[tuple[str, str]]) -> str:
        """Delivers at once; the task poll tells who got it."""
        failures: list[dict[str, Any]] = []
        unresolved = delivered = 0
        for key_type, key in keys:
            user = self._by_key.get((key_type, key))
            if user is None:
                unresolved += 1
            elif user.is_friend is False:
                failures.append({"userId": key, "reqUserType": key_type, "createdAt": int(time.time()),
                                 "errorMsg": dict(NOT_FRIEND)})  # fmt: skip
            else:
                self.events[user.user_id].append((name, dict(data)))
                delivered += 1
        failed = len(keys) - delivered
        task_id = str(uuid.uuid4())
        task: dict[str, Any] = {"taskId": task_id, "status": f"{failed} FAIL" if failed else "ALL SUCCESS",
                                "allRequestCount": len(keys), "successCount": delivered,
                                "fail": {"count": failed, "list": failures}}  # fmt: skip
        if unresolved:
            task["userKeyResolvingFailCount"] = unresolved
        self.tasks[task_id] = task
        return task_id

    async def _task(self, request: web.Request) -> web.Response:
        if (fault := self._take_fault("tasks")) is not None:
            return web.json_response(fault.body, status=fault.status)
        if (refused := self._unauthorized(request, "tasks")) is not None:
            return refused
        task = self.tasks.get(request.match_info["task_id"])
        if task is None:
            return self._refuse("tasks", 404, "task not found")
        return web.json_response(task)

    # ---- channel add/block webhook -------------------------------------------------------------
    async def notify_channel(self, user: KakaoUser, event: Literal["added", "blocked"]) -> int:
        """The user adds or blocks the channel; Kakao tells the bot. Returns the bot's HTTP status."""
        if self._session is None or not self.channel_webhook_url:
            raise RuntimeError("start() the platform and connect_channel_webhook() first")
        user.is_friend = event == "added"  # it happened, whatever the bot answers
        consented = user.app_user_id is not None
        body = {
            "event": event,
            "id": user.app_user_id if consented else user.open_id,
            "id_type": "app_user_id" if consented else "open_id",
            "channel_public_id": self.channel_public_id,
            "channel_uuid": self.channel_uuid,
            "updated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        headers = {"Authorization": f"KakaoAK {self.admin_key}", "X-Kakao-Resource-ID": uuid.uuid4().hex[:24],
                   "User-Agent": "KakaoOpenAPI/1.0"}  # fmt: skip
        status = 0
        try:
            async with asyncio.timeout(self.webhook_timeout):
                async with self._session.post(self.channel_webhook_url, json=body, headers=headers) as resp:
                    status = resp.status
                    await resp.read()
        except TimeoutError:
            problem = f"channel webhook: no answer within {self.webhook_timeout:g} s"
        except aiohttp.ClientError as err:
            problem = f"channel webhook unreachable: {err}"
        else:
            problem = "" if 200 <= status < 300 else f"channel webhook answered HTTP {status}, not 2xx"
        if problem:
            self._fail(user.user_id, problem, timeout=status == 0)
        return status


# ---- checking an answer --------------------------------------------------------------------------
def _read_answer(status: int, body: bytes, callback_refused: str | None) -> SkillAnswer:
    """Parses a skill (or callback) answer and lists the rules it breaks. ``callback_refused`` is the
    problem a ``useCallback: true`` is, where it is not allowed."""
    answer = SkillAnswer()
    problems = answer.problems
    if status != 200:
        problems.append(f"HTTP {status} instead of 200")
        return answer
    if len(body) > MAX_ANSWER_BYTES:
        problems.append(f"answer is {len(body):,} bytes, over 30 KB: Kakao does not deliver it")
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        problems.append("answer is not JSON")
        return answer
    if not isinstance(raw, dict):
        problems.append("answer is not a JSON object")
        return answer
    answer.raw = raw
    if raw.get("version") != "2.0":
        problems.append(f'version must be "2.0", got {raw.get("version")!r}')
    if raw.get("useCallback") is True:
        answer.callback = True
        if callback_refused:
            problems.append(callback_refused)
        if "template" not in raw:
            return answer
    template = raw.get("template")
    if not isinstance(template, dict):
        problems.append("no template")
        return answer
    for i, output in enumerate(_sized(template.get("outputs"), 1, MAX_OUTPUTS, "template.outputs", problems)):
        _check_output(output, f"outputs[{i}]", answer)
    replies = _sized(template.get("quickReplies", []), 0, MAX_QUICK_REPLIES, "template.quickReplies", problems)
    for i, reply in enumerate(replies):
        if _check_button(reply, f"quickReplies[{i}]", problems, quick_reply=True):
            answer.quick_replies.append(reply)
    return answer


def _check_output(output: Any, where: str, answer: SkillAnswer) -> None:
    problems = answer.problems
    if not isinstance(output, dict) or len(output) != 1 or not isinstance(next(iter(output.values())), dict):
        problems.append(f"{where}: an output is one component, like {{'simpleText': {{...}}}}")
        return
    ((kind, body),) = output.items()
    if kind == "simpleText":
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"{where}: simpleText needs a text")
            return
        if len(text) > MAX_SIMPLE_TEXT:
            problems.append(f"{where}: simpleText is {len(text):,} characters, over {MAX_SIMPLE_TEXT:,}")
        _plain(text, where, problems)
        answer.texts.append(text)
    elif kind == "simpleImage":
        if not body.get("imageUrl") or not body.get("altText"):
            problems.append(f"{where}: simpleImage needs an imageUrl and an altText")
    elif kind in ("basicCard", "textCard", "listCard"):
        _check_card(kind, body, where, answer)
    elif kind == "carousel":
        if body.get("type") not in ("basicCard", "textCard", "listCard"):
            problems.append(f"{where}: carousel type {body.get('type')!r} is not supported here")
            return
        for i, item in enumerate(_sized(body.get("items"), 1, MAX_CAROUSEL_ITEMS, f"{where}.items", problems)):
            _check_card(body["type"], item, f"{where}.items[{i}]", answer)
    else:
        problems.append(f"{where}: unknown output type {kind!r}")


def _check_card(kind: str, card: Any, where: str, answer: SkillAnswer) -> None:
    problems = answer.problems
    if not isinstance(card, dict):
        problems.append(f"{where}: a {kind} is an object")
        return
    parts: list[Any] = [card.get("title"), card.get("description")]
    max_buttons = MAX_CARD_BUTTONS
    if kind == "basicCard" and not (card.get("thumbnail") or {}).get("imageUrl"):
        problems.append(f"{where}: basicCard needs a thumbnail.imageUrl")
    elif kind == "textCard" and not (card.get("title") or card.get("description")):
        problems.append(f"{where}: textCard needs a title or a description")
    elif kind == "listCard":
        max_buttons = MAX_LIST_BUTTONS
        items = _sized(card.get("items"), 1, MAX_LIST_ITEMS, f"{where}.items", problems)
        if not (card.get("header") or {}).get("title"):
            problems.append(f"{where}: listCard needs a header.title")
        parts = [(card.get("header") or {}).get("title")]
        parts += [item.get(k) for item in items if isinstance(item, dict) for k in ("title", "description")]
    texts = [part for part in parts if isinstance(part, str) and part]
    for text in texts:
        _plain(text, where, problems)
    for i, button in enumerate(_sized(card.get("buttons", []), 0, max_buttons, f"{where}.buttons", problems)):
        _check_button(button, f"{where}.buttons[{i}]", problems, quick_reply=False)
    if texts:
        answer.texts.append("\n".join(texts))


def _check_button(button: Any, where: str, problems: list[str], quick_reply: bool) -> bool:
    """Checks a card button or a quick reply; False when it is not even an object."""
    if not isinstance(button, dict):
        problems.append(f"{where}: not an object")
        return False
    label = button.get("label")
    if not isinstance(label, str) or not label.strip():
        problems.append(f"{where}: needs a label")
    elif len(label) > MAX_LABEL:
        problems.append(f"{where}: label {label!r} is {len(label)} characters, over {MAX_LABEL}")
    else:
        _plain(label, where, problems)
    action = button.get("action")
    allowed = ("message", "block") if quick_reply else tuple(BUTTON_ACTIONS)
    required = BUTTON_ACTIONS.get(action) if action in allowed else None
    if action not in allowed:
        problems.append(f"{where}: action must be one of {allowed}, got {action!r}")
    elif required and not button.get(required):
        problems.append(f"{where}: action {action!r} needs a {required}")
    elif isinstance(button.get("messageText"), str):
        _plain(button["messageText"], where, problems)
    if "extra" in button and not isinstance(button["extra"], dict):
        problems.append(f"{where}: extra must be an object")
    return True


def _sized(value: Any, least: int, most: int, where: str, problems: list[str]) -> list[Any]:
    """The list in ``value`` when it holds ``least``-``most`` items; else a problem, and the items to check anyway."""
    items = value if isinstance(value, list) else []
    if not isinstance(value, list) or not least <= len(items) <= most:
        problems.append(f"{where} holds {len(items)} items; Kakao takes {least}-{most}")
    return items


def _plain(text: str, where: str, problems: list[str]) -> None:
    if match := _HTML.search(text):
        problems.append(f"{where}: HTML {match.group(0)!r} in plain text: KakaoTalk shows it as typed")


def _key(*parts: object, length: int) -> str:
    """A stable stand-in for one of Kakao's opaque keys: the same user number gives the same key."""
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:length]


def _ms() -> int:
    return int(time.time() * 1000)

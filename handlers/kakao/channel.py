"""The KakaoTalk channel: Kakao's skill calls on ``POST /kakao/skill``, its channel add/block webhook on
``POST /kakao/channel``, the Event API sender for the outbox, and the poller that asks Kakao whether what
was sent was delivered.

Kakao waits five seconds for an answer. A turn takes milliseconds; one that does not answer within the
budget (an export, a big board on a slow database) answers "useCallback" where the block has a callback
URL and posts the real answer there (once, within a minute, only to Kakao's own host); elsewhere it says
the answer is being prepared, and the answer follows through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web
from pydantic import ValidationError
from sqlmodel import select

from bot.context import AppContext
from bot.dialogue.engine import Engine, Reply
from bot.dialogue.model import PLAIN
from bot.models import User
from bot.services import files, outbox, users
from handlers.kakao import answer
from handlers.kakao.payload import CHANNEL, SkillRequest, to_incoming
from handlers.kakao.sender import KakaoSender

log = logging.getLogger(__name__)
SKILL_PATH = "/kakao/skill"
CHANNEL_WEBHOOK_PATH = "/kakao/channel"
MAX_BODY = 64 * 1024  # a skill payload is a few kilobytes
ANSWER_WITHIN = 3.5  # seconds: Kakao's five, less the way there and back
POLL_EVERY = 30.0  # seconds between delivery checks


class KakaoChannel:
    name = CHANNEL
    caps = PLAIN
    answer_within = ANSWER_WITHIN

    def __init__(self, ctx: AppContext, engine: Engine) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.engine = engine
        self.sender = KakaoSender(ctx.settings, link_for=self._link_for)
        self._client: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        self._stop = asyncio.Event()
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._spawn(self._poll_deliveries())

    async def stop(self) -> None:
        self._stop.set()
        for task in list(self._tasks):
            try:
                await asyncio.wait_for(task, 5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        await self.sender.close()
        if self._client is not None:
            await self._client.close()

    def routes(self, app: web.Application) -> None:
        app.router.add_post(SKILL_PATH, self._skill)
        app.router.add_post(CHANNEL_WEBHOOK_PATH, self._channel_webhook)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- skill calls ---------------------------------------------------------------------------
    async def _skill(self, request: web.Request) -> web.Response:
        secret = self.settings.kakao_skill_secret
        given = request.headers.get(self.settings.kakao_skill_header, "")
        if secret is None or not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return _refusal(401, "unauthorized")
        if (request.content_length or 0) > MAX_BODY:
            return _refusal(413, "too large")
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return _refusal(413, "too large")
        try:
            skill = SkillRequest.model_validate(json.loads(body))
        except (ValueError, ValidationError, RecursionError):  # a body nested past the parser's depth too
            return _refusal(400, "not a skill request")
        if skill.bot.id.rstrip("!") != (self.settings.kakao_bot_id or "").rstrip("!"):
            return _refusal(403, "another bot")
        incoming = to_incoming(skill)
        turn = asyncio.ensure_future(self.engine.handle(incoming, self.caps))
        try:
            reply = await asyncio.wait_for(asyncio.shield(turn), self.answer_within)
        except TimeoutError:
            return self._later(skill, incoming.external_id, turn)
        return web.json_response(self._answer(reply, incoming.external_id))

    def _answer(self, reply: Reply, person: str) -> dict[str, Any]:
        built = answer.build(reply, self.ctx.texts)
        if built.overflow:
            self._spawn(self.deliver_texts(person, built.overflow))
        return built.body

    def _later(self, skill: SkillRequest, person: str, turn: asyncio.Future[Reply]) -> web.Response:
        """The turn goes on; its answer follows by the callback URL where there is one, else by the outbox."""
        url = skill.userRequest.callbackUrl
        if url and not skill.test_console and self._kakao_host(url):
            self._spawn(self._call_back(url, person, turn))
            return web.json_response({"version": "2.0", "useCallback": True})
        self._spawn(self._deliver_when_done(person, turn))
        lang = "en" if (skill.userRequest.lang or "").startswith("en") else "ko"
        return web.json_response(answer.text_answer(self.ctx.texts.render_plain(lang, "kakao/working")))

    def _kakao_host(self, url: str) -> bool:
        host = (urlparse(url).hostname or "").lower()
        return urlparse(url).scheme in ("https", "http") and any(
            host == allowed or host.endswith("." + allowed) for allowed in self.settings.kakao_callback_hosts
        )

    async def _call_back(self, url: str, person: str, turn: asyncio.Future[Reply]) -> None:
        """Kakao takes the callback within a minute, once: one POST. One refused or lost (a turn past the
        minute, the network) is not the end of the answer: it follows through the Event API, as without a
        callback URL (it was lost)."""
        reply = await turn
        assert self._client is not None
        try:
            async with self._client.post(url, json=self._answer(reply, person)) as posted:
                if posted.status == 200:
                    return
                log.warning("callback refused: %s %s", posted.status, (await posted.text())[:200])
        except (aiohttp.ClientError, TimeoutError) as err:
            log.warning("callback not delivered: %s", err)
        await self.deliver_texts(person, answer.texts_for_events(reply, self.ctx.texts))

    async def _deliver_when_done(self, person: str, turn: asyncio.Future[Reply]) -> None:
        reply = await turn
        await self.deliver_texts(person, answer.texts_for_events(reply, self.ctx.texts))

    async def deliver_texts(self, person: str, texts: list[str]) -> None:
        """Texts for a person, after the answer: through the outbox and the Event API."""

        def plan() -> None:
            with self.ctx.db.session() as session:
                user = session.exec(select(User).where(User.channel == CHANNEL, User.external_id == person)).first()
                if user is not None:
                    outbox.plan_texts(session, user, texts, self.ctx.clock.now())

        await asyncio.to_thread(plan)

    # ---- files in messages the bot starts ------------------------------------------------------
    async def _link_for(self, chat_id: str, document: dict[str, Any]) -> str | None:
        public = self.settings.public_url
        if public is None:
            return None

        def offer() -> str | None:
            with self.ctx.db.session() as session:
                user = session.exec(select(User).where(User.channel == CHANNEL, User.external_id == chat_id)).first()
                if user is None:
                    return None
                path = document.get("path")
                content = document.get("content")
                link = files.offer_download(
                    session, user, str(document.get("filename") or "file"), self.settings, self.ctx.clock.now(),
                    content=content.encode() if isinstance(content, str) else content,
                    path=None if content is not None else (Path(path) if path else None),
                    mime=str(document.get("mime") or "application/octet-stream"),
                )  # fmt: skip
                return f"{public.rstrip('/')}/files/{link.token}"

        if document.get("content") is None and not document.get("path"):
            return None  # a file only Telegram holds (a deck by its file_id): nothing to link to
        return await asyncio.to_thread(offer)

    # ---- delivery reports ----------------------------------------------------------------------
    async def _poll_deliveries(self) -> None:
        while not self._stop.is_set():
            try:
                await self.check_deliveries()
            except Exception:
                log.exception("delivery check failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), POLL_EVERY)

    async def check_deliveries(self, older_than: float = 5.0) -> int:
        """Asks Kakao about sent tasks; whoever did not get a message is marked with Kakao's reason."""
        now = self.ctx.clock.now()

        def tasks() -> list[str]:
            with self.ctx.db.session() as session:
                return outbox.unchecked_tasks(session, CHANNEL, now - dt.timedelta(seconds=older_than))

        failed_rows = 0
        for task_id in await asyncio.to_thread(tasks):
            report = await self.sender.task(task_id)
            if report is None:
                continue
            failed = _failures(report)

            def record(task_id: str = task_id, failed: dict[str, str] = failed) -> int:
                with self.ctx.db.session() as session:
                    return outbox.record_delivery(session, task_id, failed, self.ctx.clock.now())

            failed_rows += await asyncio.to_thread(record)
        return failed_rows

    # ---- Kakao Developers' channel webhook -------------------------------------------------------
    async def _channel_webhook(self, request: web.Request) -> web.Response:
        """Someone added or blocked the channel: whether the bot may write to them first."""
        key = self.settings.kakao_admin_key
        given = request.headers.get("Authorization", "")
        expected = f"KakaoAK {key.get_secret_value()}" if key is not None else ""
        if key is None or not hmac.compare_digest(given.encode(), expected.encode()):
            return _refusal(401, "unauthorized")
        try:
            event = json.loads(await request.content.read(MAX_BODY))
            kind, ident, id_type = event["event"], str(event["id"]), event.get("id_type")
        except (ValueError, KeyError, TypeError, RecursionError):
            return _refusal(400, "not a channel event")
        if kind not in ("added", "blocked"):
            return web.json_response({"ok": True})
        if isinstance(id_type, str) and id_type in users.KAKAO_KEYS:
            await asyncio.to_thread(self._mark_friend, id_type, ident, kind == "added")
        return web.json_response({"ok": True})

    def _mark_friend(self, key: str, ident: str, friend: bool) -> None:
        with self.ctx.db.session() as session:
            users.set_kakao_friend(session, key, ident, friend)


def _failures(report: dict[str, Any]) -> dict[str, str]:
    listed = (report.get("fail") or {}).get("list") or []
    out = {}
    for item in listed:
        if isinstance(item, dict) and item.get("userId"):
            message = item.get("errorMsg") or {}
            out[str(item["userId"])] = str(message.get("msg") if isinstance(message, dict) else message)[:200]
    return out


def _refusal(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)

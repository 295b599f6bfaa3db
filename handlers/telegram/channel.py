"""The Telegram channel on our own Bot API client (:mod:`handlers.telegram.api`): long polling with
getUpdates, or, in webhook mode, an aiohttp route that receives the updates (its secret token checked), so
several processes behind a load balancer can serve one bot. Either way every update, a plain dict, goes
through :func:`process`."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any, cast

from aiohttp import web

from bot.context import AppContext
from bot.dialogue import commands
from bot.dialogue.engine import Engine
from handlers.telegram.api import BotApi, RetryAfter, TelegramError
from handlers.telegram.connect import reach
from handlers.telegram.flood import ReplyGate
from handlers.telegram.incoming import sender
from handlers.telegram.processor import PerPerson
from handlers.telegram.progress import Progress
from handlers.telegram.sender import TelegramSender
from handlers.telegram.updates import process

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
MAX_UPDATE_BYTES = 1 << 20  # an update is a few kilobytes; anything near a megabyte is not Telegram's
ALLOWED_UPDATES = ["message", "callback_query"]


class TelegramChannel:
    name = "telegram"

    def __init__(self, ctx: AppContext, engine: Engine, token: str) -> None:
        self.ctx = ctx
        self.engine = engine
        settings = ctx.settings
        self.api_url = settings.telegram_api_url.rstrip("/")
        gate = ReplyGate(ctx.budget("telegram"), settings.send_per_chat_interval)
        self.api = BotApi(token, self.api_url, settings.connection_pool_size, settings.telegram_proxy, gate)
        # getUpdates on a connection of its own, so a long poll never holds one the replies need.
        self._poller = BotApi(token, self.api_url, 1, settings.telegram_proxy)
        self.sender = TelegramSender(self.api, settings.send_timeout)
        if settings.sandbox_unasked:  # the sandbox's stand-in tells the outbox's messages from answers by a mark
            from bot.sandbox.botapi import Unasked

            self.sender.api = cast(BotApi, Unasked(self.api))
        self.progress = Progress(ctx, self.api)
        self.incoming_dir: Path = settings.files_dir / "incoming"
        engine.links[self.name] = lambda payload: f"https://t.me/{self.api.username}?start={payload}"
        self._updates = PerPerson(settings.concurrent_updates, self._on_update)
        self._polling: asyncio.Task[None] | None = None
        self._offset = 0  # the next update_id to ask for: the ones before it were taken
        self._people: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # ---- lifecycle -----------------------------------------------------------------------------
    async def connect(self, stop: asyncio.Event) -> bool:
        """Reach the Bot API before anything else; False when ``stop`` came first (see :func:`reach`)."""
        return await reach(self.api, self.ctx.settings, stop)

    async def start(self, *, polling: bool = True) -> None:
        await self.api.start()
        await self._set_default_commands()
        settings = self.ctx.settings
        if polling:
            # A webhook left from an earlier run would refuse getUpdates; what waits for it stays queued.
            await self.api.call("deleteWebhook", {"drop_pending_updates": False})
            await self._poller.start()
            self._polling = asyncio.create_task(self._poll(), name="telegram-polling")
        else:
            assert settings.telegram_webhook_url and settings.telegram_webhook_secret
            await self.api.call("setWebhook", {
                "url": settings.telegram_webhook_url,
                "secret_token": settings.telegram_webhook_secret.get_secret_value(),
                "allowed_updates": ALLOWED_UPDATES, "drop_pending_updates": False,
            })  # fmt: skip
        await self.progress.resume()

    async def stop(self) -> None:
        await self.progress.stop()
        if self._polling is not None:
            self._polling.cancel()  # a poll in flight is let go: what it would bring stays unconfirmed
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None
            await self._updates.drain()  # every update taken is handled before the stop
            if self._offset:  # and Telegram told they were: the next start does not get them again
                with contextlib.suppress(TelegramError, RuntimeError):
                    await self._poller.call("getUpdates", {"offset": self._offset, "timeout": 0, "limit": 1})
            await self._poller.close()
        await self.api.close()

    async def _set_default_commands(self) -> None:
        """Everyone's command menu, in both languages; people with roles get their own (see deliver)."""
        everyone = commands.allowed(frozenset())
        for lang, code in (("ko", None), ("en", "en")):
            listed = [{"command": c.name, "description": self.ctx.texts.label(lang, f"commands.{c.name}")}
                      for c in everyone]  # fmt: skip
            await self.api.call("setMyCommands", {"commands": listed, "language_code": code})

    # ---- updates -------------------------------------------------------------------------------
    async def _poll(self) -> None:
        """getUpdates until stopped: each update handed to its person's queue, the offset past it confirming
        it at the next call. Errors are waited out, longer each time up to the configured cap."""
        settings = self.ctx.settings
        wait = settings.telegram_retry_seconds
        read = self._poller.timeout(settings.poll_timeout + 10.0)
        while True:
            try:
                updates = await self._poller.call(
                    "getUpdates", {"offset": self._offset or None, "timeout": settings.poll_timeout}, timeout=read
                )
            except RetryAfter as err:
                log.warning("getUpdates: asked to wait %.0f s", err.retry_after)
                await asyncio.sleep(err.retry_after)
                continue
            except Exception as err:  # TelegramError; anything else must not leave the bot deaf either
                log.warning("getUpdates failed (%s: %s); trying again in %.1f s", type(err).__name__, err, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, settings.telegram_retry_max_seconds)
                continue
            wait = settings.telegram_retry_seconds
            for update in updates if isinstance(updates, list) else ():
                update_id = update.get("update_id") if isinstance(update, dict) else None
                if not isinstance(update_id, int):
                    continue
                self._offset = max(self._offset, update_id + 1)
                person = sender(update)
                if person is not None:  # updates nobody sent are confirmed and left
                    self._updates.submit(person["id"], update)

    async def _on_update(self, update: dict[str, Any]) -> None:
        await process(self.engine, self.api, update, self.incoming_dir, live=self.progress.track)

    def routes(self, app: web.Application) -> None:
        app.router.add_post(WEBHOOK_PATH, self._webhook)

    async def _webhook(self, request: web.Request) -> web.Response:
        """Telegram's POST of one update. The answer comes after the turn has committed and its reply was
        sent: a process that dies first leaves the update to Telegram's retry, and the retry is recognised."""
        secret = self.ctx.settings.telegram_webhook_secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if secret is None or not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return web.Response(status=401, text="unauthorized")
        if (request.content_length or 0) > MAX_UPDATE_BYTES:
            return web.Response(status=413, text="too large")
        try:
            body = await request.content.read(MAX_UPDATE_BYTES + 1)
            if len(body) > MAX_UPDATE_BYTES:
                return web.Response(status=413, text="too large")
            update = json.loads(body)
        except (ValueError, RecursionError):  # a body nested past the parser's depth is no update either
            return web.Response(status=400, text="not an update")
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        person = sender(update)
        key = person["id"] if person is not None else 0
        async with self._people[key]:  # one person's updates one after another in this process
            try:
                await process(self.engine, self.api, update, self.incoming_dir, live=self.progress.track)
            finally:
                lock = self._people.get(key)
                if lock is not None and not lock.locked():
                    self._people.pop(key, None)
        return web.Response(text="ok")

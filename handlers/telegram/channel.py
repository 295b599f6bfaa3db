"""The Telegram channel: python-telegram-bot for the Bot API client and long polling; in webhook mode an
aiohttp route receives the updates instead (its secret token checked), so several processes behind a
load balancer can serve one bot. Either way every update goes through :func:`process`."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import defaultdict
from pathlib import Path

from aiohttp import web
from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.context import AppContext
from bot.dialogue import commands
from bot.dialogue.engine import Engine
from handlers.telegram.connect import reach
from handlers.telegram.flood import ReplyGate
from handlers.telegram.processor import PerUserUpdateProcessor
from handlers.telegram.progress import Progress
from handlers.telegram.sender import TelegramSender
from handlers.telegram.transport import on_aiohttp
from handlers.telegram.updates import process

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
MAX_UPDATE_BYTES = 1 << 20  # an update is a few kilobytes; anything near a megabyte is not Telegram's


class TelegramChannel:
    name = "telegram"

    def __init__(self, ctx: AppContext, engine: Engine, token: str, api_url: str | None = None) -> None:
        self.ctx = ctx
        self.engine = engine
        api = (api_url or ctx.settings.telegram_api_url).rstrip("/")
        self.api_url = api
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .concurrent_updates(PerUserUpdateProcessor(ctx.settings.concurrent_updates))
        )
        gate = ReplyGate(ctx.budget("telegram"), ctx.settings.send_per_chat_interval)
        self.application: Application = on_aiohttp(  # type: ignore[type-arg]
            builder, ctx.settings.connection_pool_size, ctx.settings.telegram_proxy, gate
        ).build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.bot = self.application.bot
        self.sender = TelegramSender(self.bot, ctx.settings.send_timeout)
        self.progress = Progress(ctx, self.bot)
        self.incoming_dir: Path = ctx.settings.files_dir / "incoming"
        engine.links[self.name] = lambda payload: f"https://t.me/{self.bot.username}?start={payload}"
        self._polling = False
        self._people: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # ---- lifecycle -----------------------------------------------------------------------------
    async def connect(self, stop: asyncio.Event) -> bool:
        """Reach the Bot API before anything else; False when ``stop`` came first (see :func:`reach`)."""
        return await reach(self.bot, self.api_url, self.ctx.settings, stop)

    async def start(self, *, polling: bool = True) -> None:
        await self.application.initialize()
        await self._set_default_commands()
        await self.application.start()
        if polling:
            assert self.application.updater is not None
            await self.application.updater.start_polling(
                timeout=self.ctx.settings.poll_timeout, drop_pending_updates=False
            )
            self._polling = True
        else:
            settings = self.ctx.settings
            assert settings.telegram_webhook_url and settings.telegram_webhook_secret
            await self.bot.set_webhook(
                settings.telegram_webhook_url, secret_token=settings.telegram_webhook_secret.get_secret_value(),
                allowed_updates=["message", "callback_query"], drop_pending_updates=False,
            )  # fmt: skip
        await self.progress.resume()

    async def stop(self) -> None:
        await self.progress.stop()
        if self._polling and self.application.updater is not None:
            await self.application.updater.stop()
            self._polling = False
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        # Stopped while still connecting: the Application never took the bot's HTTP sessions over.
        await self.bot.shutdown()

    async def _set_default_commands(self) -> None:
        """Everyone's command menu, in both languages; people with roles get their own (see deliver)."""
        everyone = commands.allowed(frozenset())
        for lang, code in (("ko", None), ("en", "en")):
            listed = [BotCommand(c.name, self.ctx.texts.label(lang, f"commands.{c.name}")) for c in everyone]
            await self.bot.set_my_commands(listed, language_code=code)

    # ---- updates -------------------------------------------------------------------------------
    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await process(self.engine, self.bot, update, self.incoming_dir, live=self.progress.track)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # process() answers every failure itself; what reaches here is a network error on the way out.
        log.error("update not fully delivered", exc_info=context.error)

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
            update = Update.de_json(json.loads(body), self.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        person = update.effective_user.id if update.effective_user else 0
        async with self._people[person]:  # one person's updates one after another in this process
            try:
                await process(self.engine, self.bot, update, self.incoming_dir, live=self.progress.track)
            finally:
                lock = self._people.get(person)
                if lock is not None and not lock.locked():
                    self._people.pop(person, None)
        return web.Response(text="ok")

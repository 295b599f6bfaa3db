"""The composition root: settings → database, clock, texts → the conversation engine → the channels and
their senders → the outbox dispatcher and the calendar's ticker. The bot process, the sandbox, the
benchmarks and the command line all start here; nothing else wires these together."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web

from bot.clock import Clock
from bot.context import AppContext
from bot.database import Database
from bot.delivery import Sender
from bot.dialogue.engine import Engine, Reply
from bot.models import User
from bot.services import outbox
from bot.settings import Settings

log = logging.getLogger(__name__)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        clock: Clock | None = None,
        db: Database | None = None,
    ) -> None:
        from handlers.kakao.channel import KakaoChannel
        from handlers.kakao.files import FilePages
        from handlers.telegram.channel import TelegramChannel

        self.ctx = AppContext.create(settings, clock=clock, db=db)
        self.settings = settings
        self.engine = Engine(self.ctx)
        token = settings.telegram_token.get_secret_value() if settings.telegram_token else None
        self.telegram = TelegramChannel(self.ctx, self.engine, token) if token else None
        self.kakao = KakaoChannel(self.ctx, self.engine) if settings.kakao_bot_id else None
        self.files = FilePages(self.ctx, self.engine, self.deliver_reply)
        self.dispatcher: object | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._web: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.ctx.db.on_commit(self._committed)

    # ---- wiring --------------------------------------------------------------------------------
    def senders(self) -> dict[str, Sender]:
        found: dict[str, Sender] = {}
        if self.telegram is not None:
            found[self.telegram.name] = self.telegram.sender
        if self.kakao is not None:
            found[self.kakao.name] = self.kakao.sender  # type: ignore[assignment]
        return found

    async def close_senders(self) -> None:
        """For a process that only sends (``pitchbot dispatch``): the channels' connections, never started."""
        if self.telegram is not None:
            await self.telegram.api.close()
        if self.kakao is not None:
            await self.kakao.sender.close()

    async def deliver_reply(self, person: User, reply: Reply) -> None:
        """A turn not started from the chat (an upload page): its screens follow in the chat, as text."""
        from handlers.kakao.answer import texts_for_events

        texts = texts_for_events(reply, self.ctx.texts)

        def plan() -> None:
            with self.ctx.db.session() as session:
                outbox.plan_texts(session, person, texts, self.ctx.clock.now())

        await asyncio.to_thread(plan)

    def wake_dispatcher(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()  # type: ignore[attr-defined]

    def _committed(self, events: set[str]) -> None:
        """Called after a commit, from whichever thread committed: new outbox rows wake the dispatcher."""
        if "outbox" in events and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.wake_dispatcher)

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self, *, webhook: bool = False, stop: asyncio.Event | None = None) -> bool:
        """False when ``stop`` was set while the Bot API could not be reached yet: nothing was started."""
        from scheduler.dispatcher import Dispatcher
        from scheduler.ticker import Ticker

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self.telegram is not None:
            if not await self.telegram.connect(stop or asyncio.Event()):
                return False
            await self.telegram.start(polling=not webhook)
        if self.kakao is not None:
            await self.kakao.start()
        if webhook or self.kakao is not None:
            await self._serve_http(webhook)
        if self.settings.run_dispatcher:
            self.dispatcher = Dispatcher(self.ctx, self.senders())
            self._tasks.append(asyncio.create_task(self.dispatcher.run(self._stop), name="dispatcher"))
        if self.settings.run_scheduler:
            self.ticker = Ticker(self.ctx, on_planned=self.wake_dispatcher)
            self._tasks.append(asyncio.create_task(self.ticker.run(self._stop), name="ticker"))
        return True

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 15)
            except TimeoutError:
                task.cancel()
        self._tasks.clear()
        if self._web is not None:
            await self._web.cleanup()
            self._web = None
        if self.telegram is not None:
            await self.telegram.stop()
        if self.kakao is not None:
            await self.kakao.stop()
        self._loop = None

    async def _serve_http(self, webhook: bool) -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_get("/healthz", _healthy)
        if self.telegram is not None and webhook:
            self.telegram.routes(app)
        if self.kakao is not None:
            self.kakao.routes(app)
        self.files.routes(app)
        self._web = web.AppRunner(app, access_log=None)
        await self._web.setup()
        await web.TCPSite(self._web, self.settings.http_host, self.settings.http_port).start()
        log.info("listening on %s:%s", self.settings.http_host, self.settings.http_port)

    async def serve(self, *, webhook: bool = False) -> None:
        """Runs until SIGTERM or SIGINT."""
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, done.set)
        try:
            if await self.start(webhook=webhook, stop=done):
                settle()
                await done.wait()
        finally:
            await self.stop()


def settle() -> None:
    """Called once a long-running process has started: what start-up built (modules, templates, the
    engine, the label catalogs) lives as long as the process, so it leaves the garbage collector's sight.
    Its full collections then look only at what came later: while a broadcast went out they paused the
    whole process for about 100 ms every 5 s (the send lost 6–9% of its slots in those seconds), about
    15 ms after this. Only for a process's own entry point: a test run starting many bots would keep
    every earlier bot's cycles for good."""
    gc.collect()
    gc.freeze()


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="ok")

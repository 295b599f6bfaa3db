"""The yardstick of the conversation benchmark: python-telegram-bot on aiohttp with the bot's concurrency.

This was the bot's own HTTP client and update processor while the bot ran on python-telegram-bot (until
the bot moved to its own thin client, handlers/telegram/api.py); the aiohttp echo bot (bench/echo_bot.py,
``ECHO_TRANSPORT=aiohttp``) keeps them unchanged so its figures stay comparable with the earlier ones.
aiohttp instead of python-telegram-bot's default httpx; ``TimedOut`` on timeouts and ``NetworkError`` on
connection failures; different people's updates concurrently, each person's in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram import Update
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.ext import ApplicationBuilder, BaseUpdateProcessor
from telegram.request import BaseRequest, RequestData

from handlers.telegram.flood import ReplyGate

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    __slots__ = ("_connect", "_gate", "_limit", "_media_read", "_pool", "_proxy", "_read", "_session")

    def __init__(
        self,
        connection_pool_size: int = 4,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 30.0,
        media_read_timeout: float | None = 60.0,
        proxy: str | None = None,
        gate: ReplyGate | None = None,
    ) -> None:
        self._gate = gate
        self._limit = connection_pool_size
        self._read = read_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_read = media_read_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # No cookie jar: the Bot API sets no cookies. A proxy comes from the settings, not the environment.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit, ttl_dns_cache=300),
                cookie_jar=aiohttp.DummyCookieJar(),
                proxy=self._proxy,
                headers={"User-Agent": self.USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = bool(request_data and request_data.contains_files)
        read = _given(read_timeout, self._media_read if files else self._read)
        # aiohttp has no write timeout: a slow upload counts against the read timeout of the answer.
        write = _given(write_timeout, None)
        if write is not None and read is not None:
            read = max(read, write)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        timeout = aiohttp.ClientTimeout(
            total=None, connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect, sock_read=read,
        )  # fmt: skip

        def call() -> Awaitable[tuple[int, bytes]]:  # built anew for a retry: a sent form is used up
            body: Any = None
            headers: dict[str, str] | None = None
            if request_data is not None and files:
                body = _multipart(request_data)
            elif request_data is not None and request_data.json_parameters:
                body, headers = urlencode(request_data.json_parameters), _FORM
            return self._send(session, method, url, body, headers, timeout)

        if self._gate is None:
            return await call()
        chat = request_data.parameters.get("chat_id") if request_data is not None else None
        return await self._gate.send(url.rsplit("/", 1)[-1], None if chat is None else str(chat), call)

    @staticmethod
    async def _send(
        session: aiohttp.ClientSession, method: str, url: str, body: Any, headers: dict[str, str] | None,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:  # fmt: skip
        try:
            async with session.request(method, url, data=body, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


def on_aiohttp(
    builder: ApplicationBuilder,  # type: ignore[type-arg]
    connection_pool_size: int,
    proxy: str | None = None,
    gate: ReplyGate | None = None,
) -> ApplicationBuilder:  # type: ignore[type-arg]
    """Both of an Application's clients on aiohttp: the pooled one for calls (through the flood-limit gate
    when given), one connection for getUpdates."""
    return builder.request(AiohttpRequest(connection_pool_size, proxy=proxy, gate=gate)).get_updates_request(
        AiohttpRequest(1, read_timeout=10, proxy=proxy)
    )


def _given(value: Any, default: float | None) -> float | None:
    # python-telegram-bot marks "not given" with DefaultValue instances, DEFAULT_NONE among them.
    return default if isinstance(value, DefaultValue) else value


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        file_name, content, *rest = part
        form.add_field(name, content, filename=file_name, content_type=rest[0] if rest else None)
    return form


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 32) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, asyncio.Lock] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key: object = None
        if isinstance(update, Update):
            user, chat = update.effective_user, update.effective_chat
            key = user.id if user is not None else (chat.id if chat is not None else None)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await coroutine
        finally:
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

"""Our own thin Bot API client: one :meth:`BotApi.call` per method, plain dicts in and out.

Why not python-telegram-bot's object layer: at load most of the bot's CPU went to building each request
(RequestData, InputFile and keyboard objects, urlencoded JSON parameters) and parsing every answer into
Message/Update objects that nothing read. Here a call is a JSON body on a pooled aiohttp session (multipart
only when a file is uploaded) and the answer is ``json.loads``; only ``ok``, ``result``, ``error_code``,
``description`` and ``parameters.retry_after`` are looked at. Every call goes through the flood-limit gate
(:class:`~handlers.telegram.flood.ReplyGate`) when one is given. Failures are the small exceptions below:
what Telegram refused (:class:`BadRequest`, :class:`Forbidden`, :class:`RetryAfter`, :class:`Unauthorized`)
and what may pass by trying again (:class:`Transient`: timeouts, 5xx, connection failures)."""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import shutil
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import aiohttp

from bot.errors import FileTooLarge
from handlers.telegram.flood import ReplyGate

CHUNK = 1 << 16
WRITE_AT = 1 << 20
USER_AGENT = "pitchbot (aiohttp)"
_JSON = {"Content-Type": "application/json"}


class TelegramError(Exception):
    """The Bot API answered ``ok: false``, or could not be reached."""

    def __init__(self, description: str, code: int = 0) -> None:
        super().__init__(description)
        self.description = description
        self.code = code


class BadRequest(TelegramError):
    """400: Telegram refused the call as made (bad HTML, message not modified, query too old...)."""


class Unauthorized(TelegramError):
    """401 or 404 on a method: the token is not a bot's."""


class Forbidden(TelegramError):
    """403: the person blocked the bot, or the chat is closed to it."""


class Conflict(TelegramError):
    """409: another process polls this bot, or a webhook is set while polling."""


class RetryAfter(TelegramError):
    """429: Telegram's flood limit; the call may be made again after ``retry_after`` seconds."""

    def __init__(self, description: str, retry_after: float) -> None:
        super().__init__(description, 429)
        self.retry_after = retry_after


class Transient(TelegramError):
    """Not Telegram's refusal: a 5xx, an answer that is not the Bot API's, or the network."""


class TimedOut(Transient):
    """No answer within the timeout (the call may or may not have been carried out)."""


class Upload:
    """A file sent with a call (multipart): its bytes, or a path read when the call is made."""

    __slots__ = ("content", "filename", "mime_type", "path")

    def __init__(
        self, filename: str, content: bytes | None = None, path: str | Path | None = None, mime_type: str | None = None
    ) -> None:
        self.filename = filename or "file"
        self.content = content
        self.path = path
        self.mime_type = mime_type or mimetypes.guess_type(self.filename)[0] or "application/octet-stream"

    def read(self) -> bytes:
        return self.content if self.content is not None else Path(self.path or "").read_bytes()


class BotApi:
    def __init__(
        self,
        token: str,
        api_url: str = "https://api.telegram.org",
        pool_size: int = 8,
        proxy: str | None = None,
        gate: ReplyGate | None = None,
        read_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        pool_timeout: float = 30.0,
        media_timeout: float = 60.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._base = f"{self.api_url}/bot{token}/"
        self._file_base = f"{self.api_url}/file/bot{token}/"
        self.gate = gate
        self.username = ""  # the bot's, from getMe (see handlers.telegram.connect.reach)
        self._pool_size = pool_size
        self._proxy = proxy
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._timeout = self.timeout(read_timeout)
        self._media_timeout = self.timeout(media_timeout)
        self._session: aiohttp.ClientSession | None = None

    def timeout(self, read: float) -> aiohttp.ClientTimeout:
        """A call's timeouts: ``read`` for the answer (aiohttp has no write timeout: a slow upload counts
        against it), the connect timeouts of this client."""
        return aiohttp.ClientTimeout(
            total=None, connect=self._pool + self._connect, sock_connect=self._connect, sock_read=read
        )

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._session is None or self._session.closed:
            # No cookie jar: the Bot API sets no cookies. A proxy comes from the settings, not the environment.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                cookie_jar=aiohttp.DummyCookieJar(),
                proxy=self._proxy,
                headers={"User-Agent": USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=None),
            )

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> BotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- calls ---------------------------------------------------------------------------------
    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> Any:
        """One Bot API method; returns its ``result``. A parameter that is an :class:`Upload` makes the call
        multipart; None values are left out."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This BotApi is not started")
        params = {k: v for k, v in params.items() if v is not None} if params else {}
        url = self._base + method
        files = any(isinstance(v, Upload) for v in params.values())
        if timeout is None:
            timeout = self._media_timeout if files else self._timeout

        def send() -> Awaitable[tuple[int, bytes]]:  # built anew for a retry: a sent form is used up
            if files:
                return _send(session, url, _multipart(params), None, timeout)
            return _send(session, url, json.dumps(params, ensure_ascii=False).encode(), _JSON, timeout)

        if self.gate is None:
            status, body = await send()
        else:
            chat = params.get("chat_id")
            status, body = await self.gate.send(method, None if chat is None else str(chat), send)
        return _result(status, body)

    def file_url(self, file_path: str) -> str:
        return file_path if file_path.startswith(("http://", "https://")) else self._file_base + file_path

    async def download(self, file_path: str, path: Path, limit: int) -> int:
        """Streams a file of the Bot API's (``file_path`` from getFile) into ``path`` in chunks, never holding
        it whole; returns its size. Raises :class:`FileTooLarge` as soon as more than ``limit`` bytes came
        (the file is then left part-way: the caller deletes it). A local Bot API server gives an absolute
        path of its own disk instead: that file is copied."""
        if os.path.isabs(file_path) and not file_path.startswith(("http://", "https://")):
            size = (await asyncio.to_thread(os.stat, file_path)).st_size
            if size > limit:
                raise FileTooLarge(size)
            await asyncio.to_thread(shutil.copyfile, file_path, path)
            return size
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This BotApi is not started")
        size = 0
        try:
            async with session.get(self.file_url(file_path), timeout=self._media_timeout) as response:
                if response.status != 200:
                    raise Transient(f"file download answered {response.status}", response.status)
                declared = response.content_length
                if declared is not None and declared > limit:
                    raise FileTooLarge(declared)
                with open(path, "wb") as out:
                    held = bytearray()  # written a megabyte at a time: one thread hop each, not one a chunk
                    async for chunk in response.content.iter_chunked(CHUNK):
                        size += len(chunk)
                        if size > limit:
                            raise FileTooLarge(size)
                        held += chunk
                        if len(held) >= WRITE_AT:
                            await asyncio.to_thread(out.write, held)
                            held = bytearray()
                    if held:
                        await asyncio.to_thread(out.write, held)
        except TimeoutError as err:
            raise TimedOut("Timed out") from err
        except aiohttp.ClientError as err:
            raise Transient(f"aiohttp.{type(err).__name__}: {err}") from err
        return size


async def _send(
    session: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None, timeout: aiohttp.ClientTimeout
) -> tuple[int, bytes]:
    try:
        async with session.post(url, data=body, headers=headers, timeout=timeout) as response:
            return response.status, await response.read()
    except TimeoutError as err:
        raise TimedOut("Timed out") from err
    except aiohttp.ClientError as err:
        raise Transient(f"aiohttp.{type(err).__name__}: {err}") from err


def _result(status: int, body: bytes) -> Any:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise Transient(f"HTTP {status}: not a Bot API answer", status)
    if answer.get("ok") is True:
        return answer.get("result")
    code = answer.get("error_code")
    code = code if isinstance(code, int) else status
    description = str(answer.get("description") or f"HTTP {status}")
    if code == 429:
        parameters = answer.get("parameters")
        seconds = parameters.get("retry_after") if isinstance(parameters, dict) else None
        raise RetryAfter(description, float(seconds) if isinstance(seconds, int | float) else 1.0)
    if code == 400:
        raise BadRequest(description, code)
    if code == 403:
        raise Forbidden(description, code)
    if code in (401, 404):
        raise Unauthorized(description, code)
    if code == 409:
        raise Conflict(description, code)
    raise Transient(description, code)


def _multipart(params: dict[str, Any]) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in params.items():
        if isinstance(value, Upload):
            form.add_field(name, value.read(), filename=value.filename, content_type=value.mime_type)
        elif isinstance(value, str):
            form.add_field(name, value)
        else:  # numbers, booleans and objects as JSON, as the Bot API reads form fields
            form.add_field(name, json.dumps(value, ensure_ascii=False))
    return form

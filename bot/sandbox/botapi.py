"""A local stand-in for Telegram's Bot API server (aiohttp), for the tests, ``simulate`` and benchmarks.

It speaks the subset of the Bot API the bot uses, refuses what Telegram refuses (text over 4,096
characters, bad HTML, callback data over 64 bytes, unchanged edits), can inject faults and hold a call until
a test lets it go. Simulated users push updates into it and read what the bot sent back. Updates go out by
long polling, or, once the bot set a webhook and a test named the processes behind it (``deliver_to``, a
round-robin load balancer), by POST with Telegram's secret-token header, retried until a process answers
200, as Telegram does. ``redeliver`` sends an update again, as Telegram does after a crash."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from bot.sandbox import faults
from bot.sandbox.telegram_html import MAX_TEXT, EntityError, parse_html, utf16_len

if TYPE_CHECKING:
    from handlers.telegram.api import BotApi

BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "PitchBot", "username": "pitchday_sandbox_bot"}
# Nothing in a Bot API call says which update a message answers, if any: a reminder sent while a person waits
# for an answer looks like the answer. The sandbox marks the calls the bot makes on its own (the outbox's, see
# Unasked below) with this parameter, which only the stand-in reads; Telegram itself never sees it.
UNASKED = "sandbox_unasked"


class Unasked:
    """The outbox's Bot API client where ``Settings.sandbox_unasked`` is on: each call carries ``UNASKED``, so
    that the stand-in tells a reminder from the answer a simulated person waits for (see
    :mod:`bot.sandbox.users`)."""

    def __init__(self, api: BotApi) -> None:
        self._api = api

    async def call(self, method: str, params: dict[str, Any] | None = None, **options: Any) -> Any:
        return await self._api.call(method, {**(params or {}), UNASKED: True}, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Fault:
    method: str
    code: int
    description: str
    retry_after: int | None = None
    times: int = 1
    chat_id: int | None = None
    delay: float = 0.0  # seconds to stall before answering (a timeout, seen from the client)
    after: int = 0  # matching calls to let through first


@dataclass
class Hold:
    """A call held at the stand-in until the test releases it, so that a test can order what the bot sends
    (an outbox message forced between a person's update and its answer)."""

    method: str
    chat_id: int
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass
class Event:
    """Something a user sees: a new message, a document, or an edit of an earlier message."""

    kind: str  # "message", "document", "edit"
    chat_id: int
    message_id: int
    html: str
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    document: dict[str, Any] | None = None
    unasked: bool = False  # sent on the bot's own initiative (marked with UNASKED): no update's answer
    at: float = field(default_factory=time.monotonic)  # when it arrived (the benchmarks' send rate)

    def button_texts(self) -> list[str]:
        return [b[0] for row in self.buttons for b in row]


@dataclass
class StoredFile:
    content: bytes
    file_name: str
    mime_type: str | None


class BotApiServer:
    def __init__(self, token: str = "123456:SANDBOX") -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._msg_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.events: dict[int, list[Event]] = defaultdict(list)
        # One condition per chat: a message wakes only whoever waits in that chat, not every simulated user.
        self._chat_waits: dict[int, asyncio.Condition] = {}
        self._callback_chats: dict[str, int] = {}  # callback query id -> the chat of the person who pressed
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.files: dict[str, StoredFile] = {}
        self._file_ids = itertools.count(1)
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.holds: list[Hold] = []
        self.calls: dict[str, int] = defaultdict(int)
        self.refusals: list[tuple[str, str]] = []
        # Flood limits as Telegram enforces them, when switched on: (messages a second, seconds per chat).
        self.flood_limit: tuple[float, float] | None = None
        self.delays: dict[str, float] = {}  # method -> seconds every call of it takes (a slow Bot API)
        self._recent: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self.too_many: Counter[int] = Counter()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.pushed: dict[int, dict[str, Any]] = {}  # every update ever pushed, by id
        # Webhook mode: what the bot registered, and where the test's load balancer sends the POSTs.
        self.webhook: dict[str, str] | None = None
        self.deliver_to: list[str] = []
        self.webhook_posts = 0
        self.webhook_failures: list[tuple[int, str]] = []
        self._next_target = 0
        self._posting: set[asyncio.Task[None]] = set()
        self._client: aiohttp.ClientSession | None = None

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        bound = server.sockets[0].getsockname()  # type: ignore[union-attr]
        self.url = f"http://{host}:{bound[1]}"
        return self.url

    async def stop(self) -> None:
        self._new_update.set()
        for hold in self.holds:  # a test that failed half-way leaves no call hanging
            hold.release()
        for task in list(self._posting):
            task.cancel()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---- fault injection -----------------------------------------------------------------------
    def fail_next(self, method: str, code: int, description: str, **kw: Any) -> None:
        self.faults.append(Fault(method, code, description, **kw))

    def _take_fault(self, method: str, chat_id: int | None) -> Fault | None:
        return faults.take(self.faults, lambda fault: fault.method == method and fault.chat_id in (None, chat_id))

    def hold_next(self, method: str, chat_id: int) -> Hold:
        """The next call of ``method`` to ``chat_id`` waits, once it has reached the stand-in, until released."""
        hold = Hold(method, chat_id)
        self.holds.append(hold)
        return hold

    async def _held(self, method: str, chat_id: int | None) -> None:
        for hold in self.holds:
            if hold.method == method and hold.chat_id == chat_id and not hold.reached.is_set():
                hold.reached.set()
                await hold.released.wait()
                return

    # ---- HTTP ----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls[method] += 1
        chat_id = _int(params.get("chat_id"))
        if self.delays.get(method):
            await asyncio.sleep(self.delays[method])
        await self._held(method, chat_id)
        fault = self._take_fault(method, chat_id)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            return _error(ApiError(fault.code, fault.description, fault.retry_after))
        handler = getattr(self, "api_" + method.lower(), None)
        if handler is None:
            return _error(ApiError(404, "Not Found: method not found"))
        try:
            result = await handler(params)
        except ApiError as err:
            self.refusals.append((method, err.description))
            return _error(err)
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if hasattr(value, "file"):
                    params[key] = StoredFile(value.file.read(), value.filename or "file", value.content_type)
                else:
                    params[key] = value
        return params

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        file_id = path.rsplit("/", 1)[-1].split(".", 1)[0]
        stored = self.files.get(file_id)
        if request.match_info["token"] != self.token or stored is None:
            return web.Response(status=404, text="Not Found")
        # In pieces, as a server streams a file: a large one is never copied whole into a buffer.
        response = web.StreamResponse(headers={"Content-Type": stored.mime_type or "application/octet-stream"})
        response.content_length = len(stored.content)
        await response.prepare(request)
        content = memoryview(stored.content)
        for start in range(0, len(content), 1 << 16):
            await response.write(content[start : start + (1 << 16)])
        await response.write_eof()
        return response

    # ---- Bot API methods -----------------------------------------------------------------------
    async def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False}  # fmt: skip

    async def api_deletewebhook(self, params: dict[str, Any]) -> bool:
        if _bool(params.get("drop_pending_updates")):
            self.updates.clear()
        self.webhook = None
        return True

    async def api_setwebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        secret = str(params.get("secret_token") or "")
        if not url:
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if secret and not all(c.isalnum() or c in "_-" for c in secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret": secret}
        for queued in self.updates:  # what waited for getUpdates goes to the webhook now
            self._deliver(queued)
        self.updates = []
        return True

    async def api_setmycommands(self, params: dict[str, Any]) -> bool:
        """Menus are kept by scope: "" and "en" for everyone's, "chat:<id>" for one chat's own."""
        commands = _json(params.get("commands")) or []
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        self.commands[self._scope_key(params)] = commands
        return True

    async def api_deletemycommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._scope_key(params), None)
        return True

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> str:
        scope = _json(params.get("scope")) or {}
        if scope.get("type") == "chat":
            return f"chat:{scope.get('chat_id')}"
        return str(params.get("language_code") or "")

    async def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params.get("offset")) or 0
        timeout = float(params.get("timeout") or 0)
        limit = _int(params.get("limit")) or 100
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while not self.updates and self._runner is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), left)
            except TimeoutError:
                break
        return self.updates[:limit]

    def _flood_check(self, chat_id: int) -> None:
        if self.flood_limit is None:
            return
        per_second, per_chat = self.flood_limit
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= per_second or now - self._chat_last.get(chat_id, -1e9) < per_chat:
            self.too_many[chat_id] += 1
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self._recent.append(now)
        self._chat_last[chat_id] = now

    async def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _require_chat(params)
        self._flood_check(chat_id)
        html_text, plain = _check_text(params.get("text"), params.get("parse_mode"))
        markup = _check_markup(params.get("reply_markup"))
        msg = self._new_bot_message(chat_id, text=plain, reply_markup=markup)
        unasked = _bool(params.get(UNASKED))
        await self._add_event(
            Event("message", chat_id, msg["message_id"], html_text, plain, _buttons(markup), None, unasked)
        )
        return msg

    async def api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _require_chat(params)
        doc = params.get("document")
        if isinstance(doc, StoredFile):
            file_id = self._store_file(doc)
        elif isinstance(doc, str) and doc in self.files:
            file_id = doc
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption_html, caption = ("", "")
        if params.get("caption"):
            caption_html, caption = _check_text(params.get("caption"), params.get("parse_mode"), limit=1024)
        stored = self.files[file_id]
        document = self._document_dict(file_id)
        markup = _check_markup(params.get("reply_markup"))
        msg = self._new_bot_message(chat_id, document=document, caption=caption, reply_markup=markup)
        unasked = _bool(params.get(UNASKED))
        await self._add_event(
            Event("document", chat_id, msg["message_id"], caption_html, caption, _buttons(markup), document, unasked)
        )
        del stored
        return msg

    async def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._bot_message(params)
        html_text, plain = _check_text(params.get("text"), params.get("parse_mode"))
        markup = _check_markup(params.get("reply_markup"))
        if msg.get("text") == plain and msg.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        msg["text"] = plain
        _set_markup(msg, markup)
        chat_id = msg["chat"]["id"]
        await self._add_event(Event("edit", chat_id, msg["message_id"], html_text, plain, _buttons(markup)))
        return msg

    async def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._bot_message(params)
        markup = _check_markup(params.get("reply_markup"))
        if msg.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        _set_markup(msg, markup)
        return msg

    async def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        qid = str(params.get("callback_query_id") or "")
        if qid not in self.callback_answers:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if self.callback_answers[qid]:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.get("text") or ""
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[qid] = {"text": text, "show_alert": _bool(params.get("show_alert"))}
        await self._wake(self._callback_chats.pop(qid, None))
        return True

    async def api_getfile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        stored = self.files.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        suffix = stored.file_name.rsplit(".", 1)[-1] if "." in stored.file_name else "bin"
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": len(stored.content),
                "file_path": f"documents/{file_id}.{suffix}"}  # fmt: skip

    # ---- state helpers -------------------------------------------------------------------------
    def _store_file(self, stored: StoredFile) -> str:
        file_id = f"F{next(self._file_ids):06d}"
        self.files[file_id] = stored
        return file_id

    def _document_dict(self, file_id: str) -> dict[str, Any]:
        stored = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_name": stored.file_name,
                "mime_type": stored.mime_type, "file_size": len(stored.content)}  # fmt: skip

    def _new_bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": next(self._msg_ids[chat_id]),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
        }
        for key, value in content.items():
            if key == "reply_markup":
                _set_markup(msg, value)
            elif value not in (None, ""):
                msg[key] = value
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    def _bot_message(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (_require_chat(params), _int(params.get("message_id")) or 0)
        msg = self.messages.get(key)
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return msg

    async def _add_event(self, event: Event) -> None:
        self.events[event.chat_id].append(event)
        await self._wake(event.chat_id)

    async def _wake(self, chat_id: int | None) -> None:
        waits = self._chat_waits.get(chat_id) if chat_id is not None else None
        if waits is not None:
            async with waits:
                waits.notify_all()

    # ---- the users' side -----------------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        full = {"update_id": update_id, **update}
        self.pushed[update_id] = full
        query = update.get("callback_query")
        presser = query.get("from") if isinstance(query, dict) else None
        if isinstance(presser, dict) and isinstance(presser.get("id"), int):  # a private chat is its person's id
            self._callback_chats[str(query.get("id"))] = presser["id"]  # type: ignore[union-attr]
        self._deliver(full)
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Sends an update again, as Telegram does when the bot did not confirm it (a crash, a timeout)."""
        self._deliver(self.pushed[update_id])

    def _deliver(self, full: dict[str, Any]) -> None:
        if self.webhook is not None and self.deliver_to:
            task = asyncio.get_running_loop().create_task(self._post(full))
            self._posting.add(task)
            task.add_done_callback(self._posting.discard)
        else:
            self.updates.append(full)
            self._new_update.set()

    async def _post(self, full: dict[str, Any], attempts: int = 50) -> None:
        """One update to the next process behind the load balancer; a failure is retried (elsewhere)."""
        assert self.webhook is not None
        if self._client is None:
            self._client = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook["secret"]} if self.webhook["secret"] else {}
        for _ in range(attempts):
            target = self.deliver_to[self._next_target % len(self.deliver_to)]
            self._next_target += 1
            self.webhook_posts += 1
            try:
                async with self._client.post(target, json=full, headers=headers,
                                             timeout=aiohttp.ClientTimeout(total=30)) as answer:  # fmt: skip
                    if answer.status == 200:
                        return
                    self.webhook_failures.append((full["update_id"], f"HTTP {answer.status}"))
            except (aiohttp.ClientError, TimeoutError) as err:
                self.webhook_failures.append((full["update_id"], type(err).__name__))
            await asyncio.sleep(0.2)

    def next_message_id(self, chat_id: int) -> int:
        return next(self._msg_ids[chat_id])

    def upload(self, content: bytes, file_name: str, mime_type: str | None) -> str:
        return self._store_file(StoredFile(content, file_name, mime_type))

    def document_dict(self, file_id: str) -> dict[str, Any]:
        return self._document_dict(file_id)

    def register_callback(self, query_id: str) -> None:
        self.callback_answers[query_id] = {}

    async def wait_events(
        self,
        chat_id: int,
        start: int,
        count: int,
        timeout: float = 10.0,
        callback_id: str | None = None,
        counts: Callable[[Event], bool] | None = None,
    ) -> list[Event]:
        """Waits until ``count`` events after index ``start`` (only those ``counts`` accepts, when given) and
        the callback answer, if any, arrived; returns every event after ``start``."""

        def ready() -> bool:
            if callback_id is not None and not self.callback_answers.get(callback_id):
                return False
            got = self.events[chat_id]
            if counts is None:
                return len(got) - start >= count
            return sum(1 for event in got[start:] if counts(event)) >= count

        waits = self._chat_waits.setdefault(chat_id, asyncio.Condition())
        async with waits:
            try:
                await asyncio.wait_for(waits.wait_for(ready), timeout)
            except TimeoutError:
                got = self.events[chat_id][start:]
                raise TimeoutError(
                    f"chat {chat_id}: expected {count} bot message(s), got {len(got)}: {[e.text[:80] for e in got]}"
                    + ("" if callback_id is None or self.callback_answers.get(callback_id) else "; callback unanswered")
                ) from None
        return self.events[chat_id][start:]


# ---- helpers -----------------------------------------------------------------------------------
def _error(err: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
    if err.retry_after is not None:
        body["parameters"] = {"retry_after": err.retry_after}
    return web.json_response(body, status=err.code)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(400, "Bad Request: can't parse JSON") from None
    return value


def _require_chat(params: dict[str, Any]) -> int:
    chat_id = _int(params.get("chat_id"))
    if chat_id is None:
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


def _check_text(text: Any, parse_mode: Any, limit: int = MAX_TEXT) -> tuple[str, str]:
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    plain = text
    if parse_mode in ("HTML", "html"):
        try:
            plain = parse_html(text)
        except EntityError as err:
            raise ApiError(400, f"Bad Request: {err}") from None
    elif parse_mode:
        raise ApiError(400, "Bad Request: unsupported parse_mode in the sandbox")
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > limit:
        raise ApiError(400, "Bad Request: message is too long")
    return text, plain


def _check_markup(raw: Any) -> dict[str, Any] | None:
    markup = _json(raw)
    if not markup:
        return None
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text", "")).strip():
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _set_markup(msg: dict[str, Any], markup: dict[str, Any] | None) -> None:
    if markup and markup.get("inline_keyboard"):
        msg["reply_markup"] = markup
    else:
        msg.pop("reply_markup", None)


def _buttons(markup: dict[str, Any] | None) -> list[list[tuple[str, str]]]:
    if not markup:
        return []
    return [[(b["text"], b.get("callback_data", "")) for b in row] for row in markup.get("inline_keyboard", [])]

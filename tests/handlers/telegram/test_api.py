"""The bot's own Bot API client over HTTP against the stand-in: what Telegram receives, and how failures
surface (Telegram's refusals by kind, timeouts, the network), and the streamed download's limit."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.errors import FileTooLarge
from bot.sandbox.botapi import BotApiServer
from handlers.telegram.api import (
    BadRequest,
    BotApi,
    Forbidden,
    RetryAfter,
    TimedOut,
    Transient,
    Unauthorized,
    Upload,
)
from handlers.telegram.output import keyboard


def make_api(server: BotApiServer, url: str | None = None, **kw: object) -> BotApi:
    return BotApi(server.token, url or server.url, 2, **kw)  # type: ignore[arg-type]


async def test_messages_keyboards_and_uploads_arrive_as_sent(server: BotApiServer, tmp_path: Path) -> None:
    async with make_api(server) as api:
        me = await api.call("getMe")
        assert me["is_bot"] and me["username"]
        sent = await api.call("sendMessage", {
            "chat_id": 42, "text": "<b>제목</b> &amp; 본문 😀 " + "가" * 3000, "parse_mode": "HTML",
            "reply_markup": keyboard([[("예 & 아니오", "c:q:y")]]),
        })  # fmt: skip
        assert sent["text"].startswith("제목 & 본문 😀")
        pdf = b"%PDF-1.4\n" + bytes(range(256)) * 400  # binary content, every byte value
        doc = await api.call("sendDocument", {
            "chat_id": 42, "document": Upload("발표 자료.pdf", pdf), "caption": "<i>첨부</i>", "parse_mode": "HTML",
        })  # fmt: skip
        assert doc["document"]["file_name"] == "발표 자료.pdf"
        found = await api.call("getFile", {"file_id": doc["document"]["file_id"]})
        size = await api.download(found["file_path"], tmp_path / "deck.pdf", len(pdf))
    [message, document] = server.events[42]
    assert message.buttons == [[("예 & 아니오", "c:q:y")]]
    assert message.html.startswith("<b>제목</b> &amp; 본문 😀")
    assert document.kind == "document" and document.text == "첨부"
    assert document.document is not None and document.document["mime_type"] == "application/pdf"
    assert size == len(pdf) and (tmp_path / "deck.pdf").read_bytes() == pdf


async def test_telegram_refusals_are_told_apart(server: BotApiServer) -> None:
    async with make_api(server) as api:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await api.call("sendMessage", {"chat_id": 42, "text": "<b>open", "parse_mode": "HTML"})
        server.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
        with pytest.raises(RetryAfter) as waited:
            await api.call("sendMessage", {"chat_id": 42, "text": "곧"})
        assert waited.value.retry_after == 7.0
        server.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
        with pytest.raises(Forbidden, match="blocked"):
            await api.call("sendMessage", {"chat_id": 42, "text": "차단"})
        server.fail_next("sendMessage", 502, "Bad Gateway")
        with pytest.raises(Transient, match="Bad Gateway"):
            await api.call("sendMessage", {"chat_id": 42, "text": "잠시"})
        assert (await api.call("sendMessage", {"chat_id": 42, "text": "다시"}))["text"] == "다시"
    async with BotApi("654321:WRONG", server.url, 1) as wrong:
        with pytest.raises(Unauthorized):
            await wrong.call("getMe")


async def test_a_stalled_answer_times_out(server: BotApiServer) -> None:
    server.fail_next("sendMessage", 200, "", delay=2.0)
    async with make_api(server, read_timeout=0.3) as api:
        with pytest.raises(TimedOut):
            await api.call("sendMessage", {"chat_id": 42, "text": "늦은 답"})
        # The pool is not poisoned by the timed-out call.
        assert (await api.call("sendMessage", {"chat_id": 42, "text": "다음 답"}))["text"] == "다음 답"


async def test_an_unreachable_server_is_a_network_error(server: BotApiServer) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with make_api(server, url=f"http://127.0.0.1:{port}") as api:
        with pytest.raises(Transient) as caught:
            await api.call("getMe")
        assert not isinstance(caught.value, TimedOut)


async def test_not_started_is_refused(server: BotApiServer) -> None:
    with pytest.raises(RuntimeError, match="not started"):
        await make_api(server).call("getMe")


async def test_calls_go_through_the_configured_proxy(server: BotApiServer) -> None:
    # The stand-in plays the proxy: the API host does not exist, so an answer can only come through it.
    async with make_api(server, url="http://api.telegram.invalid", proxy=server.url) as api:
        assert (await api.call("sendMessage", {"chat_id": 7, "text": "프록시"}))["text"] == "프록시"
    assert server.calls["sendMessage"] == 1


async def test_a_download_stops_at_the_limit(server: BotApiServer, tmp_path: Path) -> None:
    content = b"%PDF-1.4\n" + b"0" * 300_000
    file_id = server.upload(content, "big.pdf", "application/pdf")
    async with make_api(server) as api:
        found = await api.call("getFile", {"file_id": file_id})
        with pytest.raises(FileTooLarge):  # the declared length is over: refused before a byte is kept
            await api.download(found["file_path"], tmp_path / "a.part", 100_000)
        assert not (tmp_path / "a.part").exists()
        assert await api.download(found["file_path"], tmp_path / "b.part", len(content)) == len(content)
        server.fail_next("getFile", 400, "Bad Request: invalid file_id")
        with pytest.raises(BadRequest):
            await api.call("getFile", {"file_id": file_id})

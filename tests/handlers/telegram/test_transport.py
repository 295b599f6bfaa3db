"""The aiohttp client under python-telegram-bot's Bot: what Telegram receives, and how failures surface."""

from __future__ import annotations

import socket

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.sandbox.botapi import BotApiServer
from handlers.telegram.transport import AiohttpRequest


def make_bot(server: BotApiServer, request: AiohttpRequest | None = None, url: str | None = None) -> Bot:
    base = url or server.url
    return Bot(
        server.token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
        request=request or AiohttpRequest(2), get_updates_request=AiohttpRequest(1),
    )  # fmt: skip


async def test_messages_keyboards_and_uploads_arrive_as_sent(server: BotApiServer) -> None:
    async with make_bot(server) as bot:
        me = await bot.get_me()
        assert me.is_bot
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("예 & 아니오", callback_data="c:q:y")]])
        sent = await bot.send_message(
            42, "<b>제목</b> &amp; 본문 😀 " + "가" * 3000, parse_mode=ParseMode.HTML, reply_markup=markup
        )
        assert sent.text.startswith("제목 & 본문 😀")
        pdf = b"%PDF-1.4\n" + bytes(range(256)) * 400  # binary content, every byte value
        doc = await bot.send_document(42, pdf, filename="발표 자료.pdf", caption="<i>첨부</i>", parse_mode="HTML")
        assert doc.document is not None and doc.document.file_name == "발표 자료.pdf"
        downloaded = await (await bot.get_file(doc.document.file_id)).download_as_bytearray()
    [message, document] = server.events[42]
    assert message.buttons == [[("예 & 아니오", "c:q:y")]]
    assert message.html.startswith("<b>제목</b> &amp; 본문 😀")
    assert document.kind == "document" and document.text == "첨부"
    assert bytes(downloaded) == pdf


async def test_telegram_refusals_are_telegram_errors(server: BotApiServer) -> None:
    async with make_bot(server) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(42, "<b>open", parse_mode=ParseMode.HTML)


async def test_a_stalled_answer_times_out(server: BotApiServer) -> None:
    server.fail_next("sendMessage", 200, "", delay=2.0)
    async with make_bot(server, AiohttpRequest(1, read_timeout=0.3)) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(42, "늦은 답")
        # The pool is not poisoned by the timed-out call.
        assert (await bot.send_message(42, "다음 답")).text == "다음 답"


async def test_an_unreachable_server_is_a_network_error(server: BotApiServer) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{server.token}/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_not_initialized_is_refused(server: BotApiServer) -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest(1).do_request(f"{server.url}/bot{server.token}/getMe", "POST")


async def test_calls_go_through_the_configured_proxy(server: BotApiServer) -> None:
    # The stand-in plays the proxy: the API host does not exist, so an answer can only come through it.
    async with make_bot(server, AiohttpRequest(1, proxy=server.url), url="http://api.telegram.invalid") as bot:
        assert (await bot.send_message(7, "프록시")).text == "프록시"
    assert server.calls["sendMessage"] == 1

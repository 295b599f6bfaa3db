"""The stand-in refuses what Telegram refuses, so tests catch what Telegram would reject."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.sandbox.botapi import BotApiServer
from bot.sandbox.telegram_html import EntityError, parse_html


async def call(server: BotApiServer, method: str, **params: object) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{server.url}/bot{server.token}/{method}", data=params)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("params", "words"),
    [({"text": "x" * 4097}, "too long"),
     ({"text": "<b>open", "parse_mode": "HTML"}, "can't parse entities"),
     ({"text": "a < b", "parse_mode": "HTML"}, "can't parse entities"),
     ({"text": "<div>x</div>", "parse_mode": "HTML"}, "unsupported start tag"),
     ({"text": ""}, "text is empty"),
     ({"text": "ok", "reply_markup": json.dumps({"inline_keyboard": [[{"text": "b", "callback_data": "x" * 65}]]})},
      "BUTTON_DATA_INVALID")],
)  # fmt: skip
async def test_refusals(server: BotApiServer, params: dict[str, object], words: str) -> None:
    resp = await call(server, "sendMessage", chat_id=5, **params)
    assert resp.status_code == 400
    assert words in resp.json()["description"]


async def test_length_counts_visible_utf16_text(server: BotApiServer) -> None:
    ok = await call(server, "sendMessage", chat_id=5, text="<b>" + "가" * 4096 + "</b>", parse_mode="HTML")
    assert ok.status_code == 200
    emoji = await call(server, "sendMessage", chat_id=5, text="😀" * 2049)  # 4,098 UTF-16 units
    assert emoji.status_code == 400


async def test_unchanged_edit_is_refused(server: BotApiServer) -> None:
    sent = (await call(server, "sendMessage", chat_id=5, text="hello")).json()["result"]
    same = await call(server, "editMessageText", chat_id=5, message_id=sent["message_id"], text="hello")
    assert same.status_code == 400 and "not modified" in same.json()["description"]
    changed = await call(server, "editMessageText", chat_id=5, message_id=sent["message_id"], text="bye")
    assert changed.status_code == 200


async def test_injected_faults(server: BotApiServer) -> None:
    server.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    resp = await call(server, "sendMessage", chat_id=5, text="x")
    assert resp.status_code == 429 and resp.json()["parameters"] == {"retry_after": 3}
    assert (await call(server, "sendMessage", chat_id=5, text="x")).status_code == 200


async def test_files_round_trip(server: BotApiServer) -> None:
    file_id = server.upload(b"%PDF-1.4 body", "a.pdf", "application/pdf")
    info = (await call(server, "getFile", file_id=file_id)).json()["result"]
    async with httpx.AsyncClient() as client:
        body = await client.get(f"{server.url}/file/bot{server.token}/{info['file_path']}")
    assert body.content == b"%PDF-1.4 body"


def test_html_parser() -> None:
    assert parse_html('<a href="https://x.kr">x</a> &amp; &#44; <tg-spoiler>s</tg-spoiler>') == "x & , s"
    with pytest.raises(EntityError):
        parse_html("<b><i>x</b></i>")
    with pytest.raises(EntityError):
        parse_html("AT&T")

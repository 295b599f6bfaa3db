"""Hostile input over Telegram end to end (the real bot, over HTTP, against the stand-in Bot API): what
`tests/dialogue/test_hostile_input.py` shows on the engine holds through the channel too."""

from __future__ import annotations

import json
import re

import aiohttp
import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot.clock import ManualClock
from bot.models import AuditLog, Company, RoleGrant, User
from bot.runtime import Runtime
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.runner import free_port
from bot.settings import Settings
from tests.handlers.committee import ORGANIZER
from tests.handlers.flows import SAMPLE_PDF, fill_application, register_profile
from tests.harness import Harness
from tests.schema import migrated

INTERNAL = "일시적인 문제"


async def test_odd_text_files_and_buttons_are_refused_over_telegram(harness: Harness) -> None:
    first = harness.user(7301, "김\x00민준")  # a NUL even in the name Telegram reports
    await register_profile(first, brn="２２０－８１－６２５１７")
    with harness.session() as session:
        [company] = session.exec(select(Company)).all()
        assert company.brn == "2208162517"
        assert session.exec(select(User).where(User.external_id == "7301")).one().display_name == "김민준"
    await harness.user(7306, "박\u202e수현").send("/start")  # a right-to-left override in the name Telegram gives
    with harness.session() as session:
        assert session.exec(select(User).where(User.external_id == "7306")).one().display_name == "박수현"

    second = harness.user(7302)
    await second.send("/apply", expect=2)
    await second.press("동의합니다")
    [nul] = await second.send("다른\x00로보틱스")
    assert "저장할 수 없는 문자(NUL)" in nul.text and "기업명 (2/9)" in nul.text
    await second.send("다른로보틱스")
    [taken] = await second.send("٢٢٠-٨١-٦٢٥١٧")  # the same number in Arabic-Indic digits
    assert "이미 등록되어 있습니다" in taken.text
    [superscript] = await second.send("22081625¹⁷")
    assert "숫자 10자리" in superscript.text

    await fill_application(first, deck=False)
    [question] = await first.press("발표자료")
    assert "발표자료(PDF)" in question.text
    [refused] = await first.send_document(SAMPLE_PDF, "deck.exe", "application/pdf")
    assert "PDF 파일만" in refused.text
    [review] = await first.send_document(SAMPLE_PDF, "발표" * 200 + ".pdf", "application/pdf")
    assert "신청서 확인" in review.text and "발표발표" in review.text

    # A forged button whose id is beyond 2^63, and one whose version is a superscript.
    for data in ("e:apply:edit:99999999999999999999", "²:form:a:deck:x"):
        [answer] = await first.press_data(data, review.message_id)
        assert INTERNAL not in answer.text and answer.text, data


async def test_invitation_guesses_are_rate_limited_over_telegram(harness: Harness) -> None:
    [made] = await harness.user(ORGANIZER, "운영자").send("/invite reviewer")
    payload = re.search(r"start=(inv_[\w-]+)", made.text).group(1)  # type: ignore[union-attr]
    guesser = harness.user(7311)
    for n in range(5):
        [wrong] = await guesser.send(f"/start inv_guess{n}")
        assert "초대 링크를 확인할 수 없습니다" in wrong.text
    for n in range(10):
        [blocked] = await guesser.send(f"/start inv_guess{n}")
        assert "잘못된 초대 코드를 여러 번" in blocked.text and "10:10" in blocked.text
    [blocked] = await guesser.send(f"/start {payload}")
    assert "잘못된 초대 코드를 여러 번" in blocked.text
    with harness.session() as session:
        assert not session.exec(select(RoleGrant).where(RoleGrant.role == "reviewer")).all()
        actions = [r.action for r in session.exec(select(AuditLog)) if r.action.startswith("invitation_")]
        assert sorted(actions) == ["invitation_created", "invitation_guesses_refused"] + ["invitation_wrong"] * 5


async def test_nothing_is_answered_in_a_group_chat(harness: Harness) -> None:
    """A command sent in a group (or a button pressed there) would have shown the person's profile, phone and
    e-mail to the whole group: only a private chat with the bot is answered."""
    group = -100123456
    company = harness.user(7404, "최담당")
    await register_profile(company)
    person = {"id": 7404, "is_bot": False, "first_name": "최담당", "language_code": "ko"}
    chat = {"id": group, "type": "supergroup", "title": "업계 단톡방"}
    for n, command in enumerate(("/profile", "/mydata@pitchbot")):
        harness.server.push_update({"message": {
            "message_id": 900 + n, "date": 0, "chat": chat, "from": person, "text": command,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        }})  # fmt: skip
    harness.server.push_update({"callback_query": {
        "id": "q1", "from": person, "data": "e:menu:status", "message": {"message_id": 1, "chat": chat},
    }})  # fmt: skip
    # The same person's updates are taken in order: once the private answer is there, the group's were seen.
    [status] = await company.send("/status")
    assert "한빛로보틱스" in status.text
    assert harness.server.events[group] == []


async def test_a_webhook_body_past_the_parsers_depth_or_with_forged_types_is_refused_cleanly(
    settings: Settings, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A body nested 50,000 deep answered 500 with a RecursionError in the log (and Telegram retries a 500);
    a language sent as an object failed the turn and the person read the internal-error message."""
    server = BotApiServer()
    await server.start()
    port = free_port()
    webhook = settings.model_copy(update={
        "telegram_token": SecretStr(server.token), "telegram_api_url": server.url, "http_host": "127.0.0.1",
        "http_port": port, "telegram_webhook_url": "https://bot.example.kr/telegram/webhook",
        "telegram_webhook_secret": SecretStr("webhook-secret"),
    })  # fmt: skip
    runtime = Runtime(webhook, clock=clock, db=migrated(settings.database_url))
    await runtime.start(webhook=True)
    headers = {"X-Telegram-Bot-Api-Secret-Token": "webhook-secret", "Content-Type": "application/json"}
    forged = {"update_id": 5, "message": {"message_id": 1, "date": 0, "chat": {"id": 7405, "type": "private"},
              "from": {"id": 7405, "first_name": {"x": 1}, "language_code": {"x": 1}}, "text": "/start",
              "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}  # fmt: skip
    try:
        async with aiohttp.ClientSession() as client:
            for body, expected in ((b"[" * 50_000 + b"]" * 50_000, 400), (json.dumps(forged).encode(), 200)):
                url = f"http://127.0.0.1:{port}/telegram/webhook"
                async with client.post(url, data=body, headers=headers) as answer:
                    assert answer.status == expected
        [welcome] = server.events[7405]
        assert "2026년 12월 일정" in welcome.text and INTERNAL not in welcome.text
    finally:
        await runtime.stop()
        await server.stop()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"

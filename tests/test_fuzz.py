"""Fuzz: thousands of random updates across every conversation state. No unhandled exception, every
message answered, every button answered, every bot message valid for Telegram."""

from __future__ import annotations

import asyncio
import logging
import random
import string

import pytest

from bot.clock import ManualClock
from bot.models import Role
from bot.sandbox.users import SimUser
from bot.services import pledge, review, users
from bot.settings import Settings
from tests.handlers.committee import ORGANIZER, make_official, seed_selected
from tests.handlers.flows import SAMPLE_PDF
from tests.harness import Harness, running

UPDATES = 10_000
PEOPLE = 40
TEXTS = [
    "<b>bold</b> & <i>", "</b><script>alert(1)</script>", "&amp;&lt;&#x27;", "😀🇰🇷👩‍💻" * 50, "가" * 5000,
    "a" * 5000, "", " ", "220-81-62517", "010-1234-5678", "kim@example.kr", "서울 마포구 월드컵북로 400",
    "TRL 7", "7", "3", "중소기업", "대기업", "동의합니다", "14:00", "25:99", "20", "0", "-1", "None", "null",
    "{{ 7*7 }}", "{% raw %}", "\u0000\u200b\u202e", "/start inv_bogus", "/selection 9999-99", "/decisions 2026-11",
    "서약합니다", "서약하지 않습니다", "/reviewers 2026-11", "/reviewers 9999-99",
]  # fmt: skip
COMMANDS = [
    "/start", "/apply", "/status", "/profile", "/schedule", "/help", "/language", "/cancel", "/back", "/review",
    "/selection", "/invite reviewer", "/invite official 서울교통공사", "/programme", "/decisions", "/export",
    "/subscribe", "/unsubscribe", "/expo", "/broadcast", "/broadcasts", "/expo_edit", "/reviewers", "/nonsense",
]  # fmt: skip
FORGED = [
    "1:form:a:trl:99", "2:form:a:size:large", "3:form:t:tech_fields:zzz", "4:form:d:tech_fields", "5:form:sk:brn",
    "6:form:e:zzz", "7:form:ok", "8:form:x", "e:review:score:99999", "e:review:open:1", "e:review:conflict:1",
    "9:review:cy", "e:selection:place:1:in", "e:selection:place:1:zz", "10:selection:y", "e:selection:app:x",
    "e:decisions:open:1", "e:decisions:open:99999999999999999999", "e:programme:pub:2026-11",
    "e:programme:up:2026-11:1", "e:broadcast:stop:1", "e:apply:edit:1", "e:apply:wd:1", "11:apply:wdy",
    "e:menu:lang:xx", "e:menu:cmd:apply", "e:menu:cmd:nonsense", "e:apply:notify", "12:_:pg:999", "13:_:pg:-1",
    "c:trl:99", "rw:s:1:0:5", "x" * 64, "",
]  # fmt: skip


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(TEXTS) or "."
    alphabet = string.printable + "가나다라마바사<>&\"'😀"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300))).strip() or "?"


async def act(user: SimUser, rng: random.Random, harness: Harness) -> str:
    """One random update; waits for the bot's answer and says what was sent."""
    roll = rng.random()
    if roll < 0.30:
        buttons = [data for ev in user.events[-3:] for row in ev.buttons for _, data in row]
        if buttons:
            message_id = user.events[-1].message_id
            await user.press_data(rng.choice(buttons), message_id, expect=0)
            return "button"
    if roll < 0.40:
        message_id = user.events[-1].message_id if user.events else 1
        await user.press_data(rng.choice(FORGED), message_id, expect=0)
        return "forged"
    if roll < 0.55:
        await user.send(rng.choice(COMMANDS), expect=1)
    elif roll < 0.85:
        await user.send(random_text(rng), expect=1)
    elif roll < 0.90:
        await user.send_raw(1, sticker={"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1,
                                        "height": 1, "is_animated": False, "is_video": False})  # fmt: skip
    elif roll < 0.93:
        await user.send_raw(1, photo=[{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}])
    else:
        kind = rng.choice(["pdf", "docx", "big", "yaml"])
        content, name, mime = {
            "pdf": (SAMPLE_PDF, "deck.pdf", "application/pdf"),
            "docx": (b"PK\x03\x04", "deck.docx", "application/msword"),
            "big": (b"%PDF-" + b"0" * 10, "huge.pdf", "application/pdf"),
            "yaml": (b"name: [unclosed", "expo.yaml", "application/x-yaml"),
        }[kind]
        if kind == "big":
            file_id = harness.server.upload(content, name, mime)
            doc = {**harness.server.document_dict(file_id), "file_size": 50 * 1024 * 1024}
            await user.send_raw(1, document=doc)
        else:
            await user.send_document(content, name, mime, expect=1)
    return "message"


async def settle(user: SimUser) -> None:
    """Extra messages of the last answer arrive before the next update is sent."""
    while True:
        count = len(user.events)
        await asyncio.sleep(0.03)
        if len(user.events) == count:
            user.cursor = count
            return


async def person(harness: Harness, tg: int, lang: str, steps: int, seed: int) -> int:
    rng = random.Random(seed)
    user = harness.user(tg, f"fuzz{tg}", lang)
    for _ in range(steps):
        await act(user, rng, harness)
        await settle(user)
    return steps


@pytest.fixture
def fuzz_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"send_per_chat_interval": 0.0, "send_rate": 500.0})


async def test_fuzz_every_state(fuzz_settings: Settings, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    async with running(fuzz_settings, clock) as harness:
        # November's month is in its decisions; December's window is open: every role has something to do.
        seed_selected(harness, ["서울교통공사", "푸른도시여가국"], month="2026-11")
        reviewers = [9901, 9902, 9903]
        with harness.session() as session:
            for tg in reviewers:
                users.grant_role(session, "telegram", str(tg), Role.REVIEWER, harness.clock.now())
                if tg != reviewers[-1]:  # the last one is asked the conflict-of-interest pledge first
                    pledge.accept(session, users.ensure_user(session, "telegram", str(tg), harness.clock.now()),
                                  harness.clock.now())  # fmt: skip
            review.assign(session, "2026-11", harness.settings.model_copy(update={"reviewers_per_application": 0}),
                          harness.clock.now())  # fmt: skip
            session.commit()
        make_official(harness, 9904, "서울교통공사")
        make_official(harness, 9905, "푸른도시여가국")
        await harness.bot.tick()
        caplog.set_level(logging.ERROR)
        ids = [ORGANIZER, *reviewers, 9904, 9905, *list(range(9800, 9800 + PEOPLE - 6))]
        steps = UPDATES // len(ids)
        done = await asyncio.gather(*(
            person(harness, tg, "en" if i % 4 == 0 else "ko", steps, seed=i) for i, tg in enumerate(ids)
        ))  # fmt: skip
        assert sum(done) >= UPDATES - len(ids)
        await harness.bot.outbox_settled()

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()} {r.exc_info and r.exc_info[1]!r}" for r in errors[:5]]
    assert harness.server.refusals == [] or all("not modified" in d for _, d in harness.server.refusals), (
        harness.server.refusals[:5]
    )
    unanswered = [qid for qid, answer in harness.server.callback_answers.items() if not answer]
    assert unanswered == [], f"{len(unanswered)} buttons never answered"
    apologies = sum("일시적인 문제" in e.text or "went wrong" in e.text for evs in harness.server.events.values()
                    for e in evs)  # fmt: skip
    assert apologies == 0

"""Telegram redelivers an update it believes unconfirmed (after a crash or a timeout). Every update of a
whole registration and application is delivered twice, and buttons of earlier questions are pressed
again: the database ends as after a clean run, and no reply is ever sent twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlmodel import select

from bot.models import Application, AuditLog, Company, FormDraft
from bot.sandbox.botapi import Event
from bot.sandbox.users import SimUser
from tests.handlers.flows import SAMPLE_PDF, VALID_BRN
from tests.harness import Harness

Step = Callable[[SimUser], Awaitable[list[Event]]]
STEPS: list[tuple[str, Step]] = [
    ("start", lambda u: u.send("/start")),
    ("apply", lambda u: u.press("피칭데이 신청", expect=2)),
    ("consent", lambda u: u.press("동의합니다")),
    ("name", lambda u: u.send("한빛로보틱스")),
    ("brn", lambda u: u.send(VALID_BRN)),
    ("representative", lambda u: u.send("김민준")),
    ("size", lambda u: u.press("중소기업")),
    ("address", lambda u: u.send("서울 마포구 월드컵북로 400")),
    ("contact", lambda u: u.send("최담당")),
    ("phone", lambda u: u.send("010-2345-6789")),
    ("email", lambda u: u.send("choi@hanbit.kr")),
    ("save", lambda u: u.press("저장하기", expect=3)),
    ("product", lambda u: u.send("자율 순찰 로봇 HR-1")),
    ("robot", lambda u: u.press("로봇", expect=0)),
    ("ai", lambda u: u.press("인공지능", expect=0)),
    ("done", lambda u: u.press("선택 완료")),
    ("trl", lambda u: u.press("TRL 7")),
    ("summary", lambda u: u.send("공원과 지하철 역사를 야간에 자율 순찰하며 이상 상황을 알리는 로봇입니다.")),
    ("city_use", lambda u: u.send("공원녹지사업소 야간 순찰에 투입해 인력 부담을 줄입니다.")),
    ("departments", lambda u: u.send("서울교통공사, 푸른도시여가국")),
    ("departments_done", lambda u: u.press("선택 완료")),
    ("price", lambda u: u.send("대당 4,800만 원")),
    ("deck", lambda u: u.send_document(SAMPLE_PDF, "deck.pdf")),
    ("submit", lambda u: u.press("제출하기")),
]
# After these steps, a button of an earlier question is pressed again.
STALE_AFTER = {"representative": "동의합니다", "trl": "TRL 5", "price": "중소기업"}


def snapshot(harness: Harness) -> dict[str, object]:
    with harness.session() as session:
        company = session.exec(select(Company)).one()
        app = session.exec(select(Application)).one()
        return {
            "company": [getattr(company, f) for f in ("name", "brn", "representative", "size", "address",
                                                      "contact_name", "phone", "email")],
            "application": [getattr(app, f) for f in ("product_name", "tech_fields", "trl", "summary", "city_use",
                                                      "department_ids", "price", "deck_file_name", "status")],
            # The department list was loaded before the runs.
            "audit": [(a.action, a.entity) for a in session.exec(select(AuditLog).order_by(AuditLog.id))
                      if a.entity != "departments"],
            "drafts": len(session.exec(select(FormDraft)).all()),
        }  # fmt: skip


async def quiet(user: SimUser, seconds: float = 0.25) -> list[Event]:
    """What arrived after the last expected answer: nothing, when no reply is sent twice."""
    before = len(user.events)
    await asyncio.sleep(seconds)
    return user.events[before:]


async def test_a_clean_run_and_a_run_with_every_update_twice_end_the_same(harness: Harness) -> None:
    clean = harness.user(1301)
    for _, step in STEPS:
        await step(clean)
    expected = snapshot(harness)
    with harness.session() as session:  # the same company again, as a second applicant would not be
        for row in session.exec(select(AuditLog)):
            session.delete(row)
        session.delete(session.exec(select(Application)).one())
        session.delete(session.exec(select(Company)).one())

    twice = harness.user(1302)
    replies = 0
    for name, step in STEPS:
        answer = await step(twice)
        replies += len(answer)
        twice.server.redeliver(max(twice.server.pushed))  # the same update_id again
        assert await quiet(twice) == [], f"{name}: a redelivered update was answered"
        if name in STALE_AFTER:
            old = next(e for e in twice.events if any(STALE_AFTER[name] in b for b in e.button_texts()))
            [stale] = await twice.press(STALE_AFTER[name], event=old)
            assert "이전 화면의 버튼" in stale.text, (name, stale.text)
            twice.server.redeliver(max(twice.server.pushed))
            assert await quiet(twice) == [], f"{name}: a redelivered stale press was answered"
    after = snapshot(harness)
    assert after == expected
    assert harness.server.refusals == []  # no callback answered twice, nothing refused
    assert all(answer for answer in harness.server.callback_answers.values())  # every button answered

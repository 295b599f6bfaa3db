"""News, the expo and broadcasts: subscriptions, loading and showing the expo, broadcasts with progress,
cancellation, a restart in the middle and blocked recipients."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.clock import ManualClock
from bot.models import Broadcast, Outbox, Role, User
from bot.sandbox.botapi import Event
from bot.sandbox.users import SimUser
from bot.services import expo, users
from bot.settings import Settings
from scheduler.dispatcher import CLAIM_BATCH
from tests.handlers.committee import ORGANIZER, seed_applications
from tests.harness import KST, Harness, running

SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "expo-2019.yaml").read_text()


async def test_subscribe_and_unsubscribe(harness: Harness) -> None:
    citizen = harness.user(9501, "시민")
    [ok] = await citizen.send("/subscribe")
    assert "소식을 보내 드리겠습니다" in ok.text
    [again] = await citizen.send("/subscribe")
    assert "이미 소식을" in again.text
    seed_applications(harness, 1)  # company 8001 gets news without asking
    company = harness.user(8001, "기업1")
    [already] = await company.send("/subscribe")
    assert "이미 소식을" in already.text
    [stopped] = await company.send("/unsubscribe")
    assert "중단했습니다" in stopped.text and "결과 안내는 계속" in stopped.text
    [none] = await company.send("/unsubscribe")
    assert "받고 계시지 않습니다" in none.text
    from bot.services import audience

    with harness.session() as session:
        assert {u.external_id for u in audience.members(session, "subscribers", None)} == {"9501"}
        assert {u.external_id for u in audience.members(session, "companies", None)} == {"8001"}


async def test_expo_loaded_in_the_bot_and_shown_in_both_languages(harness: Harness) -> None:
    nobody = harness.user(9601, "Kim", language_code="en")
    [none] = await nobody.send("/expo")
    assert "No Testbed Expo is announced yet" in none.text
    organizer = harness.user(ORGANIZER, "운영자")
    [example, ask] = await organizer.send("/expo_edit", expect=2)
    # With no expo yet, the format by example (it named a file on the server, samples/expo-2019.yaml).
    assert example.kind == "document" and "형식 예시로 2019년 박람회 파일" in example.text
    assert "YAML 파일로" in ask.text and "앞서 보내 드린 예시 파일" in ask.text and "samples/" not in ask.text
    [wrong] = await organizer.send("여기 있습니다")
    assert "YAML 파일(.yaml" in wrong.text
    broken = SAMPLE.replace("kind: debate", "kind: party")
    [bad] = await organizer.send_document(broken.encode(), "expo.yaml", "application/x-yaml")
    assert "박람회 파일을 읽을 수 없습니다: programme의 6번째 항목: kind는 exhibition, consultations" in bad.text
    assert "고쳐서 다시 보내 주십시오" in bad.text and "must" not in bad.text
    # The refused file is not offered to keep (it was read once and removed: keeping it failed again).
    assert "현재 답변" not in bad.text and not any("현재 답변 유지" in label for row in bad.buttons for label, _ in row)
    [saved] = await organizer.send_document(SAMPLE.encode(), "expo.yaml", "application/x-yaml")
    assert "2019 테스트베드 서울 박람회" in saved.text and "2019년 9월 26일(목)" in saved.text
    assert not list((harness.settings.files_dir / "expo").glob("*.yaml"))  # kept in the database, not twice

    [show, calendar] = await nobody.send("/expo", expect=2)
    assert "Testbed Seoul Expo 2019" in show.text and "Seoul City Hall Plaza" in show.text
    assert (
        "Day 2 — Fri 27 September 2019" in show.text and "14:00–16:00 Innovation product pitching contest" in show.text
    )
    ics = harness.server.files[calendar.document["file_id"]].content.decode()  # type: ignore[index]
    assert ics.count("BEGIN:VEVENT") == 12 and "DTSTART:20190927T050000Z" in ics  # 14:00 KST
    korean = harness.user(9602, "김")
    [show, _] = await korean.send("/expo", expect=2)
    assert "2일차 — 2019년 9월 27일(금)" in show.text and "혁신제품 피칭대회 (피칭대회)" in show.text
    assert "구매 상담 예약" in show.text


async def test_an_organizer_whose_role_was_taken_away_meanwhile_cannot_replace_the_expo(harness: Harness) -> None:
    with harness.session() as session:
        users.grant_role(session, "telegram", "7777", Role.ORGANIZER, harness.clock.now())
    organizer = harness.user(7777, "임시운영자")
    [_, ask] = await organizer.send("/expo_edit", expect=2)
    assert "YAML 파일로" in ask.text
    with harness.session() as session:  # the form is open; the role goes
        users.revoke_role(session, "telegram", "7777", Role.ORGANIZER, harness.clock.now(), harness.settings)
    [refused] = await organizer.send_document(SAMPLE.encode(), "expo.yaml", "application/x-yaml")
    assert "권한이 없어" in refused.text
    with harness.session() as session:
        assert expo.current(session) is None


def test_expo_load_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    from bot.cli import app

    monkeypatch.setenv("PITCHBOT_DATABASE_URL", database_url)
    path = tmp_path / "expo.yaml"
    path.write_text(SAMPLE)
    ok = CliRunner().invoke(app, ["expo", "load", str(path)])
    assert ok.exit_code == 0 and "12 programme items" in ok.output
    path.write_text(SAMPLE.replace("dates: [2019-09-26, 2019-09-27]", "dates: soon"))
    bad = CliRunner().invoke(app, ["expo", "load", str(path)])
    assert bad.exit_code == 2 and "dates must be a list" in bad.output


def add_people(harness: Harness, first: int, count: int) -> list[int]:
    ids = list(range(first, first + count))
    now = harness.clock.now()
    with harness.session() as session:
        for tg in ids:
            person = users.ensure_user(session, "telegram", str(tg), now, display_name=f"p{tg}")
            users.subscribe(session, person, "news", now)
    return ids


async def broadcast(harness: Harness, text: str) -> int:
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/broadcast")
    await organizer.press("소식 구독자 전체")
    await organizer.press("직접 작성")
    [preview, confirm] = await organizer.send(text, expect=2)
    assert text.replace("&", "&") in preview.text and "테스트베드 서울 안내" in preview.text
    assert "명에게 보냅니다" in confirm.text
    [progress] = await organizer.press("보내기")
    assert "발송 준비 중" in progress.text  # planned by the dispatcher, not in the turn
    return progress.message_id


async def until(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def expo_preview(harness: Harness, expo_yaml: str) -> tuple[SimUser, Event, Event]:
    """The expo loaded, and an organizer's broadcast of it to the subscribers up to its preview."""
    from bot.services import expo

    with harness.session() as session:
        expo.load(session, expo_yaml, harness.clock.now())
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/broadcast")
    await organizer.press("소식 구독자 전체")
    [preview, confirm] = await organizer.press("박람회 안내", expect=2)
    return organizer, preview, confirm


def delivered(harness: Harness, ids: list[int]) -> Counter[int]:
    return Counter({tg: len(harness.server.events[tg]) for tg in ids if harness.server.events[tg]})


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"send_rate": 250.0, "send_per_chat_interval": 0.0, "send_concurrency": 8})


async def test_broadcast_to_thousands_at_the_configured_rate(fast: Settings, clock: ManualClock) -> None:
    async with running(fast, clock) as harness:
        ids = add_people(harness, 100000, 2000)
        blocked = ids[:3]
        for tg in blocked:
            harness.server.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=tg)
        started = time.monotonic()
        message_id = await broadcast(harness, "<테스트베드> 박람회 & 피칭데이 안내입니다.")
        await until(lambda: "완료" in harness.server.messages[(ORGANIZER, message_id)]["text"], 90)
        elapsed = time.monotonic() - started
        assert elapsed >= (len(ids) - 1) / fast.send_rate  # never faster than configured
        final = harness.server.messages[(ORGANIZER, message_id)]
        assert "발송: 1997" in final["text"] and "실패: 3" in final["text"] and "남음: 0" in final["text"]
        assert "reply_markup" not in final  # the stop button goes when it is done
        counts = delivered(harness, ids)
        assert len(counts) == 1997 and set(counts.values()) == {1}
        with harness.session() as session:
            inactive = session.exec(select(User.external_id).where(User.active == False)).all()  # noqa: E712
        assert sorted(inactive) == sorted(str(tg) for tg in blocked)


@pytest.fixture
def slow(settings: Settings) -> Settings:
    return settings.model_copy(update={"send_rate": 20.0, "send_per_chat_interval": 0.0, "send_concurrency": 2})


async def test_broadcast_cancelled_stops_the_rest(slow: Settings, clock: ManualClock) -> None:
    async with running(slow, clock) as harness:
        ids = add_people(harness, 200000, 3 * CLAIM_BATCH)
        message_id = await broadcast(harness, "곧 취소될 안내")
        await until(lambda: sum(delivered(harness, ids).values()) >= 20)
        organizer = harness.user(ORGANIZER)
        await organizer.press_data("e:broadcast:stop:1", message_id, expect=0)
        await until(lambda: "중지됨" in harness.server.messages[(ORGANIZER, message_id)]["text"])
        sent_at_stop = sum(delivered(harness, ids).values())

        def in_flight() -> int:
            with harness.session() as session:
                return len(session.exec(select(Outbox).where(Outbox.state == "sending")).all())

        await until(lambda: in_flight() == 0)  # the sends already under way finish and are recorded
        await asyncio.sleep(0.5)
        sent = sum(delivered(harness, ids).values())
        assert sent - sent_at_stop <= CLAIM_BATCH  # at most the batch already claimed finishes
        assert sent < len(ids)
        with harness.session() as session:
            states = Counter(r.state for r in session.exec(select(Outbox)).all())
        assert states["cancelled"] > 0 and states["sent"] == sent
        text = harness.server.messages[(ORGANIZER, message_id)]["text"]
        assert f"중지: {states['cancelled']}" in text


async def test_broadcast_survives_a_restart_without_second_copies(slow: Settings, clock: ManualClock) -> None:
    async with running(slow, clock) as harness:
        ids = add_people(harness, 300000, 120)
        message_id = await broadcast(harness, "재시작을 견디는 안내")
        await until(lambda: sum(delivered(harness, ids).values()) >= 30)
        await harness.restart_bot()
        await until(lambda: "완료" in harness.server.messages[(ORGANIZER, message_id)]["text"], 60)
        counts = delivered(harness, ids)
        assert set(counts) == set(ids) and set(counts.values()) == {1}
        organizer = harness.user(ORGANIZER)
        [history] = await organizer.send("/broadcasts")
        assert "#1" in history.text and "재시작을 견디는 안내" in history.text and "발송 120" in history.text
        with harness.session() as session:
            assert session.exec(select(Broadcast)).one().status == "done"


async def test_expo_announcement_and_refusals(harness: Harness) -> None:
    ids = add_people(harness, 400000, 3)
    organizer, preview, confirm = await expo_preview(harness, SAMPLE)
    assert "테스트베드 박람회 안내" in preview.text and "3명에게" in confirm.text
    # December 2026 and the 2019 expo: sent only on purpose, with its dates named.
    assert "이미 끝난 박람회입니다" in confirm.text
    assert "일정(2019년 9월 26일(목) ~ 2019년 9월 27일(금))이 지났습니다" in confirm.text
    assert confirm.button_texts() == ["⚠ 지난 박람회 발송", "✖ 취소"]
    await organizer.press("지난 박람회 발송")
    await harness.bot.outbox_settled()
    for tg in ids:
        [message] = harness.server.events[tg]
        assert "2019 테스트베드 서울 박람회" in message.text and "/unsubscribe" in message.text
    stranger = harness.user(9701)
    for command in ("/broadcast", "/broadcasts", "/expo_edit"):
        [answer] = await stranger.send(command)
        assert "권한이 없어" in answer.text, command
    [answer] = await stranger.press_data("e:broadcast:stop:1", 1)
    assert "권한이 없어" in answer.text


async def test_a_company_that_unsubscribed_gets_no_opening_notice_but_its_own_news(harness: Harness) -> None:
    from tests.scheduler.helpers import tick_and_send

    seed_applications(harness, 2)  # companies 8001 and 8002 applied in December
    quiet = harness.user(8001, "기업1")
    [stopped] = await quiet.send("/unsubscribe")
    assert "중단했습니다" in stopped.text

    def opening(tg: int) -> list[str]:
        return [e.text for e in harness.server.events[tg] if "신청 접수를 시작합니다" in e.text]

    await tick_and_send(harness, dt.datetime(2026, 12, 11, 0, 0, 1, tzinfo=KST))
    await harness.bot.outbox_settled()
    for tg in (8001, 8002):  # its own application: the receipt still comes
        assert [e for e in harness.server.events[tg] if "접수가 마감되었습니다" in e.text], tg
    await tick_and_send(harness, dt.datetime(2027, 1, 1, 9, 0, tzinfo=KST))
    await harness.bot.outbox_settled()
    assert len(opening(8002)) == 1 and "2027년 1월" in opening(8002)[0]
    assert opening(8001) == []

    # Asking for news again brings the notice back (after January's window: its notice is moot by then).
    harness.clock.set(dt.datetime(2027, 1, 11, 9, 0, tzinfo=KST))
    quiet.cursor = len(quiet.events)  # the receipt has been read: the next message is the answer
    [again] = await quiet.send("/subscribe")
    assert "소식을 보내 드리겠습니다" in again.text
    await tick_and_send(harness, dt.datetime(2027, 2, 1, 9, 0, tzinfo=KST))
    await harness.bot.outbox_settled()
    assert len(opening(8001)) == 1 and "2027년 2월" in opening(8001)[0]


async def test_an_expo_that_ends_before_the_send_is_refused_until_confirmed(harness: Harness) -> None:
    coming = SAMPLE.replace("2019-09-26, 2019-09-27", "2026-12-04, 2026-12-05")  # the clock reads 3 December
    ids = add_people(harness, 410000, 2)
    organizer, _, confirm = await expo_preview(harness, coming)
    assert "이미 끝난" not in confirm.text and confirm.button_texts() == ["📣 보내기", "✖ 취소"]

    harness.clock.set(dt.datetime(2026, 12, 6, 9, 0, tzinfo=KST))  # the organizer comes back after the expo
    [_, refused] = await organizer.press("📣 보내기", expect=2)
    assert "이미 끝난 박람회입니다" in refused.text and "2026년 12월 4일(금) ~ 2026년 12월 5일(토)" in refused.text
    assert "오늘 2026년 12월 6일(일)" in refused.text
    assert refused.button_texts() == ["⚠ 지난 박람회 발송", "✖ 취소"]
    with harness.session() as session:
        assert session.exec(select(Broadcast)).first() is None and not any(harness.server.events[i] for i in ids)
    await organizer.press("지난 박람회 발송")
    await harness.bot.outbox_settled()
    assert all(len(harness.server.events[i]) == 1 for i in ids)

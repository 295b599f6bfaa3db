from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.database import Database
from bot.models import Application, RoleGrant, User
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.users import SimUser
from tests.handlers.flows import fill_application, register_profile, submit

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> str:
    monkeypatch.setenv("PITCHBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("PITCHBOT_FILES_DIR", str(tmp_path / "files"))
    return database_url


def test_cycle_show_marks_holidays(env: str) -> None:
    result = runner.invoke(app, ["cycle", "show", "--month", "2023-09"])
    assert result.exit_code == 0, result.output
    assert "Pitching Day             2023-09-27 Wed 14:00" in result.output
    assert "last Friday 2023-09-29 is a holiday" in result.output


def test_cycle_set_stores_an_override(env: str) -> None:
    result = runner.invoke(app, ["cycle", "set", "--month", "2026-12", "--pitch", "2026-12-23T15:00"])
    assert result.exit_code == 0, result.output
    assert "2026-12-23 Wed 15:00  (set by an organizer)" in result.output
    assert "purchase decisions due   2027-01-07" in result.output
    again = runner.invoke(app, ["cycle", "show", "--month", "2026-12"])
    assert "2026-12-23 Wed 15:00" in again.output
    bad = runner.invoke(app, ["cycle", "set", "--month", "2026-12", "--selection", "2026-11-20T10:00"])
    assert bad.exit_code == 1 and "cycle_order" in bad.output


def test_grant(env: str) -> None:
    assert runner.invoke(app, ["grant", "reviewer", "4242"]).exit_code == 0
    assert runner.invoke(app, ["grant", "official", "4343"]).exit_code == 2  # needs a department
    ok = runner.invoke(app, ["grant", "official", "4343", "--department", "서울교통공사"])
    assert ok.exit_code == 0
    assert runner.invoke(app, ["grant", "king", "1"]).exit_code == 2
    db = Database(env)
    with db.session() as session:
        grants = {(session.get(User, g.user_id).external_id, g.role, g.department)  # type: ignore[union-attr]
                  for g in session.exec(select(RoleGrant)).all()}  # fmt: skip
    db.dispose()
    assert grants == {("4242", "reviewer", None), ("4343", "official", "서울교통공사")}


def test_run_without_a_token_says_what_to_do(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PITCHBOT_TELEGRAM_TOKEN", raising=False)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and "PITCHBOT_TELEGRAM_TOKEN" in result.output and "simulate" in result.output


def test_a_bad_setting_stops_with_one_line(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PITCHBOT_TIMEZONE", "Nowhere/Land")
    result = runner.invoke(app, ["cycle", "show"])
    assert result.exit_code == 2 and "PITCHBOT_TIMEZONE" in result.output


def test_simulate_shows_companies_registering(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PITCHBOT_FAKE_NOW", "2026-12-01T09:00+09:00")
    result = runner.invoke(app, ["simulate"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "김민준 (한빛로보틱스): /start" in out
    # Some people use KakaoTalk: typed words, quick replies, and the Event API for what the bot starts.
    assert "최미래 (미래센서) 💛: 신청" in out and "한팀장 (120다산콜재단) 💛: 구매결정" in out
    assert "접수번호: PD-202612-0001" in out
    assert "Receipt number: PD-202612-0002" in out
    assert "(the bot process restarts)" in out and "수정 내용을 저장했습니다" in out
    assert "중소기업을 위한 프로그램" in out and "신청 기간이 아닙니다" in out
    # The month's reminders, through the outbox.
    assert "⏰ tick: 1 message(s) planned and sent\n    📨 to 최미래 (미래센서) (KakaoTalk, Event API):" in out
    assert "2026년 12월 혁신제품 피칭데이 신청 접수를 시작합니다" in out
    assert "남은 항목: 기술 분야, 기술성숙도(TRL), 제품 요약" in out and "오늘 23:59에" in out
    assert out.count("접수하신 내용을 알려 드립니다") == 3 and "Here is what we received" in out
    assert "the same tick again: 0 new message(s)" in out
    # The committee at work, the organizer's selection, and the results on selection day.
    assert "심사위원(으)로 등록되셨습니다" in out and "심사를 요청드립니다" in out
    assert "• 혁신성: 5점" in out and "이해충돌 신고를 접수했습니다" in out and "아직 점수를 입력하지 않으신" in out
    assert "2026-12 선정 심의" in out and "결과는 2026년 12월 15일(화) 10:00에 발송됩니다" in out
    assert "results are held until selection day" in out
    assert "4 result message(s) planned and sent" in out
    assert out.count("발표 기업으로 선정되었습니다") == 2 and "number 1 on the waitlist" in out
    assert "심사위원회 의견: 시정 적용 범위를" in out
    # Pitching Day and the purchase decisions.
    assert "심사위원(으)로 등록" in out and "수요처 담당자(으)로 등록되셨습니다 (서울교통공사)" in out
    assert "1차 프로그램을 게시했습니다" in out and "📎 pitchday-2026-12.ics" in out and "📎 HR-1 소개.pdf" in out
    assert "피칭데이가 일주일 남았습니다" in out and "오늘은 피칭데이입니다" in out
    assert "• 결정: 구매" in out and "• 결정: 추가 검토" in out
    assert "결정되지 않은 건이 2건" in out and "결정 2 · 미결정 0 · 기한 초과 2" in out
    assert "📎 pitchday-2026-12.xlsx" in out
    # The expo, loaded in the bot and broadcast with live progress.
    assert "박람회 정보를 저장했습니다" in out and "소식 구독자 전체 7명에게 보냅니다" in out
    assert "공지 #1 — 완료" in out and "• 발송: 7" in out and "📨 to 정시민 (Telegram):" in out
    assert "Day 2 — Fri 27 September 2019" in out and "공지 발송 기록" in out
    assert "Applications received for 2026-12: 4" in out


async def test_pitchbot_run_against_a_bot_api_server(tmp_path: Path, database_url: str) -> None:
    """The real process: `pitchbot run` with PITCHBOT_TELEGRAM_API_URL and PITCHBOT_FAKE_NOW in a window."""
    server = BotApiServer()
    await server.start()
    env = {
        **os.environ,
        "PITCHBOT_TELEGRAM_TOKEN": server.token,
        "PITCHBOT_TELEGRAM_API_URL": server.url,
        "PITCHBOT_FAKE_NOW": "2026-12-03T10:00+09:00",
        "PITCHBOT_DATABASE_URL": database_url,
        "PITCHBOT_FILES_DIR": str(tmp_path / "files"),
        "PITCHBOT_POLL_TIMEOUT": "1",
    }
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, stdout=log, stderr=log)
    try:
        user = SimUser(server, 5001, "김민준", timeout=30)
        [welcome] = await user.send("/start")
        assert "2026년 12월 일정" in welcome.text and "지금 신청을 받고 있습니다" in welcome.text
        user.timeout = 10
        await register_profile(user)
        await fill_application(user)
        receipt = await submit(user)
        assert receipt == "PD-202612-0001"
        assert server.commands[""] and server.commands["en"]  # setMyCommands in both languages
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)
        await server.stop()
        log.close()
    output = (tmp_path / "run.log").read_text()
    assert "PITCHBOT_FAKE_NOW is set" in output
    db = Database(database_url)
    with db.session() as session:
        assert session.exec(select(Application)).one().receipt_no == "PD-202612-0001"
    db.dispose()


async def test_the_bot_process_ticks_at_the_next_due_time(tmp_path: Path, database_url: str) -> None:
    """JobQueue runs the tick when the next reminder falls due, and the in-process dispatcher sends it."""
    import datetime as dt

    from bot.models import Subscription
    from bot.services import users as user_service

    db = Database(database_url)
    db.upgrade()
    with db.session() as session:
        person = user_service.ensure_user(session, "telegram", "5101", dt.datetime.now(dt.UTC), display_name="구독자")
        user_service.subscribe(session, person, user_service.TOPIC_WINDOW_OPEN, dt.datetime.now(dt.UTC))
        assert session.exec(select(Subscription)).one()
    db.dispose()
    server = BotApiServer()
    await server.start()
    env = {
        **os.environ,
        "PITCHBOT_TELEGRAM_TOKEN": server.token,
        "PITCHBOT_TELEGRAM_API_URL": server.url,
        # Two seconds before the window opens and the announcement falls due (1 Dec 09:00).
        "PITCHBOT_FAKE_NOW": "2026-12-01T08:59:57+09:00",
        "PITCHBOT_DATABASE_URL": database_url,
        "PITCHBOT_FILES_DIR": str(tmp_path / "files"),
        "PITCHBOT_POLL_TIMEOUT": "1",
    }
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, stdout=log, stderr=log)
    try:
        [notice] = await server.wait_events(5101, 0, 1, timeout=30)
        assert "신청 접수를 시작합니다" in notice.text
        await asyncio.sleep(1.5)
        assert len(server.events[5101]) == 1  # and only once
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)
        await server.stop()
        log.close()

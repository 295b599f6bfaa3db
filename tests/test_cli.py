from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.database import Database
from bot.models import Application, AuditLog, Department, Expo, RoleGrant, User
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.runner import free_port
from bot.sandbox.users import SimUser
from tests.handlers.flows import fill_application, register_profile, submit
from tests.harness import seed_departments

runner = CliRunner()


def one_line(result: Result) -> str:
    """A refused command: exit code 2 and a single line for the organizer, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pitchbot: "), result.output
    return lines[0]


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
    bad = runner.invoke(app, ["cycle", "set", "--month", "2026-12", "--selection", "2026-12-09T10:00"])
    assert "--closes 2026-12-10 23:59 is not before --selection 2026-12-09 10:00" in one_line(bad)


SAMPLE_DEPARTMENTS = str(Path(__file__).resolve().parents[1] / "samples" / "departments.csv")


def load_departments() -> None:
    result = runner.invoke(app, ["departments", "load", SAMPLE_DEPARTMENTS])
    assert result.exit_code == 0, result.output


def test_grant(env: str) -> None:
    load_departments()
    assert runner.invoke(app, ["grant", "reviewer", "4242"]).exit_code == 0
    unknown = runner.invoke(app, ["grant", "official", "4343", "--department", "교통"])
    assert "no department '교통' in the list; did you mean 도시교통실, 서울교통공사?" in one_line(unknown)
    assert runner.invoke(app, ["grant", "official", "4343"]).exit_code == 2  # needs a department
    ok = runner.invoke(app, ["grant", "official", "4343", "--department", "서울교통공사"])
    assert ok.exit_code == 0
    assert runner.invoke(app, ["grant", "king", "1"]).exit_code == 2
    db = Database(env)
    with db.session() as session:
        names = {d.id: d.name for d in session.exec(select(Department))}
        grants = {(session.get(User, g.user_id).external_id, g.role, names.get(g.department_id))  # type: ignore[union-attr]
                  for g in session.exec(select(RoleGrant)).all()}  # fmt: skip
    db.dispose()
    assert grants == {("4242", "reviewer", None), ("4343", "official", "서울교통공사")}


def test_run_without_a_token_says_what_to_do(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PITCHBOT_TELEGRAM_TOKEN", raising=False)
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2 and "PITCHBOT_TELEGRAM_TOKEN" in result.output and "simulate" in result.output


EXPORT_USAGE = "pitchbot export --month YYYY-MM [--out FILE] [--lang ko|en]"


@pytest.mark.parametrize(
    ("args", "said"),
    [(["grant", "organizer"], "pitchbot: grant needs USER_ID. Usage: pitchbot grant ROLE USER_ID [--department NAME]"),
     (["export"], f"pitchbot: export needs --month YYYY-MM. Usage: {EXPORT_USAGE}"),
     (["export", "--mnth", "2026-12"],
      f"pitchbot: export has no option --mnth; did you mean --month? Usage: {EXPORT_USAGE}"),
     (["export", "--month"], "pitchbot: --month needs a value: YYYY-MM"),
     (["dispatch", "--once=3"], "pitchbot: --once is a switch; it takes no value"),
     (["grnt", "organizer", "1"], "pitchbot: no command 'grnt'; did you mean grant? Usage: pitchbot COMMAND (one of: "),
     (["cycle", "shw"], "pitchbot: cycle has no command 'shw'; did you mean show? Usage: pitchbot cycle COMMAND"),
     (["grant", "official", "4343", "서울", "교통공사"],
      "pitchbot: grant: too many words: '서울 교통공사' (put a value with spaces in quotes)"),
     (["departments", "load"], "pitchbot: departments load needs FILE. Usage: pitchbot departments load FILE")],
)  # fmt: skip
def test_usage_errors_are_one_plain_line_in_the_operators_words(env: str, args: list[str], said: str) -> None:
    """A wrong option or a missing argument: no box, no markup; what is wrong and the right usage, exit 2."""
    line = one_line(runner.invoke(app, args))
    assert line.startswith(said), line
    assert not set(line) & set("╭╮╰╯│─") and "[bold" not in line and "Try '" not in line


def test_a_usage_error_goes_to_stderr_from_the_real_command(env: str) -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "bot.cli", "export", "--lang", "en"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"pitchbot: export needs --month YYYY-MM. Usage: {EXPORT_USAGE}\n"


def test_a_bad_setting_stops_with_one_line(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PITCHBOT_TIMEZONE", "Nowhere/Land")
    result = runner.invoke(app, ["cycle", "show"])
    assert result.exit_code == 2 and "PITCHBOT_TIMEZONE" in result.output


def test_simulate_runs_any_month(env: str) -> None:
    """The sandbox pressed December 2026's receipt numbers: in any other month (so whenever ``scripts/run`` ran
    outside that month) it ended in a traceback."""
    result = runner.invoke(app, ["simulate", "--month", "2031-02"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "접수번호: PD-203102-0001" in out and "🤖 PD-203102-0001 — 자율 순찰 로봇 HR-1" in out
    assert "2031년 2월 선정 심의" in out and "Applications received for 2031-02: 4" in out


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
    assert "남은 필수 항목: 기술 분야, 기술성숙도(TRL), 제품 요약" in out and "오늘 23:59에" in out
    assert out.count("접수하신 내용을 알려 드립니다") == 3 and "Here is what we received" in out
    assert "the same tick again: 0 new message(s)" in out
    # The organizer's menu: its daily work on the first page, the rest a page turn away, edited in place.
    assert "[❓ 도움말] [다음 목록 ▶]" in out and "목록 2/3쪽" in out
    assert "🤖 (edited) 경제정책과님, 안녕하십니까" in out
    # The committee at work, the organizer's selection, and the results on selection day.
    assert "심사위원으로 등록되셨습니다" in out and "심사를 요청드립니다" in out
    assert out.count("이해충돌 방지 서약에 동의하셨습니다") == 2 and "심사를 시작하시기 전에" in out
    assert "심사위원 통계 — 2명" in out and "1. 김교수 (심사위원)" in out and "미완료" not in out
    assert "• 혁신성: 5점" in out and "이해충돌 신고를 접수했습니다" in out and "아직 점수를 입력하지 않으신" in out
    assert "2026년 12월 선정 심의" in out and "결과는 2026년 12월 15일(화) 10:00에 발송됩니다" in out
    assert "results are held until selection day" in out
    assert "4 result message(s) planned and sent" in out
    assert out.count("발표 기업으로 선정되었습니다") == 2 and "number 1 on the waitlist" in out
    assert "미선정 사유(심사위원회 종합의견)\n       시정 적용 범위를" in out and "• 순위 구간: 하위" in out
    assert "선정을 확정할 수 없습니다: PD-202612-0002, PD-202612-0004" in out  # reasons first
    # One appeal from filing to decision: typed in KakaoTalk, decided by an organizer who did not review it.
    assert "최미래 (미래센서) 💛: 이의신청" in out and "이의신청을 접수했습니다" in out and "새 이의신청" in out
    assert "이의신청 처리 결과: 기각" in out and "[⚖ Appeal]" in out
    # Pitching Day and the purchase decisions.
    assert "심사위원으로 등록" in out and "수요처 담당자로 등록되셨습니다 (서울교통공사)" in out
    assert "1차 프로그램을 게시했습니다" in out and "📎 pitchday-2026-12.ics" in out and "📎 HR-1 소개.pdf" in out
    # The department list: loaded, searched, picked from by typing, officials invited to its entries.
    assert "departments: 80 added, 0 changed, 0 unchanged; 80 in the list" in out
    assert "「교통」이 들어간 수요처 2곳입니다" in out and "선택하신 수요처: 서울교통공사, 푸른도시여가국" in out
    assert "수요처 담당자 초대를 만들었습니다 (120다산콜재단)" in out
    assert "⚠ 담당자가 없는 수요처: 푸른도시여가국, 시민소통기획관" in out  # at confirmation
    assert "담당 수요처: 서울교통공사, 서울시설공단" in out  # changed after the confirmation
    assert "⚠ 담당자가 없는 수요처: 서울시설공단, 시민소통기획관" in out  # at publication
    # Officials are told the day: the line-up with its date and an .ics, the week before and the eve.
    assert "• 일시: 2026년 12월 24일(목) 14:00–14:40" in out
    assert out.count("• 귀 부서 담당 기업: 한빛로보틱스(자율 순찰 로봇 HR-1)") == 2
    assert "피칭데이가 일주일 남았습니다" in out and "오늘은 피칭데이입니다" in out
    assert "• 결정: 구매" in out
    assert "결정되지 않은 건이 3건" in out and "결정 1 · 미결정 0 · 기한 초과 3" in out
    # A selected company gives up; the waitlisted one is promoted into its slot; overdue decisions explained.
    assert "선정 포기를 처리하시겠습니까?" in out and "선정을 취소(참가 포기)했습니다" in out
    assert "number 1 on the waitlist, now presents" in out and "참가를 포기하여" in out
    assert "• Your slot: Thu 24 December 2026 14:00–14:20 (presentation no. 1)" in out
    assert "did not arrive by the deadline" in out and "구매결정이 기한(2027년 1월 8일(금))까지 도착하지" in out
    assert "서울시설공단: 미결정 — 기한이 지나" in out
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
        "PITCHBOT_SANDBOX_UNASKED": "true",  # a reminder is never taken for an answer
    }
    db = Database(database_url)
    db.upgrade()
    seed_departments(db, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))  # organizers load the list first
    db.dispose()
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
        "PITCHBOT_SANDBOX_UNASKED": "true",
    }
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, stdout=log, stderr=log)
    try:
        [notice] = await server.wait_events(5101, 0, 1, timeout=30)
        assert "신청 접수를 시작합니다" in notice.text
        assert notice.unasked  # the outbox's call, marked for the stand-in as the sandbox asked
        await asyncio.sleep(1.5)
        assert len(server.events[5101]) == 1  # and only once
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)
        await server.stop()
        log.close()


# ---- bad input: one line, exit code 2 ------------------------------------------------------------


def test_cycle_set_refuses_dates_outside_the_month_and_out_of_order(env: str) -> None:
    def cycle_set(*args: str) -> Result:
        return runner.invoke(app, ["cycle", "set", "--month", "2026-12", *args])

    line = one_line(cycle_set("--opens", "2026-11-30T09:00", "--selection", "2027-01-04 10:00"))
    assert "--opens 2026-11-30 09:00, --selection 2027-01-04 10:00: not in 2026-12" in line
    line = one_line(cycle_set("--pitch", "2026-12-14T10:00"))
    assert "--selection 2026-12-15 10:00 is not before --pitch 2026-12-14 10:00" in line
    line = one_line(cycle_set("--deadline", "2026-12-20T18:00"))
    assert "--pitch 2026-12-24 14:00 is not before --deadline 2026-12-20 18:00" in line
    assert "2026-02-30" in one_line(cycle_set("--pitch", "2026-02-30T14:00"))
    # The deadline may fall in the next month (15 days after Pitching Day), and nothing refused was kept.
    assert cycle_set("--deadline", "2027-01-05T18:00").exit_code == 0
    shown = runner.invoke(app, ["cycle", "show", "--month", "2026-12"]).output
    assert "applications open        2026-12-01 Tue 00:00\n" in shown and "Pitching Day             2026-12-24" in shown
    assert "purchase decisions due   2027-01-05 Tue 18:00  (set by an organizer)" in shown


def test_grant_refuses_id_0_and_a_blank_department(env: str) -> None:
    assert "a number above 0" in one_line(runner.invoke(app, ["grant", "reviewer", "0"]))
    assert "a number above 0" in one_line(runner.invoke(app, ["grant", "reviewer", "telegram:0"]))
    blank = runner.invoke(app, ["grant", "official", "4343", "--department", "  "])
    assert "--department is blank" in one_line(blank)
    db = Database(env)
    db.upgrade()
    with db.session() as session:
        assert session.exec(select(RoleGrant)).all() == [] and session.exec(select(User)).all() == []
    db.dispose()


def test_revoke_takes_back_what_grant_gave(env: str) -> None:
    load_departments()
    assert runner.invoke(app, ["grant", "reviewer", "4242"]).exit_code == 0
    assert runner.invoke(app, ["grant", "official", "kakao:Ab9", "--department", "서울교통공사"]).exit_code == 0
    assert "has no organizer role granted" in one_line(runner.invoke(app, ["revoke", "organizer", "4242"]))
    assert "has no reviewer role" in one_line(runner.invoke(app, ["revoke", "reviewer", "5555"]))
    wrong = runner.invoke(app, ["revoke", "official", "kakao:Ab9", "--department", "120다산콜재단"])
    assert "is official for 서울교통공사, not 120다산콜재단" in one_line(wrong)
    assert "unknown role 'king'" in one_line(runner.invoke(app, ["revoke", "king", "4242"]))
    assert "a number above 0" in one_line(runner.invoke(app, ["revoke", "reviewer", "0"]))
    done = runner.invoke(app, ["revoke", "official", "kakao:Ab9", "--department", "서울교통공사"])
    assert done.exit_code == 0 and "revoked official from kakao user Ab9 (서울교통공사)" in done.output
    assert runner.invoke(app, ["revoke", "reviewer", "04242"]).exit_code == 0  # the same person as 4242
    assert "has no reviewer role" in one_line(runner.invoke(app, ["revoke", "reviewer", "4242"]))
    db = Database(env)
    with db.session() as session:
        assert session.exec(select(RoleGrant)).all() == []
        log = session.exec(select(AuditLog).where(AuditLog.action == "revoke_role").order_by(col(AuditLog.id))).all()
        metro = session.exec(select(Department).where(Department.name == "서울교통공사")).one().id
    db.dispose()
    assert [(e.entity, e.data) for e in log] == [
        ("user", {"role": "official", "department_id": metro, "department": "서울교통공사"}),
        ("user", {"role": "reviewer", "department_id": None, "department": None}),
    ]


def test_departments_load_is_idempotent_and_list_shows_the_entries(env: str, tmp_path: Path) -> None:
    first = runner.invoke(app, ["departments", "load", SAMPLE_DEPARTMENTS])
    assert first.exit_code == 0 and "departments: 80 added, 0 changed, 0 unchanged; 80 in the list" in first.output
    again = runner.invoke(app, ["departments", "load", SAMPLE_DEPARTMENTS])
    assert again.exit_code == 0 and "0 added, 0 changed, 80 unchanged; 80 in the list" in again.output
    # A YAML file: a name alone, or with its kind (in Korean words too) and whether it is active.
    yaml_file = tmp_path / "more.yaml"
    yaml_file.write_text(
        "departments:\n  - 서울교통공사\n  - {name: 120다산콜재단, kind: 투자출연기관, active: no}\n"
        "  - {name: 서울 시 립 과학관, kind: 사업소}\n",
        encoding="utf-8",
    )
    loaded = runner.invoke(app, ["departments", "load", str(yaml_file)])
    assert "1 added, 1 changed, 1 unchanged; 81 in the list" in loaded.output, loaded.output
    listed = runner.invoke(app, ["departments", "list"])
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert any("agency" in line and "서울교통공사" in line for line in lines)  # no kind given: kept
    assert any("office" in line and "서울 시 립 과학관" in line for line in lines)
    assert not any("120다산콜재단" in line for line in lines)  # inactive: listed with --all only
    everything = runner.invoke(app, ["departments", "list", "--all"]).output
    assert "120다산콜재단  [officials: 0]  (inactive)" in everything
    db = Database(env)
    with db.session() as session:
        assert len(session.exec(select(Department)).all()) == 81
    db.dispose()


def test_departments_load_refuses_a_bad_file_with_one_line_per_row(env: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,active\n서울교통공사,agency,yes\n,agency,yes\n기후환경본부,ministry,yes\n"
                   "서울 교통공사,agency,maybe\n", encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["departments", "load", str(bad)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"pitchbot: {bad}: line 3: no name",
        f"pitchbot: {bad}: line 4: unknown kind 'ministry' (use one of bureau, office, agency, district, education, "
        "other, or 본청 실·국, 사업소, 투자출연기관, 자치구, 교육청, 기타)",
        f"pitchbot: {bad}: line 5: active must be yes or no, not 'maybe'",
        f"pitchbot: {bad}: line 5: '서울 교통공사' is already on line 2",
    ]
    listed = runner.invoke(app, ["departments", "list"])
    assert "no departments" in listed.output  # nothing of a bad file is loaded
    broken = tmp_path / "broken.yaml"
    broken.write_text("departments: [서울교통공사\n", encoding="utf-8")
    assert "not YAML" in one_line(runner.invoke(app, ["departments", "load", str(broken)]))
    assert "cannot read" in one_line(runner.invoke(app, ["departments", "load", str(tmp_path / "none.csv")]))
    # A PDF saved as text loaded "%PDF-1.4" as a department.
    deck = tmp_path / "deck.csv"
    deck.write_text("%PDF-1.4\n% slide\n%%EOF\n", encoding="utf-8")
    assert "not a CSV or YAML file" in one_line(runner.invoke(app, ["departments", "load", str(deck)]))
    assert "no departments" in runner.invoke(app, ["departments", "list"]).output


def test_departments_load_reads_a_spreadsheets_tab_or_semicolon_file(env: str, tmp_path: Path) -> None:
    """Excel saves with tabs or, in some locales, semicolons: the header became a department "name kind active"
    and each row one named "중구 district no", offered to companies."""
    for name, sep in (("list.tsv", "\t"), ("list.csv", ";")):
        listed = tmp_path / name
        listed.write_text(sep.join(("name", "kind", "active")) + "\n" + sep.join(("중구", "district", "yes")) + "\n"
                          + sep.join(("서울교통공사", "agency", "yes")) + "\n", encoding="utf-8")  # fmt: skip
        loaded = runner.invoke(app, ["departments", "load", str(listed)])
        assert loaded.exit_code == 0, loaded.output
    shown = runner.invoke(app, ["departments", "list"]).output
    assert "서울교통공사" in shown and "중구" in shown and "active" not in shown and "district no" not in shown


def test_export_refuses_an_unknown_language_and_a_bad_out(env: str, tmp_path: Path) -> None:
    def export(*args: str) -> Result:
        return runner.invoke(app, ["export", "--month", "2026-12", *args])

    assert "--lang fr: choose ko or en" in one_line(export("--lang", "fr", "--out", str(tmp_path / "a.xlsx")))
    assert f"--out {tmp_path} is a folder" in one_line(export("--out", str(tmp_path)))
    assert "--out is empty" in one_line(export("--out", ""))  # it wrote into the current folder
    missing = tmp_path / "nowhere" / "a.xlsx"
    assert f"the folder {missing.parent} does not exist" in one_line(export("--out", str(missing)))
    assert not (tmp_path / "a.xlsx").exists() and not missing.parent.exists()
    ok = export("--lang", "en", "--out", str(tmp_path / "a.xlsx"))
    assert ok.exit_code == 0 and (tmp_path / "a.xlsx").stat().st_size > 0


def test_expo_load_refuses_an_impossible_date_and_a_cp949_file(env: str, tmp_path: Path) -> None:
    sample = (Path(__file__).parent.parent / "samples" / "expo-2019.yaml").read_text(encoding="utf-8")
    impossible = tmp_path / "impossible.yaml"
    impossible.write_text(sample.replace("2019-09-27", "2019-09-31"), encoding="utf-8")
    assert "a date that does not exist" in one_line(runner.invoke(app, ["expo", "load", str(impossible)]))
    korean = tmp_path / "cp949.yaml"
    korean.write_bytes(sample.encode("cp949", errors="replace"))
    assert "is not UTF-8 text" in one_line(runner.invoke(app, ["expo", "load", str(korean)]))
    assert "cannot read" in one_line(runner.invoke(app, ["expo", "load", str(tmp_path)]))
    db = Database(env)
    db.upgrade()
    with db.session() as session:
        assert session.exec(select(Expo)).all() == []
    db.dispose()


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [("PITCHBOT_SCORE_WEIGHTS", "nope", "PITCHBOT_SCORE_WEIGHTS is invalid: must be four numbers"),
     ("PITCHBOT_SCORE_WEIGHTS", "0,0,0,0", "PITCHBOT_SCORE_WEIGHTS is invalid: must be four numbers of at least 0"),
     ("PITCHBOT_DATABASE_URL", "nope://x", "PITCHBOT_DATABASE_URL is invalid"),
     ("PITCHBOT_DATABASE_URL", "pitchbot.db", "PITCHBOT_DATABASE_URL is invalid"),
     ("PITCHBOT_TELEGRAM_RETRY_SECONDS", "-1", "PITCHBOT_TELEGRAM_RETRY_SECONDS is invalid")],
)  # fmt: skip
def test_a_bad_setting_is_one_line_for_every_command(
    env: str, monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    for command in (["cycle", "show"], ["grant", "reviewer", "4242"], ["export", "--month", "2026-12"]):
        assert words in one_line(runner.invoke(app, command))


def test_a_database_that_cannot_be_opened_is_one_line(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nobody listens on port 1; the password is not shown.
    monkeypatch.setenv("PITCHBOT_DATABASE_URL", "postgresql://pitch:s3cret@127.0.0.1:1/pitch")
    for command in (["db", "upgrade"], ["cycle", "show"], ["grant", "reviewer", "4242"], ["tick"]):
        line = one_line(runner.invoke(app, command))
        assert "cannot open the database postgresql+psycopg2://pitch:***@127.0.0.1:1/pitch" in line
        assert "s3cret" not in line
    # A SQLite file in a folder that cannot be written: its migration lock raised a traceback.
    monkeypatch.setenv("PITCHBOT_DATABASE_URL", "sqlite:////proc/pitchbot.db")
    for command in (["db", "upgrade"], ["cycle", "show"]):
        assert "cannot open the database sqlite:////proc/pitchbot.db" in one_line(runner.invoke(app, command))


async def test_a_malformed_token_is_refused_before_any_network_call(env: str, server: BotApiServer) -> None:
    for token in ("nope", "123456", ":abc", "123456:has space", "abc:123"):
        result = await asyncio.to_thread(
            runner.invoke, app, ["run"],
            env={"PITCHBOT_TELEGRAM_TOKEN": token, "PITCHBOT_TELEGRAM_API_URL": server.url},
        )  # fmt: skip
        line = one_line(result)
        assert "PITCHBOT_TELEGRAM_TOKEN is invalid: is not a bot token from @BotFather" in line
        assert token not in line
    assert dict(server.calls) == {}


def _bot_env(tmp_path: Path, database_url: str, token: str, api_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PITCHBOT_TELEGRAM_TOKEN": token,
        "PITCHBOT_TELEGRAM_API_URL": api_url,
        "PITCHBOT_FAKE_NOW": "2026-12-03T10:00+09:00",
        "PITCHBOT_DATABASE_URL": database_url,
        "PITCHBOT_FILES_DIR": str(tmp_path / "files"),
        "PITCHBOT_POLL_TIMEOUT": "1",
        # Short, so the test sees several attempts; the cap keeps the wait after the server comes up short.
        "PITCHBOT_TELEGRAM_RETRY_SECONDS": "0.2",
        "PITCHBOT_TELEGRAM_RETRY_MAX_SECONDS": "0.8",
    }


async def _start_bot(env: dict[str, str], log_path: Path, command: str = "run") -> asyncio.subprocess.Process:
    log = open(log_path, "wb")  # noqa: SIM115
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", command, env=env, stdout=log, stderr=log
        )
    finally:
        log.close()


async def _wait_for(path: Path, words: str, count: int = 1, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace")
        if text.count(words) >= count:
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{words!r} x{count} not in the log:\n{path.read_text(errors='replace')}")


@pytest.mark.parametrize("command", ["run", "dispatch"])
async def test_a_token_the_bot_api_refuses_stops_the_bot_with_one_line(
    tmp_path: Path, database_url: str, command: str
) -> None:
    server = BotApiServer(token="123456:RIGHT")
    await server.start()
    env = _bot_env(tmp_path, database_url, "123456:WRONGTOKEN", server.url)
    try:
        proc = await _start_bot(env, tmp_path / "run.log", command)
        code = await asyncio.wait_for(proc.wait(), 30)
    finally:
        await server.stop()
    output = (tmp_path / "run.log").read_text()
    assert code == 2, output
    assert output.strip().splitlines()[-1] == (
        f"pitchbot: the Bot API at {server.url} refused PITCHBOT_TELEGRAM_TOKEN (unauthorized); "
        "check the token @BotFather gave"
    )
    assert "Traceback" not in output and "WRONGTOKEN" not in output


async def test_an_unreachable_bot_api_is_retried_until_it_comes_up(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    server = BotApiServer()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "run.log"
    proc = await _start_bot(_bot_env(tmp_path, database_url, server.token, url), log_path)
    try:
        await _wait_for(log_path, "not reachable (attempt 1:")
        await asyncio.sleep(2.5)
        assert proc.returncode is None, log_path.read_text()  # still trying after more than 2 s
        waited = log_path.read_text()
        attempts = [line for line in waited.splitlines() if f"Bot API at {url} not reachable" in line]
        assert len(attempts) >= 4, waited
        # The waits double up to the cap: 0.2, 0.4, 0.8, 0.8...
        assert "trying again in 0.2 s" in attempts[0] and "trying again in 0.4 s" in attempts[1]
        assert all("trying again in 0.8 s" in line for line in attempts[2:])
        await server.start(port=port)
        await _wait_for(log_path, "reached on attempt")
        [welcome] = await SimUser(server, 5001, "김민준", timeout=30).send("/start")
        assert "2026년 12월 일정" in welcome.text
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
        await server.stop()
    output = log_path.read_text()
    assert code == 0 and "Traceback" not in output, output


@pytest.mark.parametrize(
    ("command", "sig"), [("run", signal.SIGINT), ("run", signal.SIGTERM), ("dispatch", signal.SIGTERM)]
)
async def test_a_signal_stops_the_bot_while_it_retries(
    tmp_path: Path, database_url: str, command: str, sig: int
) -> None:
    log_path = tmp_path / "run.log"
    env = _bot_env(tmp_path, database_url, "123456:SANDBOX", f"http://127.0.0.1:{free_port()}")
    env["PITCHBOT_TELEGRAM_RETRY_SECONDS"] = "30"  # the stop must not wait for the next attempt
    proc = await _start_bot(env, log_path, command)
    try:
        await _wait_for(log_path, "trying again in 30.0 s")
        started = time.monotonic()
        proc.send_signal(sig)
        code = await asyncio.wait_for(proc.wait(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    output = log_path.read_text()
    assert code == 0 and time.monotonic() - started < 5, output
    assert "Traceback" not in output and output.count("not reachable") == 1, output


def test_reviewers_prints_what_organizers_see_in_the_bot(env: str) -> None:
    import datetime as dt
    from types import SimpleNamespace

    from bot.clock import ManualClock
    from bot.models import Review, Role
    from bot.services import review, users
    from bot.settings import load_settings
    from tests.handlers.committee import seed_applications

    db = Database(env)
    db.upgrade()
    clock = ManualClock(dt.datetime(2026, 12, 11, 9, 0, tzinfo=dt.UTC))
    seed_applications(SimpleNamespace(session=db.session, clock=clock), 2)  # type: ignore[arg-type]
    with db.session() as session:
        for tg, name in ((4601, "김교수"), (4602, "Dr. Lee")):
            users.ensure_user(session, "telegram", str(tg), clock.now(), display_name=name)
            users.grant_role(session, "telegram", str(tg), Role.REVIEWER, clock.now())
        review.assign(session, "2026-12", load_settings(), clock.now())
        for row in session.exec(select(Review)).all():
            row.innovation = row.safety = row.applicability = row.economy = 3 + (row.id or 0) % 2
            row.completed_at = clock.now()
            session.add(row)
        session.commit()
    db.dispose()
    result = runner.invoke(app, ["reviewers", "--month", "2026-12", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Reviewers, December 2026 — 2" in result.output and "<b>" not in result.output
    assert "1. 김교수\n• assigned 2 · scored 2" in result.output and "2. Dr. Lee" in result.output
    assert result.output.count("3 d 5 h early") == 2  # the 11th 18:00 in Seoul; the deadline, the 14th 23:59
    korean = runner.invoke(app, ["reviewers", "--month", "2026-12"])
    assert "2026년 12월 심사위원 통계 — 2명" in korean.output
    french = runner.invoke(app, ["reviewers", "--month", "2026-12", "--lang", "fr"])
    assert "--lang fr: choose ko or en" in one_line(french)
    assert "pitchbot: " in one_line(runner.invoke(app, ["reviewers", "--month", "2026-13"]))


def test_the_tick_command_leaves_the_calendar_to_a_process_that_ticks_it(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cron's tick beside a bot that ticks: one line, nothing done, exit 0 (two ticks at once would both plan
    the same work, and the second failed with a traceback); once the lock is free it ticks."""
    from bot.context import AppContext
    from bot.settings import Settings
    from scheduler.ticker import Ticker

    monkeypatch.setenv("PITCHBOT_FAKE_NOW", "2026-12-11T09:00+09:00")
    runner.invoke(app, ["db", "upgrade"])
    bot = Ticker(AppContext.create(Settings(database_url=env)))
    assert bot.holds_lock()
    try:
        left = runner.invoke(app, ["tick", "--now", "2026-12-11T09:00"])
        assert left.exit_code == 0 and "another process ticks the calendar" in left.output, left.output
        assert "planned" not in left.output
    finally:
        bot.release()
    done = runner.invoke(app, ["tick", "--now", "2026-12-11T09:00"])
    assert done.exit_code == 0 and "planned" in done.output and "another" not in done.output, done.output


def test_a_tick_far_from_the_clock_is_refused(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A year's typo in ``--now`` ran the tick as of then: the retention purge erased every company's
    contacts and held results went out. More than an hour from the clock, either way, is refused."""
    from types import SimpleNamespace

    from bot.models import Company
    from tests.handlers.committee import seed_applications

    monkeypatch.setenv("PITCHBOT_FAKE_NOW", "2026-12-11T09:00+09:00")
    runner.invoke(app, ["db", "upgrade"])
    db = Database(env)
    seed_applications(SimpleNamespace(session=db.session), 1)  # type: ignore[arg-type]
    for typo in ("2036-12-11T09:00", "2025-12-11T09:00", "2026-12-11T10:30"):
        refused = runner.invoke(app, ["tick", "--now", typo])
        assert refused.exit_code == 2 and "more than an hour from the clock" in refused.output, refused.output
    with db.session() as session:
        assert {c.email for c in session.exec(select(Company))} == {"a@b.kr"}
    near = runner.invoke(app, ["tick", "--now", "2026-12-11T09:30"])
    assert near.exit_code == 0 and "planned" in near.output, near.output

"""Shared pieces of the benchmarks: a bot process against the stand-in server, and its memory."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.sandbox.botapi import BotApiServer

ROOT = Path(__file__).resolve().parents[1]


async def start_process(args: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    out = open(log, "ab")  # noqa: SIM115
    return await asyncio.create_subprocess_exec(sys.executable, *args, env={**os.environ, **env}, stdout=out,
                                                stderr=out, cwd=ROOT)  # fmt: skip


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def bot_env(server: BotApiServer, database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        "PITCHBOT_TELEGRAM_TOKEN": server.token, "PITCHBOT_TELEGRAM_API_URL": server.url,
        "PITCHBOT_DATABASE_URL": database_url, "PITCHBOT_FILES_DIR": str(workdir / "files"),
        "PITCHBOT_FAKE_NOW": "2026-12-03T10:00+09:00", "PITCHBOT_POLL_TIMEOUT": "1", "PTB_TIMEDELTA": "1",
        "PITCHBOT_RUN_SCHEDULER": "false", **extra,
    }  # fmt: skip


def reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from bot.database import Database
    from bot.settings import load_settings

    db = Database(load_settings(database_url=url).database_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


def load_departments(url: str) -> None:
    """The database migrated and the department list loaded, as organizers do before a window opens."""
    import datetime as dt

    from bot.database import Database
    from bot.services import departments
    from bot.settings import load_settings

    db = Database(load_settings(database_url=url).database_url)
    db.upgrade()
    with db.session() as session:
        departments.load_path(session, departments.SAMPLE, dt.datetime.now(dt.UTC))
    db.dispose()

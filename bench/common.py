"""Shared pieces of the benchmarks: a bot process against the stand-in server, and its memory."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import statistics
import sys
import time
from pathlib import Path

from bot.sandbox.botapi import BotApiServer

ROOT = Path(__file__).resolve().parents[1]


# The cores the processes a benchmark starts run on (``--pin``); None: wherever the kernel puts them.
_BOT_CORES: set[int] | None = None


async def start_process(args: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    out = open(log, "ab")  # noqa: SIM115
    cores = _BOT_CORES
    # In the child, before it starts a thread: its threads inherit the cores.
    pinned = functools.partial(os.sched_setaffinity, 0, cores) if cores else None
    return await asyncio.create_subprocess_exec(sys.executable, *args, env={**os.environ, **env}, stdout=out,
                                                stderr=out, cwd=ROOT, preexec_fn=pinned)  # fmt: skip


def pin_split() -> tuple[set[int], set[int]]:
    """``--pin``: one core for the bot processes, the others for this process (the stand-in and the simulated
    people) and the database server, as when the database runs on a machine of its own. Call before this
    process starts a thread (a thread keeps the cores it was started with)."""
    global _BOT_CORES
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("--pin needs two cores or more")
    _BOT_CORES, rest = {cores[0]}, set(cores[1:])
    os.sched_setaffinity(0, rest)
    return _BOT_CORES, rest


def _server_processes(url: str) -> list[int]:
    """The PostgreSQL server's processes on this machine: its postmaster and every process it started."""
    from sqlalchemy import text

    from bot.database import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    finally:
        engine.dispose()
    postmaster = _parent(backend)
    try:
        name = Path(f"/proc/{postmaster}/comm").read_text()
    except OSError:
        name = ""
    if "postgres" not in name:  # a server elsewhere: the number is some other process of this machine, or none
        raise LookupError("not a PostgreSQL server of this machine")
    children = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit() and _parent(int(d.name)) == postmaster]
    return [postmaster, *children]


def _parent(pid: int) -> int:
    try:
        return int(_stat(f"/proc/{pid}/stat")[1])
    except (OSError, ValueError, IndexError):
        return -1


def _stat(path: str) -> list[str]:
    """The fields of a ``/proc/…/stat`` file after the command's name (which may hold spaces): state, ppid, …"""
    return Path(path).read_text().rsplit(")", 1)[1].split()


def pin_postgres(url: str | None, cores: set[int]) -> str:
    """Puts the database server's processes on ``cores`` (the backends it starts later inherit them from its
    postmaster). Returns what could not be done, or ''."""
    if not url:
        return ""
    try:
        pids = _server_processes(url)
    except Exception as err:
        return f"the database server's processes were not found ({type(err).__name__})"
    failed = 0
    for pid in pids:
        try:
            os.sched_setaffinity(pid, cores)
        except OSError:
            failed += 1
    return f"{failed} of the database server's {len(pids)} processes could not be pinned" if failed else ""


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


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User plus system CPU time the process (or one of its threads: its main thread is ``thread=pid``) has
    used so far."""
    fields = _stat(f"/proc/{pid}/task/{thread}/stat" if thread is not None else f"/proc/{pid}/stat")
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


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """Every benchmark runs on SQLite by default, on PostgreSQL with ``--database URL`` (``--database-url``
    and ``--pg`` are the same option); that database's public schema is dropped and recreated."""
    parser.add_argument("--database", "--database-url", "--pg", dest="database", default=None, metavar="URL",
                        help="a PostgreSQL URL (its public schema is reset); default SQLite")  # fmt: skip


def database_name(url: str | None) -> str:
    return "PostgreSQL" if url else "SQLite"


async def wait_polling(server: BotApiServer, timeout: float = 60) -> None:
    """Returns once the bot's first getUpdates came: it is up and listening."""
    deadline = time.monotonic() + timeout
    while server.calls["getUpdates"] == 0:
        if time.monotonic() > deadline:
            raise TimeoutError("the bot never polled")
        await asyncio.sleep(0.05)


def pdf_deck(megabytes: float) -> bytes:
    """A pitch deck of about that size: a PDF header, filler pages' worth of bytes, the trailer."""
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    size = max(int(megabytes * 1024 * 1024), len(head) + len(tail))
    line = b"% slide filler, as a deck's images would take the room\n"
    body = (line * (size // len(line) + 1))[: size - len(head) - len(tail)]
    return head + body + tail


def postgres_cpu(url: str | None) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL server process serving ``url``'s database (root can read
    them in /proc; the server runs on this machine). Empty on SQLite or when they cannot be read."""
    if not url:
        return {}
    from sqlalchemy import make_url, text

    from bot.database import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            me = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> :me"),
                                {"d": make_url(url).database, "me": me}).scalars().all()  # fmt: skip
    finally:
        engine.dispose()
    found = {}
    for pid in pids:
        try:
            found[int(pid)] = cpu_seconds(int(pid))
        except (OSError, ValueError):
            continue
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two :func:`postgres_cpu` readings (a process started meanwhile counts whole)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """The median with the lowest and highest round: ``1.23 (1.10–1.40)``."""
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


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

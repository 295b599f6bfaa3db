"""Waiting for a bot process started by the tests or a benchmark: it is up once its own HTTP server answers
``/healthz`` (a webhook worker answers only after it has set the webhook)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

LOG_TAIL = 3000  # characters of the process's log quoted when it never came up


def log_tail(log: Path | None, chars: int = LOG_TAIL) -> str:
    if log is None or not log.exists():
        return ""
    return f"; the end of {log}:\n{log.read_text(errors='replace')[-chars:]}"


async def wait_healthy(
    port: int,
    timeout: float = 60.0,
    *,
    process: asyncio.subprocess.Process | None = None,
    log: Path | None = None,
    interval: float = 0.1,
) -> None:
    """Returns once ``http://127.0.0.1:{port}/healthz`` answers 200. With ``process``, a process that exits
    first fails at once instead of at the timeout; either failure quotes the end of ``log``."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as client:
        while True:
            if process is not None and process.returncode is not None:
                raise RuntimeError(f"the process on port {port} exited with {process.returncode}{log_tail(log)}")
            try:
                async with client.get(f"http://127.0.0.1:{port}/healthz") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the process on port {port} never answered /healthz{log_tail(log)}")
            await asyncio.sleep(interval)

"""KakaoTalk: the bot process serving Kakao's skill calls, against the stand-in for Kakao's platform.

1. ``--users`` KakaoTalk users register and apply at once (the deck skipped), first as fast as the bot
   answers (the worst case: nobody reads or types), then again at a person's pace (each turn after a pause
   of 0 to 2 × ``--think`` seconds, reading and typing). Reports, for each, the answer latency as
   Kakao sees it (p50, p99, max), the answers over Kakao's 5 s (target 0), the answers the bot put off to
   the Event API (its own 3.5 s budget ran out), Kakao-rule violations (target 0), errors, and the bot
   process's CPU per turn beside the Telegram bot's on the same number of companies (bench.conversation).
2. A broadcast to ``--recipients`` KakaoTalk subscribers, seeded in the database before the bot starts and
   started by an organizer in chat: Event API calls, the most users in one call (Kakao takes 100), messages
   delivered ÷ planned (lost target 0), people with more than one copy (target 0), and the time it took.

    .venv/bin/python -m bench.kakao [--users 500] [--think 3] [--recipients 10000] [--database URL]

The stand-in is given a minute, not Kakao's 5 s, before it gives up on an answer, so that a slow answer is
measured (and counted over 5 s) instead of cut off. ``--database`` runs the bot on PostgreSQL (its public
schema is dropped and recreated before each part); the default is a fresh SQLite file."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import func, select

from bench.common import (
    add_database_option,
    cpu_seconds,
    load_departments,
    peak_rss_mb,
    reset_postgres,
    start_process,
    stop_process,
)
from bench.conversation import bot_rate
from bot.database import Database
from bot.models import Broadcast, Outbox
from bot.sandbox.health import wait_healthy
from bot.sandbox.kakao import KakaoPlatform, KakaoUser, SkillAnswer
from bot.sandbox.runner import free_port
from bot.services import broadcasts, users
from bot.settings import load_settings
from tests.handlers.committee import brn_for

SECRET = "bench-skill-secret"
ORGANIZER_KEY = "bench-organizer"
WORKING = "요청을 처리하고 있습니다"  # templates/ko/kakao/working: the bot's own 3.5 s budget ran out
KAKAO_LIMIT = 5.0


@dataclass
class Deferrals:
    """Answers the bot put off: the step each was, and how long until the real answer came by the Event API."""

    steps: Counter[str] = field(default_factory=Counter)
    waits: list[float] = field(default_factory=list)
    disordered: int = 0  # their messages pushed in another order than the answer's


@dataclass
class KakaoRun:
    turns: int
    elapsed: float
    cpu_per_turn: float  # seconds of the bot process's CPU
    latencies: list[float]
    deferrals: Deferrals
    violations: list[tuple[str, str]]
    errors: list[str] = field(default_factory=list)
    rss_mb: float = float("nan")


def kakao_env(platform: KakaoPlatform, url: str, workdir: Path, port: int, **extra: str) -> dict[str, str]:
    """What SandboxBot._settings gives the bot for KakaoTalk, as environment variables; no Telegram token."""
    return {
        "PITCHBOT_DATABASE_URL": url, "PITCHBOT_FILES_DIR": str(workdir / "files"),
        "PITCHBOT_FAKE_NOW": "2026-12-03T10:00+09:00", "PITCHBOT_RUN_SCHEDULER": "false",
        "PITCHBOT_KAKAO_BOT_ID": platform.bot_id, "PITCHBOT_KAKAO_SKILL_SECRET": SECRET,
        "PITCHBOT_KAKAO_REST_API_KEY": platform.rest_api_key, "PITCHBOT_KAKAO_ADMIN_KEY": platform.admin_key,
        "PITCHBOT_KAKAO_API_URL": platform.url, "PITCHBOT_KAKAO_CALLBACK_HOSTS": "127.0.0.1",
        "PITCHBOT_HTTP_HOST": "127.0.0.1", "PITCHBOT_HTTP_PORT": str(port),
        "PITCHBOT_PUBLIC_URL": f"http://127.0.0.1:{port}", **extra,
    }  # fmt: skip


async def start_bot(platform: KakaoPlatform, url: str, workdir: Path, **extra: str) -> asyncio.subprocess.Process:
    """``python -m bot.cli run`` serving KakaoTalk only; returns once it answers on its HTTP server."""
    port = free_port()
    proc = await start_process(["-m", "bot.cli", "run"], kakao_env(platform, url, workdir, port, **extra),
                               workdir / "bot.log")  # fmt: skip
    await wait_healthy(port, process=proc, log=workdir / "bot.log")
    base = f"http://127.0.0.1:{port}"
    platform.connect_skill(f"{base}/kakao/skill", "X-Pitchbot-Skill-Secret", SECRET)
    platform.connect_channel_webhook(f"{base}/kakao/channel")
    return proc


def _expect(answer: SkillAnswer, words: str) -> SkillAnswer:
    if words not in answer.text:
        raise AssertionError(f"expected {words!r}, got {answer.text[:150]!r} {answer.labels()}")
    return answer


class Walk:
    """A user's turns, each answer checked. An answer put off to the Event API is followed there, as the person
    would read it; the pushed message carries no quick replies, so the next choice is typed by its label."""

    def __init__(self, user: KakaoUser, deferrals: Deferrals, timeout: float = 60, think: float = 0.0) -> None:
        self.user = user
        self.think = think
        self.deferrals = deferrals
        self.timeout = timeout
        self.pushed = False

    async def say(self, text: str, expect: str | tuple[str, ...] = "", step: str = "") -> str:
        return await self._turn(step or text, self.user.say(text), expect)

    async def tap(self, label: str, expect: str | tuple[str, ...] = "") -> str:
        call = self.user.say(label) if self.pushed else self.user.tap(label)
        return await self._turn(label, call, expect)

    async def _turn(self, step: str, call: Coroutine[Any, Any, SkillAnswer], expect: str | tuple[str, ...]) -> str:
        """``expect``: words the answer holds, in this order."""
        words = (expect,) if isinstance(expect, str) else expect
        if self.think:
            await asyncio.sleep(random.uniform(0, 2 * self.think))
        seen, started = len(self.user.events), time.monotonic()
        answer = await call
        self.pushed = WORKING in answer.text
        if self.pushed:
            self.deferrals.steps[step[:16]] += 1
            while not (texts := [str(data.get("text", "")) for _, data in self.user.events[seen:]]) or not all(
                word in "\n".join(texts) for word in words
            ):
                if time.monotonic() - started > self.timeout:
                    raise TimeoutError(f"{step!r}: the put-off answer never came through the Event API: {texts}")
                await asyncio.sleep(0.05)
            self.deferrals.waits.append(time.monotonic() - started)
            # The person reads the pushed messages in the order they came: a question before what leads to it?
            firsts = [next(i for i, t in enumerate(texts) if word in t) for word in words]
            self.deferrals.disordered += firsts != sorted(firsts)
            return "\n".join(texts)
        text = answer.text
        positions = [text.find(word) for word in words]
        if -1 in positions or positions != sorted(positions):
            raise AssertionError(f"{step!r}: expected {words!r}, got {text[:150]!r} {answer.labels()}")
        return text


async def apply(walk: Walk, i: int) -> None:
    """A company's profile and application in KakaoTalk, as tests/handlers/kakao/test_company.py types it."""
    await walk.say("안녕하세요")
    await walk.tap("피칭데이 신청", "개인정보 보호법")
    await walk.tap("동의합니다")
    await walk.say(f"벤치기업{i}", step="(company name)")
    await walk.say(brn_for(i), step="(BRN)")
    await walk.say("김민준")
    await walk.say("중소기업")
    for text in ("서울 마포구 월드컵북로 400", "최담당", "010-2345-6789"):
        await walk.say(text)
    await walk.say("choi@hanbit.kr", "기업 정보 확인")
    await walk.tap("저장하기", ("정보를 저장했습니다", "제품·서비스명 (1/8)"))
    await walk.say(f"제품 {i}", step="(product name)")
    await walk.say("로봇, 인공지능", "기술성숙도(TRL) (3/8)")
    await walk.say("7")
    await walk.say("공원과 지하철 역사를 야간에 자율 순찰하며 이상 상황을 알리는 로봇입니다.")
    await walk.say("공원녹지사업소 야간 순찰에 투입해 인력 부담을 줄입니다.")
    await walk.say("서울교통공사, 푸른도시여가국")
    await walk.say("선택 완료")
    await walk.say("대당 4,800만 원", "발표자료(PDF) (8/8)")
    await walk.tap("건너뛰기", "신청서 확인")
    await walk.tap("제출하기", "접수번호")


async def kakao_turns(companies: int, workdir: Path, database: str | None, think: float = 0.0) -> KakaoRun:
    if database:
        reset_postgres(database)
    url = database or f"sqlite:///{workdir / f'kakao-{think:g}.db'}"
    load_departments(url)
    platform = KakaoPlatform(timeout=60.0, strict=False)
    await platform.start()
    proc = await start_bot(platform, url, workdir)
    errors: list[str] = []
    deferrals = Deferrals()
    try:

        async def one(i: int) -> None:
            try:
                await apply(Walk(KakaoUser(platform), deferrals, think=think), i)
            except Exception as err:  # an answer not as expected, or no quick reply to tap
                errors.append(f"{i}: {type(err).__name__}: {str(err)[:200]}")

        started, cpu = time.monotonic(), cpu_seconds(proc.pid)
        await asyncio.gather(*(one(i) for i in range(companies)))
        elapsed = time.monotonic() - started
        used = cpu_seconds(proc.pid) - cpu
        rss = peak_rss_mb(proc.pid)
    finally:
        await stop_process(proc)
        await platform.stop()
    turns = len(platform.payloads)
    return KakaoRun(turns, elapsed, used / max(turns, 1), sorted(platform.latencies), deferrals,
                    list(platform.violations), errors, rss)  # fmt: skip


def _percentiles(values: list[float]) -> list[float]:
    return statistics.quantiles(values, n=100) if len(values) > 1 else values * 99


async def broadcast(recipients: int, workdir: Path, database: str | None, timeout: float = 600) -> None:
    if database:
        reset_postgres(database)
    url = database or f"sqlite:///{workdir / 'broadcast.db'}"
    platform = KakaoPlatform(timeout=60.0, strict=False)
    await platform.start()
    audience = [KakaoUser(platform) for _ in range(recipients)]
    organizer = KakaoUser(platform, ORGANIZER_KEY)
    db = Database(load_settings(database_url=url).database_url)
    db.upgrade()
    seeded = time.monotonic()
    now = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
    with db.session() as session:
        for user in audience:
            person = users.ensure_user(session, "kakao", user.user_id, now)
            users.subscribe(session, person, "news", now)
    print(f"  seeded {recipients:,} KakaoTalk subscribers in {time.monotonic() - seeded:.1f} s")
    proc = await start_bot(platform, url, workdir, PITCHBOT_ORGANIZER_IDS=f"kakao:{ORGANIZER_KEY}")
    text = "테스트베드 서울 피칭데이 12월 일정 안내입니다. 자세한 내용은 채널 메뉴에서 확인해 주세요."
    busy = ("pending", "sending")
    try:
        await organizer.say("공지")
        await organizer.tap("소식 구독자 전체")
        await organizer.tap("직접 작성")
        confirm = _expect(await organizer.say(text), f"{recipients}명에게 보냅니다")
        started, cpu = time.monotonic(), cpu_seconds(proc.pid)
        progress = await organizer.tap("보내기")
        answered = time.monotonic() - started
        put_off = " (put off: the progress comes through the Event API)" if WORKING in progress.text else ""
        print(f"  '보내기' answered in {answered * 1000:.0f} ms: {progress.text.splitlines()[0][:60]!r}{put_off}")
        deadline = started + timeout
        while True:
            with db.session() as session:
                states = dict(session.exec(select(Outbox.state, func.count()).group_by(Outbox.state)).all())
                # Planned in the background: an outbox with nothing pending may still be filling.
                planning = session.exec(select(Broadcast).where(Broadcast.status == broadcasts.PLANNING)).first()
            if not any(states.get(s) for s in busy) and states and planning is None:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"outbox not sent within {timeout:g} s: {states}")
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        used = cpu_seconds(proc.pid) - cpu
    finally:
        await stop_process(proc)
        await platform.stop()
        db.dispose()
    copies = Counter({u.user_id: len(platform.events[u.user_id]) for u in audience})
    delivered = sum(copies.values())
    lost = sum(1 for n in copies.values() if n == 0)
    duplicated = sum(1 for n in copies.values() if n > 1)
    largest = max((task["allRequestCount"] for task in platform.tasks.values()), default=0)
    sizes = Counter(task["allRequestCount"] for task in platform.tasks.values())
    print(f"  confirm page: {confirm.texts[-1][:70]!r}")
    print(f"  outbox rows: {states}; Event API calls: {platform.event_calls} (users per call: "
          f"{', '.join(f'{n}×{size}' for size, n in sorted(sizes.items(), reverse=True))})")  # fmt: skip
    print(f"  largest call: {largest} users  (Kakao takes <= 100)")
    print(f"  delivered / planned: {delivered:,} / {recipients:,}; lost: {lost}, duplicated: {duplicated}  "
          f"(target 0 each)")  # fmt: skip
    rate = load_settings().kakao_send_rate
    print(f"  time from '보내기' to the last row sent: {elapsed:.1f} s ({delivered / elapsed:.0f} messages/s, "
          f"{platform.event_calls / elapsed:.0f} calls/s; PITCHBOT_KAKAO_SEND_RATE {rate:g}); "
          f"bot CPU {used:.1f} s")  # fmt: skip
    print(f"  Kakao refusals: {len(platform.refusals)}; violations: {len(platform.violations)}")
    for line in platform.refusals[:3] + platform.violations[:3]:
        print("    ", line)


def report(run: KakaoRun) -> None:
    lat = run.latencies
    p = _percentiles(lat)
    over = sum(1 for t in lat if t > KAKAO_LIMIT)
    print(f"  {run.turns:,} turns in {run.elapsed:.1f} s ({run.turns / run.elapsed:.1f} turns/s); "
          f"answered {len(lat):,}")  # fmt: skip
    print(f"  answer latency as Kakao sees it: p50 {p[49] * 1000:.0f} ms, p99 {p[98] * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms")  # fmt: skip
    put_off = run.deferrals
    print(
        f"  answers over {KAKAO_LIMIT:g} s: {over}  (target 0); put off to the Event API: {len(put_off.waits)}"
        + (f", the real answer there after {max(put_off.waits):.1f} s at most" if put_off.waits else "")
    )
    if put_off.steps:
        print("    put off at: " + ", ".join(f"{step!r} {n}" for step, n in put_off.steps.most_common(5)))
        print(f"    put-off answers whose messages came out of order: {put_off.disordered}  (target 0)")
    print(f"  Kakao-rule violations: {len(run.violations)}  (target 0); errors: {len(run.errors)}")
    for line in run.errors[:5] + [f"{k[:12]}…: {v}" for k, v in run.violations[:5]]:
        print("    ", line)


async def main(companies: int, recipients: int, database: str | None, think: float) -> None:
    os.environ.pop("PITCHBOT_TELEGRAM_TOKEN", None)  # a KakaoTalk-only process
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-kakao-"))
    print(f"database: {'PostgreSQL' if database else 'SQLite'}; work directory {workdir}")
    print(f"1. {companies} KakaoTalk users register and apply at once (deck skipped), as fast as answered")
    run = await kakao_turns(companies, workdir, database)
    report(run)
    print(f"  bot CPU per turn: {run.cpu_per_turn * 1000:.2f} ms; peak resident memory {run.rss_mb:.0f} MB")
    if think:
        print(f"   and at a person's pace: a pause of 0 to {2 * think:g} s before each turn")
        report(await kakao_turns(companies, workdir, database, think))
    print(f"  the same on Telegram: {companies} companies (bench.conversation.bot_rate)")
    tg = await bot_rate(companies, workdir, database)
    print(f"  {tg.updates:,} updates at {tg.rate:.1f} updates/s; bot CPU per update {tg.cpu_per_update * 1000:.2f} ms")
    print(f"  CPU per turn: KakaoTalk {run.cpu_per_turn * 1000:.2f} ms / Telegram {tg.cpu_per_update * 1000:.2f} ms"
          f" = {run.cpu_per_turn / tg.cpu_per_update:.2f}")  # fmt: skip

    print(f"2. a broadcast to {recipients:,} KakaoTalk subscribers through the Event API")
    await broadcast(recipients, workdir, database)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--think", type=float, default=3.0, help="mean pause before a turn; 0 skips that run")
    parser.add_argument("--recipients", type=int, default=10000)
    add_database_option(parser)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.recipients, args.database, args.think))

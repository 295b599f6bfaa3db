"""One validated settings object, read once from the environment (prefix ``PITCHBOT_``)."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class SettingsError(Exception):
    """A missing or bad setting; its message is one line meant for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PITCHBOT_", extra="ignore", frozen=True)

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    # The sandbox's own, for a bot process it starts against its stand-in for the Bot API (tests, benchmarks):
    # the outbox's calls carry ``sandbox_unasked``, by which simulated people tell a reminder from the answer
    # they wait for (bot/sandbox/botapi.py). Refused unless the Bot API is on this machine.
    sandbox_unasked: bool = False
    # An HTTP proxy for the Bot API (e.g. http://proxy.example:3128), where the network needs one.
    telegram_proxy: str | None = None
    # Start-up while the Bot API cannot be reached: try again after this many seconds, doubling up to the
    # cap; a Telegram outage or a network not up yet must not end the process.
    telegram_retry_seconds: float = Field(default=1.0, gt=0, le=3600)
    telegram_retry_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Webhook mode (`pitchbot run --webhook`): Telegram posts updates to this public HTTPS address, with
    # this secret in a header; several processes behind a load balancer can then serve one bot.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Where this process's own HTTP server listens (webhooks, KakaoTalk's skill calls), and the public
    # https address it is reached at (links to files and to the upload page are made from it).
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None

    # KakaoTalk (카카오톡 채널 챗봇): the bot's id in the admin centre enables the channel.
    kakao_bot_id: str | None = None
    # The admin centre's skill header ("헤더값 입력"): its name and the secret value Kakao sends.
    kakao_skill_header: str = "X-Pitchbot-Skill-Secret"
    kakao_skill_secret: SecretStr | None = Field(default=None, validate_default=True)
    # The Event API (the bot speaks first): the app's REST API key, the event block's name.
    kakao_rest_api_key: SecretStr | None = None
    kakao_event_name: str = "pitchbot_message"
    kakao_api_url: str = "https://bot-api.kakao.com"
    # The channel's add/block webhook (Kakao Developers) is authenticated with the app's admin key.
    kakao_admin_key: SecretStr | None = None
    # Hosts a callback URL may point to (Kakao's own): the real answer of a slow turn goes nowhere else.
    kakao_callback_hosts: Annotated[tuple[str, ...], NoDecode] = ("kakao.com", "kakaoenterprise.com")
    # Event API calls a second, overall; one call carries up to 100 people (Kakao publishes no limit).
    kakao_send_rate: float = Field(default=50.0, gt=0, le=1000)
    # Links to files people receive, and to the upload page, stop working after these many hours.
    file_link_hours: float = Field(default=72.0, gt=0, le=24 * 30)
    upload_link_minutes: float = Field(default=60.0, gt=0, le=24 * 60)
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'pitchbot.db'}"
    # Threads running conversation turns on PostgreSQL (SQLite has one writer: always one). A turn mostly
    # waits for the database server, so more of them than cores; 8 and 16 measured no faster than 4 on
    # two cores shared with the server (bench/README.md).
    turn_workers: int = Field(default=4, ge=1, le=64)
    timezone: str = "Asia/Seoul"
    # The first organizers: "telegram:123" (or just 123) and "kakao:<botUserKey>", comma-separated.
    organizer_ids: Annotated[tuple[str, ...], NoDecode] = ()
    fake_now: dt.datetime | None = None
    # Updates handled at once (each person's still one after another).
    concurrent_updates: int = Field(default=32, ge=1, le=256)
    # Connections to the Bot API kept open for replies (getUpdates has its own).
    connection_pool_size: int = Field(default=8, ge=1, le=256)
    # Seconds a getUpdates long poll may wait; a stop waits for the poll in flight to return.
    poll_timeout: int = Field(default=30, ge=0, le=50)

    # Clock times of the month's events, local time; the plan leaves them open.
    selection_time: dt.time = dt.time(10, 0)
    pitch_time: dt.time = dt.time(14, 0)
    selected_count: int = Field(default=6, ge=1, le=50)
    waitlist_count: int = Field(default=3, ge=0, le=50)
    pitch_venue: str = "서울특별시청 본관 다목적홀"
    pitch_slot_minutes: int = Field(default=20, ge=5, le=120)
    decision_reminder_time: dt.time = dt.time(10, 0)  # D+7, D+12, D+14 after Pitching Day
    # A department's overdue decision: the company is told by when the organizers will have followed it up,
    # and whom to ask meanwhile.
    decision_followup_days: int = Field(default=7, ge=1, le=60)
    organizer_contact: str = Field(
        default="서울특별시 경제정책과 · 서울산업진흥원(SBA) 테스트베드 사업단", min_length=2, max_length=200
    )
    # 0: the whole committee reviews every application; N: N reviewers each, balanced.
    reviewers_per_application: int = Field(default=0, ge=0, le=50)
    # Weights of 혁신성, 안전성, 시정 적용가능성, 경제성 (equal by default).
    score_weights: Annotated[tuple[float, float, float, float], NoDecode] = (1.0, 1.0, 1.0, 1.0)
    # With at least this many complete reviews, an application's mean leaves out its highest and lowest
    # weighted total (one each): one reviewer far off cannot carry it. 0: never (the plain mean). Off by
    # default: with the whole committee of three or four, trimming would drop half the votes.
    trim_min_reviews: int = Field(default=0, ge=0, le=50)
    # Pass marks of 혁신성, 안전성, 시정 적용가능성, 경제성 (0: none): an application whose mean on a
    # criterion is below its mark is not proposed for selection (organizers may still move it in).
    pass_marks: Annotated[tuple[float, float, float, float], NoDecode] = (0.0, 0.0, 0.0, 0.0)
    review_reminder_time: dt.time = dt.time(10, 0)  # on the day before selection day
    invitation_days: int = Field(default=7, ge=1, le=90)
    # Days after the results go out during which a company not selected may appeal (이의신청).
    appeal_days: int = Field(default=7, ge=1, le=60)
    # Unknown invitation codes one person may type within the minutes before the next is refused unread.
    invitation_max_wrong: int = Field(default=5, ge=1, le=100)
    invitation_wrong_minutes: int = Field(default=10, ge=1, le=24 * 60)
    # How long personal data is kept after the last activity: the consent text promises three years.
    retention_days: int = Field(default=3 * 365, ge=30, le=10 * 365)

    summary_max_chars: int = Field(default=1000, ge=100, le=3000)
    deck_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    files_dir: Path = PROJECT_ROOT / "var" / "files"
    templates_dir: Path = PROJECT_ROOT / "templates"
    # Telegram allows about 30 messages a second overall and 1 a second per chat; replies and the
    # outbox share the rate, across processes.
    send_rate: float = Field(default=28.0, gt=0, le=1000)
    send_per_chat_interval: float = Field(default=1.0, ge=0)
    send_timeout: float = Field(default=10.0, gt=0)
    send_concurrency: int = Field(default=4, ge=1, le=64)  # also the most a crash can duplicate
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    # Days a message sent, failed or stopped stays in the outbox (then the tick deletes it).
    outbox_retention_days: int = Field(default=90, ge=1, le=10 * 365)
    tick_interval: float = Field(default=60.0, gt=0)
    # Reminder clock times, local.
    window_open_notice_time: dt.time = dt.time(9, 0)
    draft_reminder_time: dt.time = dt.time(9, 0)  # on the 8th
    last_call_time: dt.time = dt.time(18, 0)  # on the last day of the window
    pitch_eve_time: dt.time = dt.time(18, 0)  # the day before Pitching Day
    pitch_morning_time: dt.time = dt.time(8, 0)
    pitch_week_time: dt.time = dt.time(10, 0)  # a week before Pitching Day
    # The bot process ticks the calendar and dispatches the outbox itself; turn either off to run
    # them elsewhere (`pitchbot tick` from cron, `pitchbot dispatch` as its own process).
    run_scheduler: bool = True
    run_dispatcher: bool = True

    @field_validator("telegram_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # BotFather's tokens are "<bot id>:<secret>"; anything else would only fail later, on the network.
        if value is not None and not re.fullmatch(r"[0-9]+:[A-Za-z0-9_-]+", value.get_secret_value()):
            raise ValueError("is not a bot token from @BotFather (digits, a colon, then letters and digits)")
        return value

    @field_validator("score_weights", "pass_marks", mode="before")
    @classmethod
    def _split_four(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip()
        try:
            parsed = json.loads(text) if text.startswith("[") else [float(p) for p in text.split(",")]
        except ValueError:
            raise ValueError("must be four numbers, e.g. [1,1,1,1] or 1,1,1,1") from None
        if not isinstance(parsed, list) or len(parsed) != 4:  # else pydantic says "Field required" of the 3rd
            raise ValueError("must be four numbers, one per criterion, e.g. [1,1,1,1] or 1,1,1,1")
        return parsed

    @field_validator("score_weights")
    @classmethod
    def _usable_weights(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        # The ranking divides by their sum.
        if not all(math.isfinite(w) and w >= 0 for w in value) or sum(value) <= 0:
            raise ValueError("must be four numbers of at least 0, not all 0")
        return value

    @field_validator("pass_marks")
    @classmethod
    def _usable_marks(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        # Scores are 1-5: a mark above 5 would refuse everyone; 0 means no mark.
        if not all(math.isfinite(m) and 0 <= m <= 5 for m in value):
            raise ValueError("must be four numbers from 0 to 5 (0: no pass mark), e.g. [3,3,0,0] or 3,3,0,0")
        return value

    @field_validator("trim_min_reviews")
    @classmethod
    def _trim_leaves_some(cls, value: int) -> int:
        # Dropping the highest and the lowest of fewer than three would leave nothing to average.
        if 0 < value < 3:
            raise ValueError("must be 0 (off) or at least 3: the highest and the lowest are left out")
        return value

    @field_validator("kakao_callback_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(h.strip().lower() for h in value.split(",") if h.strip())
        return value

    @field_validator("organizer_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            value = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        if isinstance(value, int):
            value = [value]
        return tuple(organizer_key(v) for v in value)  # type: ignore[union-attr]

    @property
    def organizers(self) -> frozenset[str]:
        """ "channel:id" of every organizer named here."""
        return frozenset(organizer_key(v) for v in self.organizer_ids)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("fake_now")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-12-03T10:00+09:00")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("kakao_bot_id")
    @classmethod
    def _kakao_links(cls, value: str | None, info: ValidationInfo) -> str | None:
        # KakaoTalk carries no files: decks, calendar files and exports reach people as links to this server.
        if value and not info.data.get("public_url"):
            raise ValueError("needs PITCHBOT_PUBLIC_URL, the https address of this server: KakaoTalk carries no "
                             "files, so decks, calendar files and exports are links to it")  # fmt: skip
        return value

    @field_validator("kakao_skill_secret")
    @classmethod
    def _skill_secret_with_the_bot(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # Without it anyone could post skill calls as any KakaoTalk user (an organizer's key included).
        if info.data.get("kakao_bot_id") and (value is None or not value.get_secret_value().strip()):
            raise ValueError(
                "is needed with PITCHBOT_KAKAO_BOT_ID: set the same value as the skill's header in the admin centre"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_https(cls, value: str | None) -> str | None:
        # Every file link is made from it: a typo here would only show as links that lead nowhere.
        if value is not None:
            _public_address(value, "https://bot.example.kr")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_address(cls, value: str | None) -> str | None:
        # Telegram posts only to HTTPS; the bot serves updates at /telegram/webhook.
        if value is not None:
            _public_address(value, "https://bot.example.kr/telegram/webhook")
            if not urlsplit(value).path.rstrip("/").endswith("/telegram/webhook"):
                raise ValueError("must end in /telegram/webhook, e.g. https://bot.example.kr/telegram/webhook")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("sandbox_unasked")
    @classmethod
    def _sandbox_only(cls, value: bool, info: ValidationInfo) -> bool:
        host = urlsplit(str(info.data.get("telegram_api_url", ""))).hostname
        if value and host not in LOOPBACK:
            raise ValueError("is the sandbox's only: PITCHBOT_TELEGRAM_API_URL must be on this machine (127.0.0.1)")
        return value

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        from bot.database import with_driver

        value = with_driver(value)  # named, so the URL says which driver runs
        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, NoSuchModuleError, ValueError):
            backend = ""
        if backend not in ("sqlite", "postgresql"):
            raise ValueError("must be sqlite:///PATH or postgresql://USER@HOST/NAME")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _public_address(value: str, example: str) -> None:
    """An https address with a host (plain http only on this machine, as the sandbox's), else ValueError."""
    parts = urlsplit(value)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK
    if not parts.hostname or not (parts.scheme == "https" or local):
        raise ValueError(f"must be an https address, e.g. {example}")


def organizer_key(value: object) -> str:
    """ "telegram:123" from 123, "123" or "telegram:123"; "kakao:<botUserKey>" as given."""
    text = str(value).strip()
    channel, _, ident = text.rpartition(":") if ":" in text else ("telegram", "", text)
    if channel not in ("telegram", "kakao") or not ident:
        raise ValueError(f"{text!r} is not telegram:ID or kakao:ID")
    if channel == "telegram":
        if not ident.isascii() or not ident.isdigit() or int(ident) == 0:
            raise ValueError(f"{text!r}: a Telegram user id is a number above 0")
        ident = str(int(ident))  # "007" is the same person as "7"
    return f"{channel}:{ident}"


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; a bad value becomes one clear line in :class:`SettingsError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "PITCHBOT_" + str(err["loc"][0]).upper() if err["loc"] else "PITCHBOT_*"
        message = str(err["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name} is invalid: {message}") from None

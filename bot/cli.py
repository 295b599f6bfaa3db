"""The ``pitchbot`` command line: run the bot, migrate, grant roles, show the calendar, simulate."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from typing import Annotated

import typer

from bot import calendar
from bot.calendar import Month
from bot.settings import Settings, SettingsError, load_settings

app = typer.Typer(help="Testbed Seoul Pitching Day bot", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database commands", no_args_is_help=True)
cycle_app = typer.Typer(help="The monthly calendar", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cycle_app, name="cycle")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as err:
        typer.echo(f"pitchbot: {err}", err=True)
        raise typer.Exit(2) from None


def _logging() -> None:
    from bot import logs

    logs.setup(logging.INFO)


@app.command()
def run(
    webhook: Annotated[
        bool, typer.Option(help="receive Telegram's updates on this process's HTTP server instead of polling")
    ] = False,
) -> None:
    """Run the bot: long polling, or a webhook server (several processes may share one PostgreSQL database)."""
    settings = _settings()
    if settings.telegram_token is None and settings.kakao_bot_id is None:
        typer.echo(
            "pitchbot: neither PITCHBOT_TELEGRAM_TOKEN nor PITCHBOT_KAKAO_BOT_ID is set; see the README, "
            "or try `pitchbot simulate` for a sandbox run without any channel.",
            err=True,
        )
        raise typer.Exit(2)
    if webhook and settings.telegram_token is None:
        typer.echo("pitchbot: --webhook is Telegram's; KakaoTalk always comes through the HTTP server", err=True)
        raise typer.Exit(2)
    if webhook and not (settings.telegram_webhook_url and settings.telegram_webhook_secret):
        typer.echo(
            "pitchbot: --webhook needs PITCHBOT_TELEGRAM_WEBHOOK_URL (the public https address of "
            "/telegram/webhook) and PITCHBOT_TELEGRAM_WEBHOOK_SECRET",
            err=True,
        )
        raise typer.Exit(2)
    _logging()
    from bot.runtime import Runtime

    runtime = Runtime(settings)
    runtime.ctx.db.upgrade()
    asyncio.run(runtime.serve(webhook=webhook))


def _context(settings: Settings):  # type: ignore[no-untyped-def]
    """The database (migrated) and the clock, which honours PITCHBOT_FAKE_NOW like the bot's."""
    from bot.context import AppContext

    ctx = AppContext.create(settings)
    ctx.db.upgrade()
    return ctx


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration."""
    from bot.database import Database

    settings = _settings()
    Database(settings.database_url).upgrade()
    typer.echo("database is up to date")


@app.command()
def grant(
    role: Annotated[str, typer.Argument(help="organizer, reviewer or official")],
    user_id: Annotated[str, typer.Argument(help="a Telegram user id, or kakao:<botUserKey>")],
    department: Annotated[str | None, typer.Option(help="the buying department (officials)")] = None,
) -> None:
    """Give a person a role, on Telegram (a user id) or KakaoTalk (kakao:<botUserKey>)."""
    from bot.models import Role
    from bot.services import users
    from bot.settings import organizer_key

    try:
        channel, _, external_id = organizer_key(user_id).partition(":")
    except ValueError as err:
        typer.echo(f"pitchbot: {err}", err=True)
        raise typer.Exit(2) from None

    try:
        chosen = Role(role)
    except ValueError:
        typer.echo(f"pitchbot: unknown role {role!r}; choose organizer, reviewer or official", err=True)
        raise typer.Exit(2) from None
    if chosen is Role.OFFICIAL and not department:
        typer.echo("pitchbot: an official needs --department NAME", err=True)
        raise typer.Exit(2)
    settings = _settings()
    ctx = _context(settings)
    with ctx.db.session() as session:
        users.grant_role(session, channel, external_id, chosen, ctx.clock.now(), department=department)
    typer.echo(f"granted {chosen.value} to {channel} user {external_id}" + (f" ({department})" if department else ""))


def _month(value: str | None, settings: Settings) -> Month:
    if value is None:
        now = settings.fake_now or dt.datetime.now(dt.UTC)
        return Month.of(now, settings.tz)
    try:
        return Month.parse(value)
    except ValueError as err:
        typer.echo(f"pitchbot: {err}", err=True)
        raise typer.Exit(2) from None


@cycle_app.command("show")
def cycle_show(month: Annotated[str | None, typer.Option(help="YYYY-MM; default this month")] = None) -> None:
    """Print a month's dates (Asia/Seoul)."""
    from bot.database import Database
    from bot.models import CycleOverride
    from bot.services import cycles

    settings = _settings()
    chosen = _month(month, settings)
    db = Database(settings.database_url)
    db.upgrade()
    with db.session() as session:
        cycle = cycles.get_cycle(session, chosen, settings)
        override = session.get(CycleOverride, str(chosen))
    tz = settings.tz
    typer.echo(f"Pitching Day cycle {chosen} ({settings.timezone})")
    names = {
        "window_opens_at": "applications open",
        "window_closes_at": "applications close",
        "selection_at": "selection",
        "pitch_at": "Pitching Day",
        "decision_deadline_at": "purchase decisions due",
    }
    for name, title in names.items():
        when = getattr(cycle, name).astimezone(tz)
        notes = []
        overridden = override is not None and getattr(override, name) is not None
        if overridden:
            notes.append("set by an organizer")
        holiday = calendar.holiday_name(when.date())
        if holiday:
            notes.append(f"holiday: {holiday}")
        if name == "pitch_at" and not overridden and when.date() != calendar.last_friday(chosen):
            notes.append(f"last Friday {calendar.last_friday(chosen)} is a holiday")
        suffix = f"  ({'; '.join(notes)})" if notes else ""
        typer.echo(f"  {title:<24} {when:%Y-%m-%d %a %H:%M}{suffix}")


@cycle_app.command("set")
def cycle_set(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    opens: Annotated[dt.datetime | None, typer.Option(help="window opens, local time")] = None,
    closes: Annotated[dt.datetime | None, typer.Option(help="window closes, local time")] = None,
    selection: Annotated[dt.datetime | None, typer.Option(help="selection, local time")] = None,
    pitch: Annotated[dt.datetime | None, typer.Option(help="Pitching Day, local time")] = None,
    deadline: Annotated[dt.datetime | None, typer.Option(help="purchase decision deadline, local time")] = None,
) -> None:
    """Override dates of a month; times without an offset are read in the configured time zone."""
    from bot.errors import Refused
    from bot.services import cycles

    settings = _settings()
    given = {
        "window_opens_at": opens, "window_closes_at": closes, "selection_at": selection, "pitch_at": pitch,
        "decision_deadline_at": deadline,
    }  # fmt: skip
    changes = {k: (v if v.tzinfo else v.replace(tzinfo=settings.tz)) for k, v in given.items() if v is not None}
    if not changes:
        typer.echo("pitchbot: give at least one of --opens --closes --selection --pitch --deadline", err=True)
        raise typer.Exit(2)
    ctx = _context(settings)
    with ctx.db.session() as session:
        try:
            cycles.set_override(session, _month(month, settings), changes, settings, ctx.clock.now())
        except Refused as err:
            typer.echo(f"pitchbot: refused: {err.code} {err.params}", err=True)
            raise typer.Exit(1) from None
    cycle_show(month)


@app.command("tick")
def tick_command(now: Annotated[dt.datetime | None, typer.Option(help="ISO time; default the clock")] = None) -> None:
    """Advance the calendar once: phases and due reminders into the outbox (for cron, or to catch up)."""
    from bot.context import AppContext
    from scheduler.ticker import run_tick

    settings = _settings()
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=settings.tz)
    from bot.clock import ManualClock

    ctx = AppContext.create(settings, clock=ManualClock(now) if now is not None else None)
    ctx.db.upgrade()
    report = run_tick(ctx)
    for month, old, new in report.transitions:
        typer.echo(f"{month}: {old} -> {new}")
    typer.echo(f"planned {report.planned} message(s)")
    if report.next_due is not None:
        typer.echo(f"next reminder due {report.next_due.astimezone(settings.tz):%Y-%m-%d %H:%M}")


@app.command()
def dispatch(
    once: Annotated[bool, typer.Option(help="send what is due, then stop")] = False,
    worker: Annotated[str | None, typer.Option(help="a name for this dispatcher in the outbox rows")] = None,
) -> None:
    """Send due outbox messages (a separate process, when the bot runs with PITCHBOT_RUN_DISPATCHER=false)."""
    settings = _settings()
    if settings.telegram_token is None:
        typer.echo("pitchbot: PITCHBOT_TELEGRAM_TOKEN is not set", err=True)
        raise typer.Exit(2)
    _logging()
    asyncio.run(_dispatch(settings, once, worker))


async def _dispatch(settings: Settings, once: bool, worker: str | None) -> None:
    import signal

    from telegram import Bot

    from bot.context import AppContext
    from handlers.telegram.sender import TelegramSender
    from scheduler.dispatcher import Dispatcher

    assert settings.telegram_token is not None
    ctx = AppContext.create(settings)
    ctx.db.upgrade()
    api = settings.telegram_api_url
    async with Bot(
        settings.telegram_token.get_secret_value(), base_url=f"{api}/bot", base_file_url=f"{api}/file/bot"
    ) as tg:
        dispatcher = Dispatcher(ctx, {"telegram": TelegramSender(tg, settings.send_timeout)}, worker)
        if once:
            await dispatcher.drain(timeout=3600)
        else:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await dispatcher.run(stop)
    typer.echo(f"sent {dispatcher.sent}, failed {dispatcher.failed}")


expo_app = typer.Typer(help="The Testbed Expo", no_args_is_help=True)
app.add_typer(expo_app, name="expo")


@expo_app.command("load")
def expo_load(path: Annotated[str, typer.Argument(help="a YAML file, e.g. samples/expo-2019.yaml")]) -> None:
    """Load (or replace) the expo's details and programme from a YAML file."""
    from bot.context import AppContext
    from bot.errors import Refused
    from bot.services import expo

    settings = _settings()
    ctx = AppContext.create(settings)
    ctx.db.upgrade()
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as err:
        typer.echo(f"pitchbot: cannot read {path}: {err.strerror}", err=True)
        raise typer.Exit(2) from None
    with ctx.db.session() as session:
        try:
            loaded = expo.load(session, text, ctx.clock.now())
        except Refused as err:
            typer.echo(f"pitchbot: {path}: {err.params.get('detail', err.code)}", err=True)
            raise typer.Exit(1) from None
    typer.echo(
        f"loaded {loaded.name_en}: {loaded.starts_on} – {loaded.ends_on}, {len(loaded.programme)} programme items"
    )


@app.command("export")
def export_command(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    out: Annotated[str | None, typer.Option(help="file to write; default pitchday-YYYY-MM.xlsx")] = None,
    lang: Annotated[str, typer.Option(help="ko or en")] = "ko",
) -> None:
    """Write a month's records (applications, scores, selection, programme, decisions) to an Excel file."""
    from bot.context import AppContext
    from bot.services import export

    settings = _settings()
    chosen = _month(month, settings)
    ctx = AppContext.create(settings)
    ctx.db.upgrade()
    with ctx.db.session() as session:
        content = export.workbook(session, str(chosen), settings, ctx.clock.now(), ctx.texts, lang)
    path = out or f"pitchday-{chosen}.xlsx"
    with open(path, "wb") as fh:
        fh.write(content)
    typer.echo(f"wrote {path} ({len(content):,} bytes)")


@app.command()
def simulate(month: Annotated[str | None, typer.Option(help="YYYY-MM; default this month")] = None) -> None:
    """A sandbox month with no Telegram token: simulated companies talk to the real handlers."""
    from bot.sandbox.simulation import run_simulation

    settings = _settings()
    from bot import logs

    logs.setup(logging.WARNING, "%(levelname)s %(name)s: %(message)s")
    received = asyncio.run(run_simulation(settings, typer.echo, _month(month, settings) if month else None))
    if received == 0:
        sys.exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""The ``pitchbot`` command line: run the bot, migrate, grant roles, show the calendar, simulate."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from bot import calendar
from bot.calendar import Month
from bot.clock import clock_for
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from bot.database import Database
    from bot.runtime import Runtime


class _PlainUsageErrors(TyperGroup):
    """A wrong option, a missing argument, an unknown command: one plain line on stderr starting
    ``pitchbot:``, in the operator's words, with the right usage, and exit code 2 (no box, no markup)."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
        standalone_mode: bool = True, **extra: Any,
    ) -> Any:  # fmt: skip
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            if not standalone_mode:
                raise
            typer.echo("pitchbot: stopped", err=True)
            sys.exit(1)
        except typer.TyperException as err:  # the command line's own errors (exit code 2 for usage errors)
            if not standalone_mode:
                raise
            if type(err).__name__ == "NoArgsIsHelpError":  # a bare group: its help, as before
                typer.echo(err.format_message(), err=True)
            else:
                typer.echo(f"pitchbot: {usage_error(err)}", err=True)
            sys.exit(err.exit_code)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


def _named(ctx: Any) -> str:
    """The command as the operator typed it after ``pitchbot`` (``cycle set``), whatever the program's name."""
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name)
        ctx = ctx.parent
    return " ".join(reversed(names))


# What an option's value looks like, as the README writes it.
_VALUES = {"--month": "YYYY-MM", "--lang": "ko|en", "--out": "FILE", "--department": "NAME", "--now": "ISO",
           "--worker": "NAME", **dict.fromkeys(("--opens", "--closes", "--selection", "--pitch", "--deadline"),
                                               '"YYYY-MM-DD HH:MM"')}  # fmt: skip


def _usage(ctx: Any) -> str:
    """``pitchbot grant ROLE USER_ID [--department NAME]``: the arguments by name, the options spelled out."""
    words = [" ".join(["pitchbot", _named(ctx)]).strip()]
    for param in ctx.command.params:
        if getattr(param, "hidden", False) or "--help" in getattr(param, "opts", []):
            continue
        if param.param_type_name == "argument":
            words.append(_argument(param))
            continue
        option = max(param.opts, key=len)
        shown = option if param.is_flag else f"{option} {_VALUES.get(option, str(param.name).upper())}"
        words.append(shown if param.required else f"[{shown}]")
    commands = getattr(ctx.command, "commands", None)
    if commands:
        words.append(f"COMMAND (one of: {', '.join(commands)})")
    return " ".join(words)


def _argument(param: Any) -> str:
    return {"PATH": "FILE"}.get(str(param.name).upper(), str(param.name).upper())


def usage_error(err: Exception) -> str:
    """A usage error in the operator's words, then the usage of the command they meant."""
    kind, ctx = type(err).__name__, getattr(err, "ctx", None)
    command = _named(ctx) or "pitchbot"
    param = getattr(err, "param", None)
    name = ""
    if param is not None:
        name = _argument(param) if param.param_type_name == "argument" else max(param.opts, key=len)
    message = err.format_message() if hasattr(err, "format_message") else str(err)
    option = str(getattr(err, "option_name", ""))
    if kind == "MissingParameter" and param is not None:
        said = f"{command} needs {name}" + (f" {_VALUES[name]}" if name in _VALUES else "")
    elif kind == "NoSuchOption":
        near = sorted(getattr(err, "possibilities", None) or [])
        said = f"{command} has no option {option}" + (f"; did you mean {' or '.join(near)}?" if near else "")
    elif kind == "BadOptionUsage" and "requires an argument" in message:
        said = f"{option} needs a value" + (f": {_VALUES[option]}" if option in _VALUES else "")
    elif kind == "BadOptionUsage" and "does not take a value" in message:
        said = f"{option} is a switch; it takes no value"
    elif kind == "BadParameter" and param is not None:
        said = f"{name}: {getattr(err, 'message', message)}"
    elif message.startswith("No such command"):
        typed = message.split("'")[1] if message.count("'") >= 2 else ""
        near = message.split("Did you mean ")[-1].strip("'?. ") if "Did you mean" in message else ""
        said = (f"{_named(ctx)} has no command" if _named(ctx) else "no command") + f" {typed!r}"
        said += f"; did you mean {near}?" if near else ""
    elif message.startswith("Got unexpected extra argument"):
        extra = message[message.rfind("(") + 1 : message.rfind(")")]
        said = f"{command}: too many words: {extra!r} (put a value with spaces in quotes)"
    else:
        said = message.rstrip(".")
    if ctx is None:
        return said
    return f"{said}{'' if said.endswith('?') else '.'} Usage: {_usage(ctx)}"


app = typer.Typer(
    help="Testbed Seoul Pitching Day bot", no_args_is_help=True, add_completion=False, cls=_PlainUsageErrors
)
db_app = typer.Typer(help="Database commands", no_args_is_help=True)
cycle_app = typer.Typer(help="The monthly calendar", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cycle_app, name="cycle")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as err:
        _fail(str(err))


def _fail(message: str) -> NoReturn:
    """A bad input or setting: one line for the organizer on stderr, and exit code 2."""
    typer.echo(f"pitchbot: {message}", err=True)
    raise typer.Exit(2)


def _upgraded(db: Database) -> Database:
    """The database, migrated; one that cannot be opened is a bad PITCHBOT_DATABASE_URL, said in one line."""
    from sqlalchemy.exc import DBAPIError

    where = db.engine.url.render_as_string(hide_password=True)
    try:
        db.upgrade()
    except DBAPIError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig is not None else type(err).__name__
        _fail(f"cannot open the database {where} (PITCHBOT_DATABASE_URL): {reason}")
    except OSError as err:  # a SQLite file's folder that cannot be written (its migration lock lies beside it)
        _fail(f"cannot open the database {where} (PITCHBOT_DATABASE_URL): {err.strerror or err}")
    return db


def _logging() -> None:
    from bot import logs

    logs.setup(logging.INFO)


@app.command()
def run(
    webhook: Annotated[
        bool, typer.Option(help="receive Telegram's updates on this process's HTTP server instead of polling")
    ] = False,
) -> None:
    """Run the bot: long polling, or a webhook server (several processes may share one database: PostgreSQL,
    or one SQLite file with every process on the same machine; see README, "Running several workers")."""
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
    from bot.runtime import Runtime
    from handlers.telegram.connect import BotApiRefused

    runtime = Runtime(settings)
    _upgraded(runtime.ctx.db)
    _logging()
    try:
        asyncio.run(runtime.serve(webhook=webhook))
    except BotApiRefused as err:
        _fail(str(err))


def _context(settings: Settings):  # type: ignore[no-untyped-def]
    """The database (migrated) and the clock, which honours PITCHBOT_FAKE_NOW like the bot's."""
    from bot.context import AppContext

    ctx = AppContext.create(settings)
    _upgraded(ctx.db)
    return ctx


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration."""
    from bot.database import Database

    settings = _settings()
    _upgraded(Database(settings.database_url))
    typer.echo("database is up to date")


def _role_and_person(role: str, user_id: str):  # type: ignore[no-untyped-def]
    """(role, channel, external id) from the words of `grant` and `revoke`, or one line and exit 2."""
    from bot.models import Role
    from bot.settings import organizer_key

    try:
        channel, _, external_id = organizer_key(user_id).partition(":")
    except ValueError as err:
        _fail(str(err))
    try:
        return Role(role), channel, external_id
    except ValueError:
        _fail(f"unknown role {role!r}; choose organizer, reviewer or official")


def _department(session, value: str | None):  # type: ignore[no-untyped-def]
    """The entry of the department list a --department names (its name or its number), or one line and exit 2."""
    from bot.services import departments

    if value is None:
        return None
    if not value.strip():
        _fail("--department is blank; give a buying department of the list (pitchbot departments list)")
    found = departments.find(session, value)
    if found is not None:
        return found
    near = [d.name for d in departments.search(session, value, active_only=False)][:5]
    hint = f"; did you mean {', '.join(near)}?" if near else "; `pitchbot departments list` shows the list"
    _fail(f"no department {value.strip()!r} in the list{hint}")


@app.command()
def grant(
    role: Annotated[str, typer.Argument(help="organizer, reviewer or official")],
    user_id: Annotated[str, typer.Argument(help="a Telegram user id, or kakao:<botUserKey>")],
    department: Annotated[
        str | None, typer.Option(help="officials: the buying department, by its name or number in the list")
    ] = None,
) -> None:
    """Give a person a role, on Telegram (a user id) or KakaoTalk (kakao:<botUserKey>)."""
    from bot.models import Role
    from bot.services import users

    chosen, channel, external_id = _role_and_person(role, user_id)
    if department is not None and not department.strip():
        _fail("--department is blank; give a buying department of the list (pitchbot departments list)")
    if chosen is Role.OFFICIAL and department is None:
        _fail("an official needs --department NAME (an entry of `pitchbot departments list`)")
    settings = _settings()
    ctx = _context(settings)
    with ctx.db.session() as session:
        entry = _department(session, department) if chosen is Role.OFFICIAL else None
        if entry is not None and not entry.active:
            _fail(f"the department {entry.name!r} is inactive; make it active in the list first")
        users.grant_role(session, channel, external_id, chosen, ctx.clock.now(),
                         department_id=entry.id if entry is not None else None)  # fmt: skip
        note = f" ({entry.name})" if entry is not None else ""
    typer.echo(f"granted {chosen.value} to {channel} user {external_id}{note}")


@app.command()
def revoke(
    role: Annotated[str, typer.Argument(help="organizer, reviewer or official")],
    user_id: Annotated[str, typer.Argument(help="a Telegram user id, or kakao:<botUserKey>")],
    department: Annotated[
        str | None, typer.Option(help="the buying department (officials); if given, it must be the granted one")
    ] = None,
) -> None:
    """Take back a role given with `grant` (PITCHBOT_ORGANIZER_IDS are the settings', not granted)."""
    from bot.models import Department
    from bot.services import users

    chosen, channel, external_id = _role_and_person(role, user_id)
    settings = _settings()
    ctx = _context(settings)
    with ctx.db.session() as session:
        entry = _department(session, department)
        granted = users.find_grant(session, channel, external_id, chosen)
        if granted is None:
            _fail(f"{channel} user {external_id} has no {chosen.value} role granted")
        had = session.get(Department, granted.department_id) if granted.department_id else None
        if entry is not None and granted.department_id != entry.id:
            _fail(f"{channel} user {external_id} is {chosen.value} for {had.name if had else 'no department'}, "
                  f"not {entry.name}")  # fmt: skip
        users.revoke_role(session, channel, external_id, chosen, ctx.clock.now(), ctx.settings)
        note = f" ({had.name})" if had else ""
    typer.echo(f"revoked {chosen.value} from {channel} user {external_id}{note}")


def _month(value: str | None, settings: Settings) -> Month:
    if value is None:
        return Month.of(clock_for(settings.fake_now).now(), settings.tz)
    try:
        return Month.parse(value)
    except ValueError as err:
        _fail(str(err))


@cycle_app.command("show")
def cycle_show(month: Annotated[str | None, typer.Option(help="YYYY-MM; default this month")] = None) -> None:
    """Print a month's dates (Asia/Seoul)."""
    from bot.database import Database
    from bot.models import CycleOverride
    from bot.services import cycles

    settings = _settings()
    chosen = _month(month, settings)
    db = _upgraded(Database(settings.database_url))
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
    opens: Annotated[str | None, typer.Option(help="window opens, local time (YYYY-MM-DD HH:MM)")] = None,
    closes: Annotated[str | None, typer.Option(help="window closes, local time")] = None,
    selection: Annotated[str | None, typer.Option(help="selection, local time")] = None,
    pitch: Annotated[str | None, typer.Option(help="Pitching Day, local time")] = None,
    deadline: Annotated[str | None, typer.Option(help="purchase decision deadline, local time")] = None,
) -> None:
    """Override dates of a month; times without an offset are read in the configured time zone."""
    from bot.errors import Refused
    from bot.services import cycles

    settings = _settings()
    given = {
        "window_opens_at": opens, "window_closes_at": closes, "selection_at": selection, "pitch_at": pitch,
        "decision_deadline_at": deadline,
    }  # fmt: skip
    changes = {k: _local(_OPTIONS[k], v, settings) for k, v in given.items() if v is not None}
    if not changes:
        _fail("give at least one of --opens --closes --selection --pitch --deadline")
    chosen = _month(month, settings)
    ctx = _context(settings)
    with ctx.db.session() as session:
        try:
            cycles.set_override(session, chosen, changes, settings, ctx.clock.now())
        except Refused as err:
            names = [n.strip() for n in str(err.params.get("names", "")).split(",")]
            if err.code == "cycle_month":
                wrong = ", ".join(f"{_OPTIONS[n]} {changes[n].astimezone(settings.tz):%Y-%m-%d %H:%M}" for n in names)
                _fail(f"{wrong}: not in {chosen}; every date but --deadline falls in the cycle's month")
            if err.code == "cycle_order":
                _fail(_out_of_order(cycles.get_cycle(session, chosen, settings), changes, names, settings))
            _fail(f"refused: {err.code} {err.params}")
    cycle_show(month)


_OPTIONS = {"window_opens_at": "--opens", "window_closes_at": "--closes", "selection_at": "--selection",
            "pitch_at": "--pitch", "decision_deadline_at": "--deadline"}  # fmt: skip


def _out_of_order(
    current: calendar.Cycle, changes: dict[str, dt.datetime], names: list[str], settings: Settings
) -> str:
    """Which pairs of dates the refused changes would put out of order, both named as options."""
    wanted = calendar.with_overrides(current, changes, settings.tz)
    order = list(calendar.OVERRIDABLE)

    def shown(name: str) -> str:
        return f"{_OPTIONS[name]} {getattr(wanted, name).astimezone(settings.tz):%Y-%m-%d %H:%M}"

    pairs = [f"{shown(order[order.index(n) - 1])} is not before {shown(n)}" for n in names if n in order[1:]]
    return "; ".join(pairs) + " (the order: --opens < --closes < --selection < --pitch < --deadline)"


def _local(option: str, value: str, settings: Settings) -> dt.datetime:
    """A date and time typed by an organizer; without an offset it is the configured time zone's."""
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        _fail(f"{option} {value}: not a date and time that exists; write YYYY-MM-DD HH:MM")
    return when if when.tzinfo else when.replace(tzinfo=settings.tz)


TICK_NOW_SLACK = dt.timedelta(hours=1)


@app.command("tick")
def tick_command(now: Annotated[dt.datetime | None, typer.Option(help="ISO time; default the clock")] = None) -> None:
    """Advance the calendar once: phases and due reminders into the outbox (for cron, or to catch up)."""
    from sqlalchemy.exc import DBAPIError

    from bot.context import AppContext
    from scheduler.ticker import Ticker, run_tick

    settings = _settings()
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=settings.tz)
    from bot.clock import ManualClock, clock_for

    if now is not None:
        # A tick at another time acts for real as of then: a year's typo ahead purged everyone's personal data
        # and released held results; one behind moved months back a phase.
        clock = clock_for(settings.fake_now).now()
        if abs(now - clock) > TICK_NOW_SLACK:
            _fail(f"--now {now.astimezone(settings.tz):%Y-%m-%d %H:%M} is more than an hour from the clock "
                  f"({clock.astimezone(settings.tz):%Y-%m-%d %H:%M}); a rehearsal sets PITCHBOT_FAKE_NOW on a "
                  "copy of the database")  # fmt: skip
    ctx = AppContext.create(settings, clock=ManualClock(now) if now is not None else None)
    _upgraded(ctx.db)
    # The same lock as the bot's own ticker: two ticks at once would plan the same work twice.
    ticker = Ticker(ctx)
    if not ticker.holds_lock():
        typer.echo("another process ticks the calendar (a bot with PITCHBOT_RUN_SCHEDULER): nothing done")
        return
    try:
        report = run_tick(ctx)
    except DBAPIError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig is not None else type(err).__name__
        _fail(f"the tick did not complete, nothing of it was kept: {reason}")
    finally:
        ticker.release()
    for month, old, new in report.transitions:
        typer.echo(f"{month}: {old} -> {new}")
    typer.echo(f"planned {report.planned} message(s)")
    if report.pruned:
        typer.echo(f"deleted {report.pruned} outbox row(s) older than {settings.outbox_retention_days} days")
    if report.next_due is not None:
        typer.echo(f"next reminder due {report.next_due.astimezone(settings.tz):%Y-%m-%d %H:%M}")


@app.command()
def dispatch(
    once: Annotated[bool, typer.Option(help="send what is due, then stop")] = False,
    worker: Annotated[str | None, typer.Option(help="a name for this dispatcher in the outbox rows")] = None,
) -> None:
    """Send due outbox messages (a separate process, when the bot runs with PITCHBOT_RUN_DISPATCHER=false)."""
    settings = _settings()
    if settings.telegram_token is None and not settings.kakao_bot_id:
        _fail("neither PITCHBOT_TELEGRAM_TOKEN nor PITCHBOT_KAKAO_BOT_ID is set: there is no channel to send on")
    from bot.runtime import Runtime
    from handlers.telegram.connect import BotApiRefused

    runtime = Runtime(settings)
    _upgraded(runtime.ctx.db)
    _logging()
    try:
        asyncio.run(_dispatch(runtime, once, worker))
    except BotApiRefused as err:
        _fail(str(err))


async def _dispatch(runtime: Runtime, once: bool, worker: str | None) -> None:
    """Every channel's sender, as the bot's own dispatcher has them: a row of a channel without one failed."""
    import signal

    from bot.runtime import settle
    from scheduler.dispatcher import Dispatcher

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    senders = runtime.senders()
    try:
        if runtime.telegram is not None and not await runtime.telegram.connect(stop):
            return
        if once:  # Ctrl-C interrupts a single run as any command's
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        dispatcher = Dispatcher(runtime.ctx, senders, worker)
        if once:
            await dispatcher.drain(timeout=3600)
        else:
            settle()
            await dispatcher.run(stop)
    finally:
        await runtime.close_senders()
    typer.echo(f"sent {dispatcher.sent}, failed {dispatcher.failed}")


expo_app = typer.Typer(help="The Testbed Expo", no_args_is_help=True)
app.add_typer(expo_app, name="expo")


def _read_text(path: str) -> str:
    """A file organizers wrote, as UTF-8 text, or one line saying why not and exit 2."""
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as err:
        _fail(f"cannot read {path}: {err.strerror}")
    except UnicodeDecodeError as err:
        _fail(f"{path} is not UTF-8 text (byte {err.start + 1}); save it as UTF-8 and load it again")


departments_app = typer.Typer(help="The list of buying departments (수요처 목록)", no_args_is_help=True)
app.add_typer(departments_app, name="departments")


@departments_app.command("load")
def departments_load(
    path: Annotated[str, typer.Argument(help="a CSV (name,kind,active) or YAML file, e.g. samples/departments.csv")],
) -> None:
    """Add the file's departments to the list and bring the kind and active flag of those already there into
    line with it; loading the same file twice changes nothing. A file with a bad row loads nothing."""
    from bot.services import departments

    settings = _settings()
    text = _read_text(path)
    try:
        rows = departments.parse(text, path)
    except departments.FileError as err:
        for problem in err.problems:
            typer.echo(f"pitchbot: {path}: {problem}", err=True)
        raise typer.Exit(2) from None
    ctx = _context(settings)
    with ctx.db.session() as session:
        loaded = departments.load(session, rows, ctx.clock.now())
    typer.echo(f"departments: {len(loaded.added)} added, {len(loaded.changed)} changed, {loaded.unchanged} unchanged; "
               f"{loaded.total} in the list")  # fmt: skip


@departments_app.command("list")
def departments_list(
    all_entries: Annotated[bool, typer.Option("--all", help="inactive departments too")] = False,
) -> None:
    """The list: number, kind, name, officials in the bot, and whether it is active."""
    from bot.services import departments

    settings = _settings()
    ctx = _context(settings)
    with ctx.db.session() as session:
        staffed = departments.with_officials(session)
        rows = departments.listing(session, active_only=not all_entries)
        for d in rows:
            flag = "" if d.active else "  (inactive)"
            typer.echo(f"{d.id:>4}  {d.kind:<9}  {d.name}  [officials: {staffed.get(d.id or 0, 0)}]{flag}")
        if not rows:
            typer.echo("no departments; load a list with `pitchbot departments load FILE`")


@expo_app.command("load")
def expo_load(path: Annotated[str, typer.Argument(help="a YAML file, e.g. samples/expo-2019.yaml")]) -> None:
    """Load (or replace) the expo's details and programme from a YAML file."""
    from bot.context import AppContext
    from bot.errors import Refused
    from bot.services import expo

    settings = _settings()
    text = _read_text(path)
    ctx = AppContext.create(settings)
    _upgraded(ctx.db)
    with ctx.db.session() as session:
        try:
            loaded = expo.load(session, text, ctx.clock.now())
        except Refused as err:
            _fail(f"{path}: {ctx.texts.render_plain('en', err.template, **err.params)}")
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
    from bot.services.users import LANGUAGES

    settings = _settings()
    chosen = _month(month, settings)
    if lang not in LANGUAGES:
        _fail(f"--lang {lang}: choose {' or '.join(LANGUAGES)}")
    if out is not None and not out.strip():
        _fail("--out is empty; give a file name, or leave --out out for pitchday-YYYY-MM.xlsx here")
    path = Path(out or f"pitchday-{chosen}.xlsx")
    if path.is_dir():
        _fail(f"--out {path} is a folder; give a file name, e.g. {path / f'pitchday-{chosen}.xlsx'}")
    if not path.parent.is_dir():
        _fail(f"--out {path}: the folder {path.parent} does not exist")
    ctx = AppContext.create(settings)
    _upgraded(ctx.db)
    with ctx.db.session() as session:
        content = export.workbook(session, str(chosen), settings, ctx.clock.now(), ctx.texts, lang)
    try:
        path.write_bytes(content)
    except OSError as err:
        _fail(f"cannot write {path}: {err.strerror}")
    typer.echo(f"wrote {path} ({len(content):,} bytes)")


@app.command("reviewers")
def reviewers_command(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    lang: Annotated[str, typer.Option(help="ko or en")] = "ko",
) -> None:
    """Each reviewer's month: assigned and scored, mean and spread against the committee, how early they
    finished (what organizers see with /reviewers)."""
    from bot.context import AppContext
    from bot.services import reviewer_stats
    from bot.services.users import LANGUAGES

    settings = _settings()
    chosen = _month(month, settings)
    if lang not in LANGUAGES:
        _fail(f"--lang {lang}: choose {' or '.join(LANGUAGES)}")
    ctx = AppContext.create(settings)
    _upgraded(ctx.db)
    with ctx.db.session() as session:
        stats = reviewer_stats.committee_stats(session, str(chosen), settings)
    typer.echo(ctx.texts.render_plain(lang, "reviewers/stats", stats=stats))


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

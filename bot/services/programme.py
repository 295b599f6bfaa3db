"""The Pitching Day programme: venue, start, slot length and running order, published in one step.
Each selected company gets its slot and an .ics file; the officials of the responsible departments get
the line-up and the pitch decks. A change after publishing is announced to those it affects."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot import ics
from bot.calendar import Month, cycle_data
from bot.database import insert_new
from bot.errors import Refused
from bot.models import Application, ApplicationStatus, Company, Programme, Selection, User
from bot.services import audit, cycles, decisions, departments, outbox, policies
from bot.services.outbox import Planned
from bot.services.users import language_of
from bot.settings import Settings
from bot.texts import Texts, texts_for


@dataclass(frozen=True)
class Slot:
    position: int
    application: Application
    company: Company
    starts_at: dt.datetime
    ends_at: dt.datetime


def _organizer(session: Session, user: User, settings: Settings) -> None:
    policies.require(session, user, policies.organizer, settings)


def _selected(session: Session, month: str) -> list[Application]:
    selection = session.get(Selection, month)
    order = (selection.decided.get("selected", []) if selection else []) or []
    apps = session.exec(
        select(Application).where(Application.month == month, Application.status == ApplicationStatus.SELECTED.value)
    ).all()
    rank = {app_id: i for i, app_id in enumerate(order)}
    return sorted(apps, key=lambda a: (rank.get(a.id or 0, len(rank)), a.id))


def get(session: Session, month: str, settings: Settings, now: dt.datetime) -> Programme:
    """The month's programme, made from the defaults on first use; its order follows the selection."""
    programme = session.get(Programme, month)
    if programme is None:
        cycle = cycles.get_cycle(session, Month.parse(month), settings)
        # Two organizers opening /programme for the first time at once: one row, the other's is read.
        insert_new(session, Programme(month=month, venue=settings.pitch_venue, starts_at=cycle.pitch_at,
                                      slot_minutes=settings.pitch_slot_minutes, updated_at=now))  # fmt: skip
        programme = session.get(Programme, month)
        assert programme is not None
    selected = [a.id for a in _selected(session, month)]
    order = [i for i in programme.order if i in selected] + [i for i in selected if i not in programme.order]
    if order != programme.order:
        programme.order = order
        session.add(programme)
        session.flush()
    return programme


def board(
    session: Session, organizer: User, month: str, settings: Settings, now: dt.datetime
) -> tuple[Programme, list[Slot]]:
    """The programme and its slots, for organizers."""
    _organizer(session, organizer, settings)
    programme = get(session, month, settings, now)
    return programme, slots(session, programme)


def slots(session: Session, programme: Programme) -> list[Slot]:
    out = []
    length = dt.timedelta(minutes=programme.slot_minutes)
    for position, app_id in enumerate(programme.order):
        app = session.get(Application, app_id)
        if app is None:
            continue
        company = session.get(Company, app.company_id)
        assert company is not None
        start = programme.starts_at + position * length
        out.append(Slot(position + 1, app, company, start, start + length))
    return out


def _edit(session: Session, organizer: User, month: str, settings: Settings, now: dt.datetime) -> Programme:
    _organizer(session, organizer, settings)
    programme = get(session, month, settings, now)
    if not programme.order:
        raise Refused("programme_empty")
    return programme


def set_venue(
    session: Session, organizer: User, month: str, venue: str, settings: Settings, now: dt.datetime
) -> Programme:
    venue = venue.strip()
    if not 2 <= len(venue) <= 300:
        raise Refused("venue_invalid")
    programme = _edit(session, organizer, month, settings, now)
    programme.venue, programme.updated_at = venue, now
    return _save(session, organizer, programme, now, venue=venue)


def set_start(
    session: Session, organizer: User, month: str, starts_at: dt.datetime, settings: Settings, now: dt.datetime
) -> Programme:
    programme = _edit(session, organizer, month, settings, now)
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    if starts_at.astimezone(settings.tz).date() != cycle.pitch_at.astimezone(settings.tz).date():
        raise Refused("start_other_day", pitch_at=cycle.pitch_at)
    programme.starts_at, programme.updated_at = starts_at.astimezone(dt.UTC), now
    return _save(session, organizer, programme, now, starts_at=starts_at.isoformat())


def set_slot_minutes(
    session: Session, organizer: User, month: str, minutes: int, settings: Settings, now: dt.datetime
) -> Programme:
    if not 5 <= minutes <= 120:
        raise Refused("slot_invalid")
    programme = _edit(session, organizer, month, settings, now)
    programme.slot_minutes, programme.updated_at = minutes, now
    return _save(session, organizer, programme, now, slot_minutes=minutes)


def move_up(
    session: Session, organizer: User, month: str, app_id: int, settings: Settings, now: dt.datetime
) -> Programme:
    programme = _edit(session, organizer, month, settings, now)
    order = list(programme.order)
    if app_id not in order:
        raise Refused("not_found")
    i = order.index(app_id)
    if i > 0:
        order[i - 1], order[i] = order[i], order[i - 1]
    programme.order, programme.updated_at = order, now
    return _save(session, organizer, programme, now, order=order)


def _save(session: Session, organizer: User, programme: Programme, now: dt.datetime, **change: object) -> Programme:
    session.add(programme)
    audit.record(session, now, organizer.id, "programme_edited", "programme", programme.month, **change)
    return programme


def publish(session: Session, organizer: User, month: str, settings: Settings, now: dt.datetime) -> int:
    """Publishes (or republishes) the programme; returns how many messages were planned."""
    return _publish(session, _edit(session, organizer, month, settings, now), settings, now, organizer.id)


def follow_pitch(session: Session, month: str, moved: dt.timedelta, settings: Settings, now: dt.datetime,
                 actor_id: int | None = None) -> int:  # fmt: skip
    """Pitching Day moved (``pitchbot cycle set --pitch``): the programme's start moves with it, and one
    published already is published again, so every company hears its new slot and every department the new
    line-up (the board, the slots, the .ics and the eve reminder had stayed on the old day). Returns how
    many messages were planned."""
    programme = session.get(Programme, month)
    if programme is None or not moved:
        return 0
    programme.starts_at, programme.updated_at = programme.starts_at + moved, now
    session.add(programme)
    audit.record(session, now, actor_id, "programme_edited", "programme", month,
                 starts_at=programme.starts_at.isoformat(), reason="pitch_moved")  # fmt: skip
    if not programme.version or not programme.order:
        return 0
    try:
        return _publish(session, programme, settings, now, actor_id)
    except Refused:  # nobody left to tell
        return 0


def _publish(session: Session, programme: Programme, settings: Settings, now: dt.datetime, actor_id: int | None) -> int:
    month = programme.month
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    data = cycle_data(cycle)
    decisions.ensure_rows(session, month, now)
    current = slots(session, programme)
    snapshot = {"venue": programme.venue, "minutes": programme.slot_minutes,
                "slots": {str(s.application.id): s.starts_at.isoformat() for s in current}}  # fmt: skip
    before = programme.published or {}
    version = programme.version + 1
    lineup = [
        {
            "position": s.position,
            "company": s.company.name,
            "product_name": s.application.product_name,
            "summary": s.application.summary,
            "starts_at": s.starts_at,
            "departments": departments.names(session, decisions.responsible(s.application)),
        }
        for s in current
    ]
    planned: list[Planned] = []
    words = texts_for(settings.templates_dir, settings.timezone)
    for s in current:
        was = before.get("slots", {}).get(str(s.application.id))
        same_length = before.get("minutes", programme.slot_minutes) == programme.slot_minutes
        if was == s.starts_at.isoformat() and before.get("venue") == programme.venue and same_length:
            continue  # unchanged for this company
        owner = session.get(User, s.company.owner_user_id)
        if owner is None:
            continue
        lang = language_of(owner)
        calendar_file = ics.event(
            uid=f"pitchday-{month}-{s.application.id}@testbed.seoul", start=s.starts_at, end=s.ends_at,
            summary=words.label(lang, "ics.slot_summary", product=s.application.product_name),
            location=words.place(lang, programme.venue), stamp=now, sequence=version,
            description=words.label(lang, "ics.slot_description", receipt_no=s.application.receipt_no,
                                    position=s.position),
        )  # fmt: skip
        planned.append(Planned(
            owner, "programme/slot",
            {"cycle": data, "venue": programme.venue, "position": s.position, "starts_at": s.starts_at,
             "ends_at": s.ends_at, "product_name": s.application.product_name, "changed": was is not None},
            f"{month}:slot:v{version}:{s.application.id}", now,
            {"filename": f"pitchday-{month}.ics", "content": calendar_file},
        ))  # fmt: skip
    if before != snapshot and current:
        ends_at = current[-1].ends_at
        for person, mine in _officials(session, current):
            with_deck = [s for s in mine if s.application.deck_file_id or s.application.deck_path]
            planned.append(Planned(
                person, "programme/lineup",
                {"cycle": data, "venue": programme.venue, "lineup": lineup, "changed": bool(before),
                 "mine": [s.position for s in mine], "starts_at": programme.starts_at, "ends_at": ends_at,
                 "decks": [s.position for s in with_deck]},
                f"{month}:lineup:v{version}", now,
                {"filename": f"pitchday-{month}.ics",
                 "content": _official_ics(programme, mine, ends_at, person, now, version, settings.tz, words)},
            ))  # fmt: skip
            for s in with_deck:
                planned.append(Planned(
                    person, "programme/deck", {"position": s.position, "company": s.company.name,
                                               "product_name": s.application.product_name},
                    f"{month}:deck:v{version}:{s.application.id}", now, _deck(s.application),
                ))  # fmt: skip
    if not planned and programme.version:
        raise Refused("programme_unchanged")
    programme.version, programme.published_at, programme.published = version, now, snapshot
    session.add(programme)
    audit.record(session, now, actor_id, "programme_published", "programme", month, version=version,
                 messages=len(planned))  # fmt: skip
    return outbox.plan(session, planned, now)


def _officials(session: Session, current: list[Slot]) -> list[tuple[User, list[Slot]]]:
    """Each official of a responsible department, with the companies their department(s) will judge."""
    out = []
    for person in decisions.officials_for(session, [s.application for s in current]):
        theirs = decisions.official_departments(session, person)
        mine = [s for s in current if theirs & set(decisions.responsible(s.application))]
        out.append((person, mine))
    return out


def _official_ics(
    programme: Programme,
    mine: list[Slot],
    ends_at: dt.datetime,
    person: User,
    now: dt.datetime,
    version: int,
    tz: dt.tzinfo,
    words: Texts,
) -> str:
    """The whole Pitching Day as one event for an official, with their department's companies noted; in the
    official's language, as it is read in a calendar app, outside the chat."""
    lang = language_of(person)
    title = words.label(lang, "ics.lineup_summary", month=words.month_name(lang, programme.month))
    lines = [
        words.label(lang, "ics.lineup_line", position=s.position, start=s.starts_at.astimezone(tz).strftime("%H:%M"),
                    company=s.company.name, product=s.application.product_name)
        for s in mine
    ]  # fmt: skip
    return ics.event(
        uid=f"pitchday-{programme.month}-officials@testbed.seoul", start=programme.starts_at, end=ends_at,
        summary=title, location=words.place(lang, programme.venue), stamp=now, sequence=version,
        description="\n".join([words.label(lang, "ics.lineup_heading"), *lines]) if lines else title,
    )  # fmt: skip


def unstaffed(session: Session, month: str) -> list[departments.Entry]:
    """The selected companies' responsible departments that have no official to receive the line-up."""
    wanted = list(dict.fromkeys(d for app in _selected(session, month) for d in decisions.responsible(app)))
    return departments.without_official(session, wanted)


def month_with_selection(session: Session, now: dt.datetime) -> str | None:
    """The latest month whose selection has been released."""
    row = session.exec(
        select(Selection).where(col(Selection.released_at).is_not(None)).order_by(col(Selection.month).desc())
    ).first()
    return row.month if row else None


def _deck(app: Application) -> dict[str, object]:
    """A pitch deck as any channel can send it: Telegram by its file id, the others from the file kept."""
    document: dict[str, object] = {"filename": app.deck_file_name or "deck.pdf", "mime": "application/pdf"}
    if app.deck_file_id:
        document["file_id"] = app.deck_file_id
    if app.deck_path:
        document["path"] = app.deck_path
    return document


@dataclass(frozen=True)
class Told:
    """A company's slot as the last published programme gave it (what the company was told)."""

    position: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    venue: str


def published_slot(session: Session, month: str, app_id: int) -> Told | None:
    """The application's slot in the published programme; None while it is not published (or not in it)."""
    programme = session.get(Programme, month)
    if programme is None or not programme.version:
        return None
    starts = {k: dt.datetime.fromisoformat(v) for k, v in programme.published.get("slots", {}).items()}
    if str(app_id) not in starts:
        return None
    start = starts[str(app_id)]
    length = dt.timedelta(minutes=int(programme.published.get("minutes", programme.slot_minutes)))
    position = sorted(starts.values()).index(start) + 1
    return Told(position, start, start + length, str(programme.published.get("venue", programme.venue)))


def is_published(session: Session, month: str) -> bool:
    programme = session.get(Programme, month)
    return programme is not None and programme.version > 0


def venue_of(session: Session, month: str, settings: Settings) -> str | None:
    """The venue to name to companies: the published one, else the one being prepared, else the default."""
    programme = session.get(Programme, month)
    if programme is not None and programme.version:
        venue = str(programme.published.get("venue", programme.venue))
    else:
        venue = programme.venue if programme is not None else settings.pitch_venue
    return venue.strip() or None


def replace_in_order(
    session: Session, organizer: User, month: str, old_id: int, new_id: int | None, settings: Settings,
    now: dt.datetime,
) -> int:  # fmt: skip
    """A withdrawn company's place in the running order goes to the one promoted (or closes up). A
    published programme is published again, so that only those it affects hear of it (with a new .ics).
    Returns how many messages were planned."""
    _organizer(session, organizer, settings)
    programme = session.get(Programme, month)
    if programme is not None and old_id in programme.order:
        order = list(programme.order)
        if new_id is None:
            order.remove(old_id)
        else:
            order[order.index(old_id)] = new_id
        programme.order, programme.updated_at = order, now
        _save(session, organizer, programme, now, order=order)
    return republish(session, organizer, month, settings, now)


def republish(session: Session, organizer: User, month: str, settings: Settings, now: dt.datetime) -> int:
    """Publishes the programme again if it was published, after the selection changed: a company newly
    selected is put last in the running order and gets its slot and .ics, the departments the new line-up
    (an .ics of a higher SEQUENCE); those whose slot did not change hear nothing. Returns how many messages
    were planned (0 when it was never published, or nobody is left to tell)."""
    programme = session.get(Programme, month)
    if programme is None or not programme.version:
        return 0
    try:
        return publish(session, organizer, month, settings, now)
    except Refused:  # nobody left to tell (the last company withdrew)
        return 0

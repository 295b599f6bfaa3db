"""Links to files end with their time: the tick deletes them, and the files made for them alone (an .ics, an
export holding every applicant's contacts), never a deck they pointed to; withdrawing consent takes a
person's links and their files at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import select

from bot.clock import ManualClock
from bot.database import Database
from bot.models import FileLink, User
from bot.services import files, privacy, users
from bot.settings import Settings
from scheduler import tick as ticking


def person(db: Database, key: str, now: dt.datetime) -> User:
    with db.session() as session:
        found = users.ensure_user(session, "kakao", key, now)
        session.expunge(found)
        return found


def links(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.exec(select(FileLink.token)).all())


def test_the_tick_deletes_expired_links_and_the_files_made_for_them(
    db: Database, settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    now = clock.now()
    someone = person(db, "k-1", now)
    deck = tmp_path / "deck.pdf"  # kept with an application, not the link's own
    deck.write_bytes(b"%PDF-1.4")
    with db.session() as session:
        export = files.offer_download(session, someone, "pitchday-2026-12.xlsx", settings, now, content=b"contacts")
        shared = files.offer_download(session, someone, "deck.pdf", settings, now, path=deck)
        later = files.offer_download(session, someone, "more.xlsx", settings, now + dt.timedelta(hours=1), content=b"x")
        tokens = (export.token, shared.token, later.token)
        made = [Path(str(export.path)), Path(str(later.path))]
    assert all(p.exists() for p in made)

    with db.session() as session:  # not yet: nothing goes
        ticking.tick(session, now + dt.timedelta(hours=settings.file_link_hours - 1), settings)
    assert links(db) == set(tokens)
    with db.session() as session:
        report = ticking.tick(session, now + dt.timedelta(hours=settings.file_link_hours), settings)
    assert report.links == 2 and links(db) == {tokens[2]}
    assert not made[0].exists() and made[1].exists() and deck.exists()  # the deck stays with its application


def test_withdrawing_consent_deletes_the_persons_links_and_their_files(
    db: Database, settings: Settings, clock: ManualClock
) -> None:
    now = clock.now()
    leaving, staying = person(db, "k-2", now), person(db, "k-3", now)
    with db.session() as session:
        mine = files.offer_download(session, leaving, "mydata.txt", settings, now, content=b"my data")
        theirs = files.offer_download(session, staying, "mydata.txt", settings, now, content=b"their data")
        paths = Path(str(mine.path)), Path(str(theirs.path))
    with db.session() as session:
        privacy.withdraw(session, session.get(User, leaving.id), settings, now)  # type: ignore[arg-type]
    assert links(db) == {theirs.token}
    assert not paths[0].exists() and paths[1].exists()

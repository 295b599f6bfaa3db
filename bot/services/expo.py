"""The Testbed Expo (테스트베드 박람회) as structured data: loaded from YAML, shown to anyone, announced."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import Session, col, select

from bot import ics
from bot.errors import Refused
from bot.models import Expo, User
from bot.services import audit, policies
from bot.settings import Settings

# The 2019 expo in the file's format: organizers without a current file get it to edit.
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "expo-2019.yaml"

KINDS = ("exhibition", "consultations", "citizen_zone", "forum", "talk_concert", "debate", "pitching_contest",
         "opening", "closing")  # fmt: skip
_TEXT_FIELDS = ("name", "name_en", "venue", "venue_en", "booking", "booking_en")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse(text: str) -> dict[str, Any]:
    """Validates an expo YAML file; a problem raises ``Refused("expo_invalid", problem=..., ...)``, which the
    template ``errors/expo_invalid`` words in the organizer's language (the file's own keys named as written)."""

    def bad(problem: str, **params: Any) -> Refused:
        return Refused("expo_invalid", problem=problem, **params)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise bad("yaml", line=mark.line + 1 if mark else None) from None
    except ValueError:
        # PyYAML reads 2019-02-30 as a date and lets datetime's ValueError through.
        raise bad("no_such_date") from None
    if not isinstance(data, dict):
        raise bad("not_mapping")
    for name in _TEXT_FIELDS:
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise bad("missing", field=name)
    dates = data.get("dates")
    if not (isinstance(dates, list) and 1 <= len(dates) <= 7 and all(isinstance(d, dt.date) for d in dates)):
        raise bad("dates")
    if sorted(dates) != dates:
        raise bad("dates_order")
    items = data.get("programme")
    if not isinstance(items, list) or not items:
        raise bad("missing", field="programme")
    programme = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise bad("item_mapping", item=i)
        day, start, end, kind = item.get("day"), str(item.get("start", "")), str(item.get("end", "")), item.get("kind")
        if not isinstance(day, int) or not 1 <= day <= len(dates):
            raise bad("item_day", item=i, days=len(dates))
        if not _TIME.match(start) or not _TIME.match(end) or end <= start:
            raise bad("item_time", item=i)
        if kind not in KINDS:
            raise bad("item_kind", item=i, kinds=", ".join(KINDS))
        if not str(item.get("title", "")).strip() or not str(item.get("title_en", "")).strip():
            raise bad("item_title", item=i)
        programme.append({"day": day, "start": start, "end": end, "kind": kind, "title": str(item["title"]).strip(),
                          "title_en": str(item["title_en"]).strip()})  # fmt: skip
    programme.sort(key=lambda p: (p["day"], p["start"], p["end"]))
    return {**{n: data[n].strip() for n in _TEXT_FIELDS}, "starts_on": dates[0], "ends_on": dates[-1],
            "dates": dates, "programme": programme}  # fmt: skip


def load(
    session: Session, text: str, now: dt.datetime, by: User | None = None, settings: Settings | None = None
) -> Expo:
    """The Expo as ``text`` describes it, replacing the one before. ``by``: the organizer in a chat, whose role
    is checked again here (it may have been taken away since the form opened); None: the operator's CLI."""
    if by is not None:
        if settings is None:
            raise ValueError("a person's load needs the settings to check their role")
        policies.require(session, by, policies.organizer, settings)
    data = parse(text)
    expo = current(session) or Expo(**{n: data[n] for n in _TEXT_FIELDS}, starts_on=data["starts_on"],
                                    ends_on=data["ends_on"], updated_at=now)  # fmt: skip
    for name in _TEXT_FIELDS:
        setattr(expo, name, data[name])
    expo.starts_on, expo.ends_on, expo.programme = data["starts_on"], data["ends_on"], data["programme"]
    expo.updated_by, expo.updated_at = (by.id if by else None), now
    session.add(expo)
    session.flush()
    audit.record(session, now, by.id if by else None, "expo_loaded", "expo", expo.id, name=expo.name,
                 items=len(expo.programme))  # fmt: skip
    return expo


def current(session: Session) -> Expo | None:
    return session.exec(select(Expo).order_by(col(Expo.id).desc())).first()


def is_over(expo: Expo, now: dt.datetime, tz: ZoneInfo) -> bool:
    """The expo's last day is behind us (in Seoul): announcing it needs the organizer's explicit yes."""
    return expo.ends_on < now.astimezone(tz).date()


def over_params(expo: Expo, now: dt.datetime, tz: ZoneInfo) -> dict[str, Any]:
    return {"name": expo.name, "starts_on": expo.starts_on, "ends_on": expo.ends_on, "today": now.astimezone(tz).date()}


def to_yaml(expo: Expo) -> str:
    dates = [expo.starts_on + dt.timedelta(days=i) for i in range((expo.ends_on - expo.starts_on).days + 1)]
    data = {**{n: getattr(expo, n) for n in _TEXT_FIELDS}, "dates": dates, "programme": expo.programme}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)


def data(expo: Expo) -> dict[str, Any]:
    """Template data: the texts, and the programme by day."""
    days: dict[int, list[dict[str, Any]]] = {}
    for item in expo.programme:
        days.setdefault(int(item["day"]), []).append(item)
    return {
        **{n: getattr(expo, n) for n in _TEXT_FIELDS},
        "starts_on": expo.starts_on,
        "ends_on": expo.ends_on,
        "days": [
            {"day": d, "date": expo.starts_on + dt.timedelta(days=d - 1), "entries": items}
            for d, items in sorted(days.items())
        ],
    }


def calendar_file(expo: Expo, tz: ZoneInfo, lang: str, now: dt.datetime) -> str:
    events = []
    for i, item in enumerate(expo.programme):
        day = expo.starts_on + dt.timedelta(days=int(item["day"]) - 1)
        start = dt.datetime.combine(day, dt.time.fromisoformat(item["start"]), tzinfo=tz)
        end = dt.datetime.combine(day, dt.time.fromisoformat(item["end"]), tzinfo=tz)
        events.append({
            "uid": f"expo-{expo.id}-{i}@testbed.seoul", "start": start, "end": end,
            "summary": item["title_en"] if lang == "en" else item["title"],
            "location": expo.venue_en if lang == "en" else expo.venue,
            "description": expo.name_en if lang == "en" else expo.name,
        })  # fmt: skip
    return ics.calendar(events, now)

"""The monthly Pitching Day calendar, as pure functions of a month, a time zone and stored overrides.

Rules (DOMAIN.md, with the gaps the plan leaves filled in):
- application window: the 1st 00:00 to the 10th 23:59:59, local time;
- selection day: the 15th; on a weekend or public holiday, the next business day, because results
  are announced to companies on a working day;
- Pitching Day: the last Friday; on a public holiday, the business day before it (Chuseok 2023);
- purchase decision deadline: the end of the 15th day after the Pitching Day.
The window's close and the decision deadline are the last second that still counts: 23:59:59.9 is in time.
A date moved off its rule (a holiday, a weekend, an organizer's choice) is kept in ``Cycle.moves``, so that
messages can say why. Korean public holidays come from the ``holidays`` package.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WINDOW_FIRST_DAY = 1
WINDOW_LAST_DAY = 10
SELECTION_DAY = 15
DECISION_DAYS = 15

# "2026-12" as the bot writes it; typed also "2026-1", "2026.12", "2026. 12.", "2026/12", "2026년 12월",
# "26년 12월" or "202612".
_MONTH_RE = re.compile(r"^(\d{4}|\d{2}(?=\s*년))\s*(?:[-./]|년)?\s*(\d{1,2})\s*[월.]?$")
# 「12월」: a month without its year, read as the one nearest the day it is typed.
_MONTH_ALONE = re.compile(r"^(\d{1,2})\s*월$")


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 2999:
            raise ValueError(f"not a month: {self.year:04d}-{self.month:02d}")

    @classmethod
    def parse(cls, text: str) -> Month:
        m = _MONTH_RE.match(text.strip())
        if not m:
            raise ValueError(f"expected YYYY-MM, got {text!r}")
        year = int(m.group(1))
        return cls(year + 2000 if year < 100 else year, int(m.group(2)))

    @classmethod
    def typed(cls, text: str, today: Month) -> Month | None:
        """A month as people type it, 「12월」 too (the one of that name nearest ``today``), or None."""
        found = cls.parse_or_none(text)
        alone = _MONTH_ALONE.match(text.strip()) if found is None else None
        if alone is None or not 1 <= int(alone.group(1)) <= 12:
            return found
        candidates = [cls(today.year + d, int(alone.group(1))) for d in (-1, 0, 1)]
        return min(candidates, key=lambda m: abs((m.year - today.year) * 12 + m.month - today.month))

    @classmethod
    def parse_or_none(cls, text: str | None) -> Month | None:
        """A month typed or carried in a button, or None when it is not one."""
        try:
            return cls.parse(text or "")
        except ValueError:
            return None

    @classmethod
    def of(cls, when: dt.datetime, tz: ZoneInfo) -> Month:
        local = when.astimezone(tz)
        return cls(local.year, local.month)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Move:
    """Why Pitching Day or selection day is not on its rule's day: ``what`` is "pitch" or "selection";
    ``reason`` "holiday" (named in both languages), "weekend" or "organizer"."""

    what: str
    nominal: dt.date  # the rule's day: the last Friday, the 15th
    actual: dt.date
    reason: str
    holiday_ko: str = ""
    holiday_en: str = ""


_LAST_SECOND = dt.timedelta(seconds=1)


def _through(last_second: dt.datetime, now: dt.datetime) -> bool:
    """``now`` is within the second that ``last_second`` names (or before it)."""
    return now < last_second + _LAST_SECOND


@dataclass(frozen=True)
class Cycle:
    """One month's dates, aware UTC. ``window_closes_at`` and ``decision_deadline_at`` are last seconds that
    still count."""

    month: Month
    window_opens_at: dt.datetime
    window_closes_at: dt.datetime
    selection_at: dt.datetime
    pitch_at: dt.datetime
    decision_deadline_at: dt.datetime
    moves: tuple[Move, ...] = ()

    def window_open(self, now: dt.datetime) -> bool:
        return self.window_opens_at <= now and _through(self.window_closes_at, now)

    def decision_deadline_passed(self, now: dt.datetime) -> bool:
        return not _through(self.decision_deadline_at, now)

    def decisions_open(self, now: dt.datetime) -> bool:
        return self.pitch_at <= now and _through(self.decision_deadline_at, now)


@lru_cache(maxsize=64)
def _kr_holidays(year: int, language: str = "ko") -> holidays.HolidayBase:
    return holidays.country_holidays("KR", years=year, language=language)


def is_holiday(day: dt.date) -> bool:
    return day in _kr_holidays(day.year)


def holiday_name(day: dt.date, lang: str = "ko") -> str | None:
    """The holiday's name in Korean (the official one, 기독탄신일) or English; several are joined."""
    name = _kr_holidays(day.year, "en_US" if lang == "en" else "ko").get(day)
    return ", ".join(name.split("; ")) if name else None


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def last_friday(month: Month) -> dt.date:
    last = _last_day(month)
    return last - dt.timedelta(days=(last.weekday() - 4) % 7)


def pitch_date(month: Month) -> dt.date:
    day = last_friday(month)
    while not is_business_day(day):
        day -= dt.timedelta(days=1)
    return day


def selection_date(month: Month) -> dt.date:
    day = dt.date(month.year, month.month, SELECTION_DAY)
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def decision_deadline_date(pitch_day: dt.date) -> dt.date:
    return pitch_day + dt.timedelta(days=DECISION_DAYS)


def _last_day(month: Month) -> dt.date:
    nxt = month.next()
    return dt.date(nxt.year, nxt.month, 1) - dt.timedelta(days=1)


def _at(day: dt.date, clock: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, clock, tzinfo=tz).astimezone(dt.UTC)


_END_OF_DAY = dt.time(23, 59, 59)


@lru_cache(maxsize=256)
def default_cycle(
    month: Month,
    tz: ZoneInfo,
    selection_time: dt.time = dt.time(10, 0),
    pitch_time: dt.time = dt.time(14, 0),
) -> Cycle:
    """The month's dates by the rules alone: a pure function of its arguments, kept (a turn asks for two or
    three months, each a walk through the holiday calendar; the Cycle is frozen)."""
    pitch_day = pitch_date(month)
    cycle = Cycle(
        month=month,
        window_opens_at=_at(dt.date(month.year, month.month, WINDOW_FIRST_DAY), dt.time(0, 0), tz),
        window_closes_at=_at(dt.date(month.year, month.month, WINDOW_LAST_DAY), _END_OF_DAY, tz),
        selection_at=_at(selection_date(month), selection_time, tz),
        pitch_at=_at(pitch_day, pitch_time, tz),
        decision_deadline_at=_at(decision_deadline_date(pitch_day), _END_OF_DAY, tz),
    )
    return replace(cycle, moves=_moves(cycle, tz, set()))


def _moves(cycle: Cycle, tz: ZoneInfo, overridden: set[str]) -> tuple[Move, ...]:
    """Pitching Day and selection day where they are not on their rule's day, and why."""
    out = []
    for what, field, nominal, by_rule in (
        ("selection", "selection_at", dt.date(cycle.month.year, cycle.month.month, SELECTION_DAY),
         selection_date(cycle.month)),
        ("pitch", "pitch_at", last_friday(cycle.month), pitch_date(cycle.month)),
    ):  # fmt: skip
        actual = getattr(cycle, field).astimezone(tz).date()
        if actual == nominal:
            continue
        if field in overridden and actual != by_rule:
            out.append(Move(what, nominal, actual, "organizer"))
        else:
            reason = "holiday" if is_holiday(nominal) else "weekend"
            names = (_names(nominal, actual, "ko"), _names(nominal, actual, "en"))
            out.append(Move(what, nominal, actual, reason, *names))
    return tuple(out)


def _names(nominal: dt.date, actual: dt.date, lang: str) -> str:
    """The holidays from the rule's day up to (not including) the day chosen, each named once, in the
    calendar's order (a day moved back named them backwards: 「설날 다음날, 설날, 설날 전날」)."""
    step = dt.timedelta(days=1 if actual > nominal else -1)
    days: list[dt.date] = []
    day = nominal
    while day != actual:
        days.append(day)
        day += step
    names: list[str] = []
    for day in sorted(days):
        for name in (holiday_name(day, lang) or "").split(", "):
            if name and name not in names:
                names.append(name)
    return ", ".join(names)


OVERRIDABLE = ("window_opens_at", "window_closes_at", "selection_at", "pitch_at", "decision_deadline_at")


def with_overrides(cycle: Cycle, overrides: dict[str, dt.datetime | None], tz: ZoneInfo) -> Cycle:
    """Apply an organizer's stored dates. Moving the Pitching Day moves the default deadline with it."""
    given = {k: v for k, v in overrides.items() if k in OVERRIDABLE and v is not None}
    if "pitch_at" in given and "decision_deadline_at" not in given:
        pitch_day = given["pitch_at"].astimezone(tz).date()
        given["decision_deadline_at"] = _at(decision_deadline_date(pitch_day), _END_OF_DAY, tz)
    moved = replace(cycle, **{k: v.astimezone(dt.UTC) for k, v in given.items()})
    return replace(moved, moves=_moves(moved, tz, set(given)))


def validate_order(cycle: Cycle) -> list[str]:
    """Names of the dates that break the sequence window → selection → pitch → deadline."""
    order = [getattr(cycle, name) for name in OVERRIDABLE]
    return [OVERRIDABLE[i + 1] for i in range(len(order) - 1) if not order[i] < order[i + 1]]


PHASES = ("upcoming", "open", "review", "selected", "decisions", "done")


def phase(cycle: Cycle, now: dt.datetime) -> str:
    """upcoming → open (applications) → review (until selection) → selected (until Pitching Day)
    → decisions (until the deadline) → done."""
    if now < cycle.window_opens_at:
        return "upcoming"
    if cycle.window_open(now):
        return "open"
    if now < cycle.selection_at:
        return "review"
    if now < cycle.pitch_at:
        return "selected"
    if not cycle.decision_deadline_passed(now):
        return "decisions"
    return "done"


def local_at(day: dt.date, clock: dt.time, tz: ZoneInfo) -> dt.datetime:
    return _at(day, clock, tz)


def cycle_data(cycle: Cycle) -> dict[str, object]:
    """A cycle as template data that survives the outbox's JSON."""
    return {
        "month": str(cycle.month),
        "year": cycle.month.year,
        "month_no": cycle.month.month,
        **{name: getattr(cycle, name) for name in OVERRIDABLE},
        "moves": [asdict(m) for m in cycle.moves],
    }

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import calendar
from bot.calendar import Month

SEOUL = ZoneInfo("Asia/Seoul")
months = st.builds(Month, st.integers(2019, 2040), st.integers(1, 12))


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(SEOUL)


def test_chuseok_2023_moves_pitching_day_to_the_business_day_before() -> None:
    # 28–30 September 2023 was Chuseok; the last Friday, the 29th, was a holiday, and so was the 28th.
    assert calendar.last_friday(Month(2023, 9)) == dt.date(2023, 9, 29)
    assert calendar.pitch_date(Month(2023, 9)) == dt.date(2023, 9, 27)


def test_christmas_2026() -> None:
    assert calendar.pitch_date(Month(2026, 12)) == dt.date(2026, 12, 24)
    assert calendar.decision_deadline_date(dt.date(2026, 12, 24)) == dt.date(2027, 1, 8)


def test_selection_on_a_weekend_moves_to_monday() -> None:
    assert calendar.selection_date(Month(2026, 11)) == dt.date(2026, 11, 16)  # the 15th is a Sunday
    assert calendar.selection_date(Month(2026, 12)) == dt.date(2026, 12, 15)


def test_default_cycle_times_in_seoul() -> None:
    cycle = calendar.default_cycle(Month(2026, 12), SEOUL)
    assert local(cycle.window_opens_at) == dt.datetime(2026, 12, 1, 0, 0, tzinfo=SEOUL)
    assert local(cycle.window_closes_at) == dt.datetime(2026, 12, 10, 23, 59, 59, tzinfo=SEOUL)
    assert local(cycle.selection_at) == dt.datetime(2026, 12, 15, 10, 0, tzinfo=SEOUL)
    assert local(cycle.pitch_at) == dt.datetime(2026, 12, 24, 14, 0, tzinfo=SEOUL)
    assert cycle.window_opens_at.tzinfo == dt.UTC
    assert cycle.window_open(dt.datetime(2026, 12, 10, 23, 59, 59, 500000, tzinfo=SEOUL))
    assert not cycle.window_open(dt.datetime(2026, 12, 11, 0, 0, tzinfo=SEOUL))
    assert not cycle.window_open(dt.datetime(2026, 11, 30, 23, 59, 59, tzinfo=SEOUL))


@given(months)
def test_pitching_day_is_the_last_business_friday_or_just_before(month: Month) -> None:
    day = calendar.pitch_date(month)
    friday = calendar.last_friday(month)
    assert (day.year, day.month) == (month.year, month.month)
    assert calendar.is_business_day(day)
    assert day <= friday and (friday - day).days < 7
    assert friday.weekday() == 4 and (friday + dt.timedelta(days=7)).month != month.month
    # Every day between the chosen day and the last Friday is a day off.
    for offset in range(1, (friday - day).days + 1):
        assert not calendar.is_business_day(day + dt.timedelta(days=offset))


@given(months)
def test_the_month_runs_in_order(month: Month) -> None:
    cycle = calendar.default_cycle(month, SEOUL)
    assert calendar.validate_order(cycle) == []
    assert local(cycle.window_opens_at).day == 1 and local(cycle.window_closes_at).day == 10
    selection = local(cycle.selection_at).date()
    assert selection.day >= 15 and calendar.is_business_day(selection)
    assert local(cycle.decision_deadline_at).date() - local(cycle.pitch_at).date() == dt.timedelta(days=15)


@given(months, st.integers(-3, 3))
def test_moving_pitching_day_moves_the_deadline(month: Month, shift: int) -> None:
    cycle = calendar.default_cycle(month, SEOUL)
    moved = cycle.pitch_at + dt.timedelta(days=shift)
    changed = calendar.with_overrides(cycle, {"pitch_at": moved}, SEOUL)
    assert changed.pitch_at == moved
    assert local(changed.decision_deadline_at).date() == local(moved).date() + dt.timedelta(days=15)
    assert changed.window_opens_at == cycle.window_opens_at


def test_validate_order_names_the_broken_dates() -> None:
    cycle = calendar.default_cycle(Month(2026, 12), SEOUL)
    broken = calendar.with_overrides(cycle, {"selection_at": cycle.window_opens_at}, SEOUL)
    assert calendar.validate_order(broken) == ["selection_at"]


@pytest.mark.parametrize("text", ["2026-13", "26-01", "2026-123", "2026--01", "12월", ""])
def test_month_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        Month.parse(text)


@pytest.mark.parametrize("text", ["2026-01", "2026-1", "2026/01", "2026.1", "2026년 1월", "2026년1월", "202601"])
def test_month_parse_takes_what_people_type(text: str) -> None:
    assert Month.parse(text) == Month(2026, 1)


def test_month_arithmetic() -> None:
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2027, 1).previous() == Month(2026, 12)
    assert str(Month.parse("2027-03")) == "2027-03"


def test_moves_say_why_a_date_left_its_rule() -> None:
    december = calendar.default_cycle(Month(2026, 12), SEOUL)
    [move] = december.moves
    assert (move.what, move.nominal, move.actual, move.reason) == ("pitch", dt.date(2026, 12, 25),
                                                                   dt.date(2026, 12, 24), "holiday")  # fmt: skip
    assert (move.holiday_ko, move.holiday_en) == ("기독탄신일", "Christmas Day")
    [chuseok] = calendar.default_cycle(Month(2023, 9), SEOUL).moves
    assert chuseok.actual == dt.date(2023, 9, 27) and "추석" in chuseok.holiday_ko  # the 28th too
    [weekend] = calendar.default_cycle(Month(2026, 11), SEOUL).moves  # the 15th is a Sunday
    assert (weekend.what, weekend.reason, weekend.holiday_ko) == ("selection", "weekend", "")
    assert calendar.default_cycle(Month(2027, 3), SEOUL).moves == ()
    [_, lunar] = calendar.default_cycle(Month(2028, 1), SEOUL).moves  # the last Friday is 설날 다음날
    assert lunar.actual == dt.date(2028, 1, 25) and lunar.holiday_ko == "설날 전날, 설날, 설날 다음날"  # in order
    moved = calendar.with_overrides(december, {"pitch_at": dt.datetime(2026, 12, 23, 15, 0, tzinfo=SEOUL)}, SEOUL)
    assert [(m.what, m.actual, m.reason) for m in moved.moves] == [("pitch", dt.date(2026, 12, 23), "organizer")]
    same_day = calendar.with_overrides(december, {"pitch_at": dt.datetime(2026, 12, 24, 16, 0, tzinfo=SEOUL)}, SEOUL)
    assert [m.reason for m in same_day.moves] == ["holiday"]  # a later hour on the holiday's day: still the holiday
    assert calendar.cycle_data(december)["moves"] == [
        {"what": "pitch", "nominal": dt.date(2026, 12, 25), "actual": dt.date(2026, 12, 24), "reason": "holiday",
         "holiday_ko": "기독탄신일", "holiday_en": "Christmas Day"}
    ]  # fmt: skip


@given(months)
def test_every_month_explains_exactly_the_dates_off_their_rule(month: Month) -> None:
    cycle = calendar.default_cycle(month, SEOUL)
    moved = {m.what for m in cycle.moves}
    assert ("pitch" in moved) == (local(cycle.pitch_at).date() != calendar.last_friday(month))
    assert ("selection" in moved) == (local(cycle.selection_at).day != calendar.SELECTION_DAY)


def test_the_deadline_and_the_window_close_count_to_their_last_second() -> None:
    cycle = calendar.default_cycle(Month(2026, 12), SEOUL)
    last = dt.datetime(2027, 1, 8, 23, 59, 59, 999999, tzinfo=SEOUL)
    assert cycle.decisions_open(last) and not cycle.decision_deadline_passed(last)
    assert calendar.phase(cycle, last) == "decisions"
    assert cycle.decision_deadline_passed(last + dt.timedelta(microseconds=1))
    assert calendar.phase(cycle, last + dt.timedelta(microseconds=1)) == "done"
    closes = dt.datetime(2026, 12, 10, 23, 59, 59, 999999, tzinfo=SEOUL)
    assert cycle.window_open(closes) and not cycle.window_open(closes + dt.timedelta(microseconds=1))
    assert not cycle.decisions_open(cycle.pitch_at - dt.timedelta(microseconds=1)) and cycle.decisions_open(
        cycle.pitch_at
    )

"""Where a result stands (thirds of the scored applications) and until when it may be appealed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.services import results
from bot.settings import Settings

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.mark.parametrize(
    ("position", "rated", "band"),
    [(1, 1, "top"), (1, 3, "top"), (2, 3, "middle"), (3, 3, "bottom"), (4, 10, "top"), (5, 10, "middle"),
     (7, 10, "middle"), (8, 10, "bottom"), (2, 2, "middle"), (0, 5, "unrated"), (1, 0, "unrated")],
)  # fmt: skip
def test_bands_are_thirds_of_the_scored_applications(position: int, rated: int, band: str) -> None:
    assert results.band(position, rated) == band


def test_the_appeal_period_ends_at_midnight_seoul_time_days_after_release(settings: Settings) -> None:
    released = dt.datetime(2026, 12, 28, 23, 30, tzinfo=SEOUL)  # late in the evening, near the year's end
    pitch = dt.datetime(2027, 1, 29, 14, 0, tzinfo=SEOUL)
    week = settings.model_copy(update={"appeal_days": 7})
    deadline = results.appeal_deadline(released.astimezone(dt.UTC), pitch, week)
    assert deadline.tzinfo is dt.UTC
    assert deadline.astimezone(SEOUL) == dt.datetime(2027, 1, 4, 23, 59, 59, tzinfo=SEOUL)


def test_the_appeal_period_ends_the_day_before_pitching_day_at_the_latest(settings: Settings) -> None:
    """September 2027: results on Friday the 17th (추석 moved selection day), Pitching Day Friday the 24th, the
    seventh day: appeals closed that evening, after the pitch, when an accepted one could no longer add the
    company."""
    from bot.calendar import Month, default_cycle

    cycle = default_cycle(Month(2027, 9), SEOUL)
    released = cycle.selection_at
    week = settings.model_copy(update={"appeal_days": 7})
    deadline = results.appeal_deadline(released, cycle.pitch_at, week)
    assert deadline.astimezone(SEOUL) == dt.datetime.combine(
        cycle.pitch_at.astimezone(SEOUL).date() - dt.timedelta(days=1), dt.time(23, 59, 59), tzinfo=SEOUL
    )
    assert deadline < cycle.pitch_at

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
    deadline = results.appeal_deadline(released.astimezone(dt.UTC), settings.model_copy(update={"appeal_days": 7}))
    assert deadline.tzinfo is dt.UTC
    assert deadline.astimezone(SEOUL) == dt.datetime(2027, 1, 4, 23, 59, 59, tzinfo=SEOUL)

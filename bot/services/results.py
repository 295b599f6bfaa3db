"""What a company's result says about itself: its weighted total, where it stands, the mean of each
criterion and the committee's overall opinion (for a company not selected, the reasons). Built on the
ranking's public result (``review.ranking``), so a change to how scores are aggregated flows in here.

Never which reviewer gave which score: only means over the committee leave this module."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlmodel import Session, select

from bot.models import Review, Selection
from bot.services import review
from bot.services.review import Ranked
from bot.settings import Settings

# An outbox message's buttons, as [label key, token] pairs (the dispatcher renders the labels).
BUTTONS = "_buttons"
BANDS = ("top", "middle", "bottom", "unrated")  # 상위 1/3, 중위, 하위, 평가 없음


@dataclass(frozen=True)
class Explained:
    ranked: Ranked
    band: str
    criteria: dict[str, float | None]  # the committee's mean per criterion over complete reviews

    def data(self) -> dict[str, object]:
        """What a result message carries (JSON-safe, for the outbox)."""
        r = self.ranked
        return {"total": r.mean, "reviews": r.reviews, "band": self.band,
                "criteria": [[c, self.criteria.get(c)] for c in review.CRITERIA]}  # fmt: skip


def band(position: int, rated: int) -> str:
    """Thirds of the applications that were scored, best first (the first third rounded up)."""
    if position < 1 or rated < 1:
        return "unrated"
    if position <= math.ceil(rated / 3):
        return "top"
    if position <= math.ceil(2 * rated / 3):
        return "middle"
    return "bottom"


def explain(
    session: Session, month: str, settings: Settings, confirmed: Selection | None = None
) -> dict[int, Explained]:
    """Each ranked application's band and criterion means; ``confirmed``: as ``review.ranking`` takes it."""
    ranked = review.ranking(session, month, settings, confirmed)
    rated = [r for r in ranked if r.mean is not None]
    position = {r.application.id: i for i, r in enumerate(rated, 1)}
    # The criterion means are the ranking's own (over the reviews it counted, trimmed or not), so a company
    # reads the same figures the committee ranked it by.
    return {
        r.application.id or 0: Explained(
            r, band(position.get(r.application.id, 0), len(rated)),
            {c: r.criterion_means.get(c) for c in review.CRITERIA},
        )
        for r in ranked
    }  # fmt: skip


def comments_for(session: Session, application_id: int) -> list[str]:
    """The reviewers' comments on one application, for the organizer writing the committee's opinion:
    in no particular reviewer's name, and without their scores."""
    rows = session.exec(
        select(Review.comment).where(
            Review.application_id == application_id,
            Review.conflict == False,  # noqa: E712
        )
    ).all()
    return sorted(c for c in rows if c)


def appeal_deadline(released_at: dt.datetime, pitch_at: dt.datetime, settings: Settings) -> dt.datetime:
    """Appeals are open until the end of the ``APPEAL_DAYS``-th day after the results went out (local), and
    at the latest until the end of the day before Pitching Day: an appeal accepted after it cannot add the
    company any more (in September 2027 the seventh day was Pitching Day itself, while the result message
    invited appeals until its evening)."""
    day = released_at.astimezone(settings.tz).date() + dt.timedelta(days=settings.appeal_days)
    eve = pitch_at.astimezone(settings.tz).date() - dt.timedelta(days=1)
    last = max(min(day, eve), released_at.astimezone(settings.tz).date())
    return dt.datetime.combine(last, dt.time(23, 59, 59), tzinfo=settings.tz).astimezone(dt.UTC)


def appeal_button(application_id: int) -> list[str]:
    """The result message's one-tap appeal (an entry token of the appeal flow: valid on an old message)."""
    return ["appeal_buttons.file", f"e:appeal:new:{application_id}"]

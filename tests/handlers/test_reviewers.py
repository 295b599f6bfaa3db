"""Reviewer statistics for organizers over Telegram: /reviewers [YYYY-MM]."""

from __future__ import annotations

import datetime as dt

from sqlmodel import col, select

from bot.models import Application
from tests.handlers.committee import ORGANIZER, finish_at, make_reviewers, seed_applications
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

AFTER_CLOSE = dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST)


async def seed_committee_month(harness: Harness) -> None:
    """Three applications and three reviewers: 김교수 finishes early, 이박사 an hour after the deadline
    (the end of the 14th), 정연구원 leaves one open. Totals (equal weights): a 4/5/3, b 4/3/3, c 2/3/–."""
    a, b, c = seed_applications(harness, 3)
    make_reviewers(harness, 7701, 7702, 7703)
    for tg, name in ((7701, "김교수"), (7702, "이박사"), (7703, "정연구원")):
        await harness.user(tg, name).send("/start")  # their messenger names
    await tick_and_send(harness, AFTER_CLOSE)
    early, late = dt.datetime(2026, 12, 12, 10, 0, tzinfo=KST), dt.datetime(2026, 12, 15, 1, 0, tzinfo=KST)
    for app_id, score in ((a, 4), (b, 4), (c, 2)):
        finish_at(harness, 7701, app_id, early, *[score] * 4)
    for app_id, score in ((a, 5), (b, 3), (c, 3)):
        finish_at(harness, 7702, app_id, late - dt.timedelta(hours=3 - app_id), *[score] * 4)
    for app_id, score in ((a, 3), (b, 3)):
        finish_at(harness, 7703, app_id, early, *[score] * 4)


async def test_an_organizer_sees_each_reviewers_month(harness: Harness) -> None:
    await seed_committee_month(harness)
    harness.clock.set(dt.datetime(2026, 12, 20, 10, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER, "운영자")
    [stats] = await organizer.send("/reviewers 2026-12")
    text = stats.text
    assert text.startswith("2026년 12월 심사위원 통계 — 3명")
    assert "심사 마감 2026년 12월 14일(월) 23:59 · 위원회 평균 3.38점" in text
    blocks = text.split("\n\n")[1:4]
    # Finished first, earliest first; then those still open.
    assert [b.split("\n")[0] for b in blocks] == ["1. 김교수", "2. 이박사", "3. 정연구원"]
    assert blocks[0].split("\n")[1:] == [
        "• 배정 3건 · 완료 3건",
        "• 평균 3.33점 · 표준편차 0.94 · 다른 위원 대비 +0.00점(차이 크기 0.67, 3건)",
        "• 완료 2026년 12월 12일(토) 10:00 — 마감 2일 13시간 전",
    ]
    assert "다른 위원 대비 +0.67점(차이 크기 1.00, 3건)" in blocks[1]
    assert "• 완료 2026년 12월 15일(화) 01:00 — 마감 1시간 후" in blocks[1]
    assert blocks[2].split("\n")[1:] == [
        "• 배정 3건 · 완료 2건",
        "• 평균 3.00점 · 표준편차 0.00 · 다른 위원 대비 -1.00점(차이 크기 1.00, 2건)",
        "• 미완료 (1건 남음)",
    ]
    # The month defaults to the one under review; nobody else may see it.
    [default] = await organizer.send("/reviewers")
    assert default.text == text
    [refused] = await harness.user(7701).send("/reviewers 2026-12")
    assert "권한이 없어" in refused.text
    [empty] = await organizer.send("/reviewers 2026-10")
    assert "이 달에 배정된 심사가 없습니다" in empty.text
    # A company gives up its place after the results: the work done on it stays in the month's record (it
    # dropped out, "배정 2건" against the reviewer's own "3/3 done").
    with harness.session() as session:
        first = session.exec(select(Application).order_by(col(Application.id))).first()
        assert first is not None
        first.status = "withdrawn"
        session.add(first)
        session.commit()
    [after] = await organizer.send("/reviewers 2026-12")
    assert "위원회 평균 3.38점" in after.text and after.text.count("• 배정 3건 · 완료 3건") == 2, after.text
    # One withdrawn with a review left open (its consent withdrawn during the review): no "1 left" for that.
    with harness.session() as session:
        third = session.exec(select(Application).order_by(col(Application.id).desc())).first()
        assert third is not None
        third.status = "withdrawn"
        session.add(third)
        session.commit()
    [later] = await organizer.send("/reviewers 2026-12")
    assert "• 배정 2건 · 완료 2건" in later.text and "미완료" not in later.text, later.text

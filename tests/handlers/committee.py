"""Set-up for the committee's tests: companies with submitted applications, reviewers, scores."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
from sqlalchemy import bindparam, text
from sqlmodel import select

from bot.database import Database, UTCDateTime
from bot.models import Application, Company, Review, Role
from bot.sandbox.users import SimUser
from bot.services import pledge, users
from bot.services.departments import ensure as ensure_department
from bot.validators import brn_check_digit_ok
from tests.harness import KST, Harness

ORGANIZER = 900001  # in PITCHBOT_ORGANIZER_IDS of the test settings


def brn_for(n: int) -> str:
    base = f"{300000000 + n * 7919:09d}"
    return next(base + str(d) for d in range(10) if brn_check_digit_ok(base + str(d)))


def seed_applications(harness: Harness, count: int, month: str = "2026-12", deck: str | None = None) -> list[int]:
    """``count`` companies (Telegram ids 8001…) with submitted applications; returns application ids."""
    ids = []
    at = dt.datetime(2026, 12, 3, 10, 0, tzinfo=KST)
    with harness.session() as session:
        for i in range(count):
            user = users.ensure_user(session, "telegram", str(8001 + i), at, display_name=f"기업{i + 1}")
            company = Company(
                owner_user_id=user.id,
                name=f"기업{i + 1}",
                brn=brn_for(i),
                representative="대표",
                size="sme",
                address="서울 중구",
                contact_name="담당",
                phone="+821012345678",
                email="a@b.kr",
                consent_version="t",
                consent_at=at,
                created_at=at,
                updated_at=at,
            )
            session.add(company)
            session.flush()
            app = Application(company_id=company.id, month=month, status="submitted", product_name=f"제품{i + 1}",
                              tech_fields=["ai"], trl=7, summary="요약 " * 10, city_use="적용 방안",
                              department_ids=[ensure_department(session, f"수요처{i + 1}", at).id],
                              submitted_at=at + dt.timedelta(minutes=i),
                              updated_at=at, deck_file_id=deck)  # fmt: skip
            session.add(app)
            session.flush()
            app.receipt_no = f"PD-{month.replace('-', '')}-{app.id:04d}"
            ids.append(app.id)
        session.commit()
    return ids


def make_reviewers(harness: Harness, *tg_ids: int, pledged: bool = True) -> None:
    """Reviewers on Telegram; ``pledged``: they accepted the conflict-of-interest pledge when joining."""
    with harness.session() as session:
        for tg in tg_ids:
            users.grant_role(session, "telegram", str(tg), Role.REVIEWER, harness.clock.now())
            if pledged:
                pledge.accept(session, users.ensure_user(session, "telegram", str(tg), harness.clock.now()),
                              harness.clock.now())  # fmt: skip
        session.commit()


def set_scores(harness: Harness, reviewer_tg: int, app_id: int, *scores: int | None) -> None:
    with harness.session() as session:
        reviewer = users.ensure_user(session, "telegram", str(reviewer_tg), harness.clock.now())
        review = session.exec(
            select(Review).where(Review.application_id == app_id, Review.reviewer_user_id == reviewer.id)
        ).one()
        review.innovation, review.safety, review.applicability, review.economy = scores
        session.add(review)
        session.commit()


def finish_at(harness: Harness, reviewer_tg: int, app_id: int, when: dt.datetime, *scores: int) -> None:
    """Scores given at ``when``: the review counts as complete from then (how early a reviewer finished)."""
    set_scores(harness, reviewer_tg, app_id, *scores)
    with harness.session() as session:
        reviewer = users.ensure_user(session, "telegram", str(reviewer_tg), when)
        review = session.exec(
            select(Review).where(Review.application_id == app_id, Review.reviewer_user_id == reviewer.id)
        ).one()
        review.completed_at = review.updated_at = when
        session.add(review)
        session.commit()


def statuses(harness: Harness) -> dict[int, str]:
    with harness.session() as session:
        return {a.id or 0: a.status for a in session.exec(select(Application)).all()}


def seed_selected(harness: Harness, departments: list[str], month: str = "2026-12") -> list[int]:
    """Selected, released applications, one per entry of ``departments`` (their responsible departments)."""
    from bot.models import Selection

    ids = seed_applications(harness, len(departments), month=month)
    at = dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST)
    with harness.session() as session:
        for app_id, department in zip(ids, departments, strict=True):
            app = session.get(Application, app_id)
            assert app is not None
            names = [n.strip() for n in department.split(",") if n.strip()]
            app.status = "selected"
            app.responsible_department_ids = [ensure_department(session, n, at).id for n in names]
            session.add(app)
        session.add(Selection(month=month, confirmed_at=at, release_at=at, released_at=at,
                              decided={"selected": ids, "waitlisted": [], "not_selected": []}))  # fmt: skip
        session.commit()
    return ids


def make_official(harness: Harness, tg_id: int, department: str) -> None:
    """An official of the list's entry of that name (made when not there yet)."""
    with harness.session() as session:
        entry = ensure_department(session, department, harness.clock.now())
        users.grant_role(session, "telegram", str(tg_id), Role.OFFICIAL, harness.clock.now(), department_id=entry.id)
        session.commit()


async def write_reasons(organizer: SimUser, reasons: dict[str, str], month: str = "2026-12") -> None:
    """The committee's opinion for each board entry ("2. PD-…") through /selection, as an organizer does."""
    for entry, reason in reasons.items():
        await organizer.send(f"/selection {month}")
        await organizer.press(entry)
        await organizer.press("피드백")
        await organizer.send(reason, expect=2)


def add_subscribers(db: Database, now: dt.datetime, count: int, first: int) -> None:
    """``count`` Telegram users (ids from ``first``) who subscribed to news, in two statements whatever their
    number (no parameter per person)."""
    at = bindparam("now", now, type_=UTCDateTime())
    people = text(
        "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :last) "
        "INSERT INTO users (channel, external_id, display_name, active, news_opt_out, created_at, updated_at) "
        "SELECT 'telegram', CAST(:first + n AS VARCHAR(20)), 'bulk', true, false, :now, :now FROM seq"
    ).bindparams(at, last=count - 1, first=first)
    subscriptions = text(
        "INSERT INTO subscriptions (user_id, topic, created_at) "
        "SELECT id, 'news', :now FROM users WHERE display_name = 'bulk' AND id NOT IN "
        "(SELECT user_id FROM subscriptions WHERE topic = 'news')"
    ).bindparams(at)
    with db.session() as session:
        session.execute(people)
        session.execute(subscriptions)


async def exported(harness: Harness, language: str, month: str = "2026-12") -> Any:
    """The workbook an organizer reading ``language`` receives for ``/export month``."""
    organizer = harness.user(ORGANIZER, "운영자", language_code=language)
    [document] = await organizer.send(f"/export {month}")
    assert document.kind == "document"
    content = harness.server.files[document.document["file_id"]].content  # type: ignore[index]
    return openpyxl.load_workbook(io.BytesIO(content))

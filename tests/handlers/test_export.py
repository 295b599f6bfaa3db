"""/export over Telegram: the selection as confirmed, every code in the reader's language, and people's text
stored as text (never a live formula)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.models import Application, Company, Review, Selection
from bot.services import users
from tests.handlers.committee import exported, seed_applications
from tests.harness import KST, Harness

HOSTILE_NAME = '=HYPERLINK("http://evil.example/x","보기")'


def _seed(harness: Harness) -> list[int]:
    """Three applications, confirmed as one selected, one waitlisted and one not selected: with the default
    SELECTED_COUNT of 6, recomputing would call all three selected."""
    ids = seed_applications(harness, 3)
    at = dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST)
    with harness.session() as session:
        for app_id, status in zip(ids, ("selected", "waitlisted", "not_selected"), strict=True):
            app = session.get(Application, app_id)
            assert app is not None
            app.status, app.tech_fields = status, ["robot", "ai"]
            app.placement = {"selected": "in", "not_selected": "out"}.get(status)  # the organizer moved them
            if status == "selected":
                app.product_name, app.summary = "+SUM(A1:A9)", "-1+2 순찰 로봇"
                company = session.get(Company, app.company_id)
                assert company is not None
                company.name, company.representative = HOSTILE_NAME, "@대표"
                session.add(company)
            session.add(app)
        decided = {"selected": [ids[0]], "waitlisted": [ids[1]], "not_selected": [ids[2]]}
        session.add(Selection(month="2026-12", confirmed_at=at, release_at=at, released_at=at, decided=decided))
        session.commit()
    return ids


async def test_the_export_shows_the_confirmed_selection_in_korean_with_text_kept_as_text(harness: Harness) -> None:
    _seed(harness)
    book = await exported(harness, "ko")
    applications = book["신청"]
    header = [c.value for c in applications[1]]
    assert header[:5] == ["접수번호", "기업명", "사업자등록번호", "대표자", "기업 규모"]
    rows = {row[0]: row for row in applications.iter_rows(min_row=2, values_only=True)}
    by_status = {row[-1]: row for row in rows.values()}
    assert set(by_status) == {"선정", "예비", "미선정"}  # never "not_selected"
    selected = by_status["선정"]
    assert selected[4] == "중소기업" and selected[9] == "로봇, 인공지능(AI)"
    codes = {"selected", "waitlisted", "not_selected", "submitted", "sme", "robot", "ai", "in", "out"}
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            assert not codes & {str(v) for v in row}, (sheet.title, row)

    result = {row[2]: row[6:8] for row in book["선정"].iter_rows(min_row=2, values_only=True)}
    assert result == {
        HOSTILE_NAME: ("선정", "운영자 포함"), "기업2": ("예비", None), "기업3": ("미선정", "운영자 제외")
    }  # fmt: skip

    # The company's name, product, summary and representative are text cells holding exactly what was typed.
    cells = [c for row in applications.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    dangerous = [c for c in cells if c.value.startswith(("=", "+", "-", "@"))]
    assert {c.value for c in dangerous} >= {HOSTILE_NAME, "+SUM(A1:A9)", "-1+2 순찰 로봇", "@대표"}
    assert all(c.data_type == "s" for c in dangerous)
    for sheet in book.worksheets:
        assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"], sheet.title


async def test_the_export_speaks_english_to_an_english_reader(harness: Harness) -> None:
    _seed(harness)
    book = await exported(harness, "en")
    rows = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    assert rows[0][4] == "Company size"
    statuses = {row[-1] for row in rows[1:]}
    assert statuses == {"Selected", "Waitlist", "Not selected"}, statuses
    assert {row[4] for row in rows[1:]} == {"SME (중소기업)"} and rows[1][9] == "Robots, AI"
    results = {row[6] for row in book[book.sheetnames[2]].iter_rows(min_row=2, values_only=True)}
    assert results == {"Selected", "Waitlist", "Not selected"}


async def test_before_the_selection_is_confirmed_nobody_is_called_selected(harness: Harness) -> None:
    seed_applications(harness, 2)
    book = await exported(harness, "ko")
    assert {row[6] for row in book["선정"].iter_rows(min_row=2, values_only=True)} == {None}
    assert {row[-1] for row in book["신청"].iter_rows(min_row=2, values_only=True)} == {"접수 완료"}
    with harness.session() as session:
        assert session.exec(select(Selection)).first() is None


async def test_a_reviewer_without_a_name_is_not_shown_by_a_messenger_key(harness: Harness) -> None:
    """KakaoTalk gives no name: the scores sheet calls the reviewer as the reviewers' board does."""
    [app_id] = seed_applications(harness, 1)
    with harness.session() as session:
        reviewer = users.ensure_user(session, "kakao", "e7034541d297" + "0" * 52, harness.clock.now())
        session.add(Review(application_id=app_id, reviewer_user_id=reviewer.id, innovation=4, safety=4,
                           applicability=4, economy=4, assigned_at=harness.clock.now(),
                           updated_at=harness.clock.now()))  # fmt: skip
        session.commit()
        shown = f"심사위원 #{reviewer.id}"
    book = await exported(harness, "ko")
    assert [row[1] for row in book["심사"].iter_rows(min_row=2, values_only=True)] == [shown]

"""Every organizer, reviewer and official command and button, sent by someone without the role, and a
company reaching for another company's application: all refused, nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.models import Application, Broadcast, Invitation, Programme, PurchaseDecision, Review, Selection
from tests.handlers.committee import make_official, make_reviewers, seed_selected
from tests.handlers.flows import fill_application, register_profile, submit
from tests.harness import KST, Harness

ORGANIZER_COMMANDS = ["/selection", "/selection 2026-11", "/invite reviewer", "/invite official 서울교통공사",
                      "/programme", "/export", "/broadcast", "/broadcasts", "/expo_edit"]  # fmt: skip
ORGANIZER_BUTTONS = ["sl:b:2026-11", "sl:a:{app}", "sl:p:{app}:in", "sl:p:{app}:out", "sl:f:{app}", "sl:d:{app}",
                     "sl:ok:2026-11", "sl:y:2026-11", "pg:v:2026-11", "pg:s:2026-11", "pg:l:2026-11",
                     "pg:u:2026-11:{app}", "pg:p:2026-11", "bc:stop:1"]  # fmt: skip
REVIEWER_BUTTONS = ["rw:o:{review}", "rw:s:{review}:0:5", "rw:c:{review}", "rw:x:{review}", "rw:xy:{review}", "rw:l"]
OFFICIAL_BUTTONS = ["dc:o:{decision}"]
REFUSED = ("권한이 없어", "찾을 수 없습니다")


@pytest.fixture
async def world(harness: Harness) -> dict[str, int]:
    from bot.services import decisions, review

    [app] = seed_selected(harness, ["서울교통공사"], month="2026-11")
    make_reviewers(harness, 9951)
    make_official(harness, 9952, "서울교통공사")
    with harness.session() as session:
        decisions.ensure_rows(session, "2026-11", harness.clock.now())
        # November goes back under review, so every organizer and reviewer button is live.
        row = session.get(Application, app)
        assert row is not None
        row.status = "submitted"
        session.add(row)
        session.delete(session.get(Selection, "2026-11"))
        session.commit()
        review.assign(session, "2026-11", harness.settings, harness.clock.now())
        session.commit()
        review_id = session.exec(select(Review.id)).one()
        decision_id = session.exec(select(PurchaseDecision.id)).one()
    return {"app": app, "review": review_id or 0, "decision": decision_id or 0}


def snapshot(harness: Harness) -> tuple[object, ...]:
    with harness.session() as session:
        return (
            [(a.status, a.placement, a.feedback, a.responsible_departments) for a in session.exec(select(Application))],
            [(r.innovation, r.comment, r.conflict) for r in session.exec(select(Review))],
            [(d.status, d.reason) for d in session.exec(select(PurchaseDecision))],
            len(session.exec(select(Selection)).all()), len(session.exec(select(Invitation)).all()),
            len(session.exec(select(Broadcast)).all()), len(session.exec(select(Programme)).all()),
        )  # fmt: skip


async def test_everyone_without_the_role_is_refused(harness: Harness, world: dict[str, int]) -> None:
    harness.clock.set(dt.datetime(2026, 11, 28, 10, 0, tzinfo=KST))
    before = snapshot(harness)
    company = harness.user(8001, "기업1")
    reviewer = harness.user(9951, "심사위원")
    official = harness.user(9952, "수요처")
    stranger = harness.user(9953, "외부인")
    table: list[tuple[str, object, list[str], list[str]]] = [
        ("company", company, [*ORGANIZER_COMMANDS, "/review"], ORGANIZER_BUTTONS + REVIEWER_BUTTONS + OFFICIAL_BUTTONS),
        ("reviewer", reviewer, ORGANIZER_COMMANDS, ORGANIZER_BUTTONS + OFFICIAL_BUTTONS),
        ("official", official, [*ORGANIZER_COMMANDS, "/review"], ORGANIZER_BUTTONS + REVIEWER_BUTTONS),
        ("stranger", stranger, [*ORGANIZER_COMMANDS, "/review", "/decisions"],
         ORGANIZER_BUTTONS + REVIEWER_BUTTONS + OFFICIAL_BUTTONS),
    ]  # fmt: skip
    for who, person, commands, buttons in table:
        for command in commands:
            [answer] = await person.send(command)  # type: ignore[attr-defined]
            assert any(r in answer.text for r in REFUSED), (who, command, answer.text)
        for template in buttons:
            data = template.format(**world)
            [answer] = await person.press_data(data, 1)  # type: ignore[attr-defined]
            assert any(r in answer.text for r in REFUSED), (who, data, answer.text)
    assert snapshot(harness) == before


async def test_a_company_cannot_touch_another_companys_application(harness: Harness) -> None:
    owner = harness.user(9961, "갑")
    await register_profile(owner)
    await fill_application(owner, deck=False)
    await submit(owner)
    with harness.session() as session:
        theirs = session.exec(select(Application)).one()
    other = harness.user(9962, "을")
    from tests.handlers.flows import OTHER_BRN

    await register_profile(other, brn=OTHER_BRN, name="을기업")
    await other.send("/cancel")
    for data in (f"app:edit:{theirs.id}", f"app:wd:{theirs.id}", f"wd:y:{theirs.id}"):
        [answer] = await other.press_data(data, 1)
        # Refused outright, or (a confirmation button out of its conversation) treated as a stale button.
        assert any(r in answer.text for r in (*REFUSED, "이전 화면의 버튼")), (data, answer.text)
    with harness.session() as session:
        after = session.get(Application, theirs.id)
        assert after is not None and after.status == "submitted" and after.product_name == theirs.product_name

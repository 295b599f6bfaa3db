"""A company's whole way in, on Telegram (buttons, slash commands, the deck uploaded) and on a plain-text
channel such as KakaoTalk (labels and numbers typed, the long list paged, no uploads)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.calendar import Month
from bot.dialogue.model import PLAIN, Capabilities
from bot.models import Application, Company, FormDraft
from bot.services import cycles
from tests.dialogue.driver import BOTH, SAMPLE_PDF, Person, World, at
from tests.dialogue.walks import SUMMARY, VALID_BRN, fill_application, register_profile, submit

Make = Callable[..., Person]


@BOTH
async def test_a_company_registers_and_applies(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "5001")
    await register_profile(p)
    await fill_application(p)
    assert await submit(p) == "PD-202612-0001"

    [company] = world.all(Company)
    assert (company.name, company.brn, company.size) == ("한빛로보틱스", VALID_BRN.replace("-", ""), "sme")
    assert company.owner_user_id == world.user(caps.channel, "5001").id
    [app] = world.all(Application)
    assert (app.receipt_no, app.status, app.month) == ("PD-202612-0001", "submitted", "2026-12")
    assert (app.tech_fields, app.trl, app.price) == (["ai", "robot"], 7, "대당 4,800만 원")
    if caps.uploads:
        assert app.deck_file_name == "deck.pdf" and app.deck_path is not None
        assert Path(app.deck_path).read_bytes() == SAMPLE_PDF
    else:
        assert app.deck_file_name is None and app.deck_path is None
    assert world.all(FormDraft) == []  # the drafts went with the submission

    # The status screen knows it, and offers to change it while the window is open.
    await p.send("현황" if caps is PLAIN else "/status")
    assert "PD-202612-0001" in p.text and "접수 완료" in p.text
    assert any("철회" in label for label in p.labels())


async def _at_tech_fields(person: Make) -> Person:
    p = person(PLAIN, "5002")
    await register_profile(p)
    await p.send("자율 순찰 로봇 HR-1")
    assert "기술 분야 (2/8)" in p.text
    return p


@pytest.mark.parametrize("typed", ["로봇, 인공지능(AI)", "AI/로봇", "Robots, AI", "robot,ai"])
async def test_several_fields_typed_at_once(person: Make, world: World, typed: str) -> None:
    """Labels in either language, or the field's code, separated by commas or slashes, answer at once."""
    p = await _at_tech_fields(person)
    await p.send(typed)
    assert "기술성숙도(TRL) (3/8)" in p.text
    draft = world.draft("kakao", "5002", "application")
    assert draft is not None and draft.data["tech_fields"] == ["ai", "robot"]


async def test_fields_typed_by_their_korean_names(person: Make, world: World) -> None:
    p = await _at_tech_fields(person)
    await p.send("로봇, 인공지능")
    assert "기술성숙도(TRL) (3/8)" in p.text, p.text
    draft = world.draft("kakao", "5002", "application")
    assert draft is not None and draft.data["tech_fields"] == ["ai", "robot"]


async def test_a_label_with_a_slash_typed_whole(person: Make, world: World) -> None:
    p = await _at_tech_fields(person)
    await p.send("AR/VR")
    assert "선택하신 분야: AR/VR" in p.text, p.text  # picked, as its button is: more may follow
    await p.send("선택 완료")
    assert "기술성숙도(TRL) (3/8)" in p.text, p.text
    draft = world.draft("kakao", "5002", "application")
    assert draft is not None and draft.data["tech_fields"] == ["arvr"]


async def test_a_field_typed_that_is_on_another_page(person: Make, world: World) -> None:
    """A label typed that is not on the page shown still names its field, and picks it."""
    p = await _at_tech_fields(person)
    await p.send("드론")
    assert "선택하신 분야: 드론" in p.text
    await p.send("선택 완료")
    assert "기술성숙도(TRL) (3/8)" in p.text
    draft = world.draft("kakao", "5002", "application")
    assert draft is not None and draft.data["tech_fields"] == ["drone"]


async def test_toggling_on_the_second_page_stays_there(person: Make) -> None:
    p = await _at_tech_fields(person)
    await p.send("다음 목록")
    assert "목록 2/2쪽" in p.text
    await p.send("로봇")
    assert "선택하신 분야: 로봇" in p.text
    assert "목록 2/2쪽" in p.text, p.text


async def test_the_deck_question_where_nothing_can_be_uploaded(person: Make) -> None:
    p = await _at_tech_fields(person)
    await p.send("로봇, AI")
    for answer in ("7", SUMMARY, "공원녹지사업소 야간 순찰에 투입합니다.", "서울교통공사", "선택 완료", "4,800만 원"):
        await p.send(answer)
    assert "발표자료(PDF) (8/8)" in p.text
    assert "파일로 보내" not in p.text, p.text


async def at_the_second_question(p: Person) -> Person:
    """A company registered, its application's first question answered."""
    await register_profile(p)
    await p.send("자율 순찰 로봇 HR-1")
    assert "기술 분야 (2/8)" in p.text
    return p


@BOTH
async def test_the_window_closing_mid_form_is_said_at_the_next_answer_and_the_answers_are_kept(
    caps: Capabilities, person: Make, world: World
) -> None:
    p = await at_the_second_question(person(caps, "5001"))
    world.clock.set(at(11, 9))  # the window closed on the 10th at 23:59
    await p.send("로봇")
    assert "2026년 12월 10일(목) 23:59에 마감되어" in p.text and "답변은 저장되어" in p.text
    assert "2027년 1월" in p.text and "기술성숙도" not in p.text  # the next window, not the next question
    [draft] = world.all(FormDraft)
    assert draft.data["product_name"] == "자율 순찰 로봇 HR-1"  # kept for the next window
    await p.send("7")
    assert "기술성숙도" not in p.text  # the form is not taken up again in a closed window
    assert world.all(Application) == []


@BOTH
async def test_a_window_an_organizer_extended_keeps_the_form_going_past_the_rules_close(
    caps: Capabilities, person: Make, world: World
) -> None:
    p = await at_the_second_question(person(caps, "5001"))
    with world.session() as session:
        cycles.set_override(session, Month(2026, 12), {"window_closes_at": at(12, 18)}, world.settings, at(3))
        session.commit()
    world.clock.set(at(11, 9))  # past the 10th, within the organizer's window
    await p.send("로봇")
    assert "마감되어" not in p.text and "/8)" in p.text  # the next question (or the same, on a button channel)


@BOTH
async def test_a_form_of_a_closed_month_submitted_while_the_next_window_is_open_says_so(
    caps: Capabilities, person: Make, world: World
) -> None:
    """A December form left on its review page and submitted on 4 January was told the next window opens in
    February, while January's was open; /apply carries the answers into January's form."""
    p = person(caps, "5101")
    await register_profile(p)
    await fill_application(p, deck=False)  # on the review page, not submitted
    world.clock.set(at(4, month=1, year=2027))
    await (p.send("제출하기") if caps is PLAIN else p.press("제출하기"))
    assert "2026년 12월 10일(목) 23:59에 마감" in p.text and "2027년 2월" not in p.text
    assert "지금은 2027년 1월 피칭데이 신청을 2027년 1월 10일(일) 23:59까지" in p.text, p.text
    assert world.all(Application) == []
    await p.send("신청" if caps is PLAIN else "/apply")
    assert "신청서 확인" in p.text and "2027년 1월" in p.text
    assert await submit(p) == "PD-202701-0001"


async def test_the_english_status_names_the_month(person: Make, world: World) -> None:
    """English showed the month's key: 「• 2026-12 Night patrol robot — Received」."""
    p = person(PLAIN, "5102")
    await register_profile(p)
    await fill_application(p, deck=False)
    await submit(p)
    await p.send("언어")
    await p.send("English")
    await p.send("status")
    assert "December 2026" in p.text and "2026-12" not in p.text, p.text

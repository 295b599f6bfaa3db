"""Leaving a form and coming back: cancel keeps every answer, words typed afterwards are not taken as an
answer to a question no longer asked, and "apply" resumes at the same question."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.dialogue.model import Capabilities
from bot.models import Role
from tests.dialogue.driver import BOTH, NOT_UNDERSTOOD, STALE, Person, World
from tests.dialogue.walks import fill_application, plain, register_profile
from tests.handlers.flows import OTHER_BRN
from tests.harness import KST

Make = Callable[..., Person]


@BOTH
async def test_cancel_keeps_the_draft_and_apply_resumes(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "7101")
    await register_profile(p)
    await p.send("자율 순찰 로봇 HR-1")
    await p.press("빅데이터")
    await p.press("선택 완료")
    assert "기술성숙도(TRL) (3/8)" in p.text

    # A choice question: on a plain channel the word "취소" leaves it (there is no /cancel to type).
    [paused] = await p.send("취소" if plain(p) else "/cancel")
    assert "작성을 중단했습니다" in p.text and "이어서 작성" in p.text
    assert "📝 피칭데이 신청" in p.labels(paused)  # the menu, to go on from
    draft = world.draft(caps.channel, "7101", "application")
    assert draft is not None and draft.current == "trl"
    assert draft.data == {"product_name": "자율 순찰 로봇 HR-1", "tech_fields": ["bigdata"]}
    assert world.conversation(caps.channel, "7101").flow == "menu"  # no form asks any more: the menu is at rest

    # Nothing is being asked any more: an answer typed now is not understood, and not stored.
    await p.send("TRL 7")
    assert NOT_UNDERSTOOD in p.text
    await p.send("공원과 지하철 역사를 야간에 자율 순찰하는 로봇입니다.")
    assert NOT_UNDERSTOOD in p.text
    assert world.draft(caps.channel, "7101", "application") == draft

    # Apply again: straight back to the same question, no introduction, nothing asked twice.
    [resumed] = await p.send("신청" if plain(p) else "/apply")
    assert "기술성숙도(TRL) (3/8)" in p.read(resumed)
    await p.send("7")
    assert "제품 요약 (4/8)" in p.text

    # Cancel while a text question waits, then "back" with nothing in progress.
    await p.send("취소" if plain(p) else "/cancel")
    assert "작성을 중단했습니다" in p.text
    await p.send("/cancel")  # typed with its slash on any channel
    assert "진행 중인 작업이 없습니다" in p.text and "📝 피칭데이 신청" in p.labels()  # nothing to stop: the menu
    draft = world.draft(caps.channel, "7101", "application")
    assert draft is not None and draft.current == "summary" and draft.data["trl"] == 7


@BOTH
async def test_an_organizer_who_pauses_sees_the_menu_paged(caps: Capabilities, person: Make, world: World) -> None:
    """The screen of a form left for later carries the menu as the menu shows it, a page of eight on every
    channel (an organizer's menu has three), and its page turn shows the same screen with the next page."""
    world.grant(caps.channel, "7110", Role.ORGANIZER)
    p = person(caps, "7110")
    await register_profile(p)
    [paused] = await p.send("취소" if plain(p) else "/cancel")
    assert "작성을 중단했습니다" in p.text and "목록 1/3쪽" in p.text
    assert len(p.labels(paused)) == 9 and p.labels(paused)[-1] == "다음 목록 ▶", p.labels(paused)
    assert "🏅 선정 심의" in p.labels(paused) and "📝 피칭데이 신청" not in p.labels(paused)

    [second] = await p.press("다음 목록")
    assert STALE not in p.text, p.text
    assert "작성을 중단했습니다" in p.text and "목록 2/3쪽" in p.text and second.replace
    assert len(p.labels(second)) == 10 and "◀ 이전 목록" in p.labels(second)
    await p.press("📝 피칭데이 신청")  # a button of the turned page works: back to the question left
    assert STALE not in p.text and "제품·서비스명 (1/8)" in p.text, p.text


@BOTH
async def test_help_in_the_middle_of_a_question_loses_nothing(caps: Capabilities, person: Make, world: World) -> None:
    """Help is one of the words that always work, even while a question waits for typed text; the answer
    typed after it still answers the question."""
    p = person(caps, "7102")
    await p.send("신청" if plain(p) else "/apply")
    await p.press("동의합니다")
    assert "기업명 (2/9)" in p.text
    await p.send("도움말" if plain(p) else "/help")
    assert "도움말" in p.text and "2026년 12월 일정" in p.text
    await p.send("한빛로보틱스")
    assert "사업자등록번호 (3/9)" in p.text
    draft = world.draft(caps.channel, "7102", "profile")
    assert draft is not None and draft.data["name"] == "한빛로보틱스"

    # A command word that does not interrupt (here "신청") is an answer while a text question waits.
    await p.send("220-81-62517")
    await p.send("신청")
    assert "기업 규모 (5/9)" in p.text
    draft = world.draft(caps.channel, "7102", "profile")
    assert draft is not None and draft.data["representative"] == "신청"


@BOTH
async def test_an_organizer_who_submits_sees_the_receipt_with_the_menu_paged(
    caps: Capabilities, person: Make, world: World
) -> None:
    """The receipt of an application, and the refusal after the window closed, carry the menu paged as the
    menu is; the page turn shows the same receipt (read again from the database) with the next page."""
    world.grant(caps.channel, "7111", Role.ORGANIZER)
    p = person(caps, "7111")
    await register_profile(p)
    await fill_application(p, deck=False)
    [receipt] = await p.press("제출하기")
    assert "접수되었습니다" in p.text and "PD-202612-" in p.text and "목록 1/3쪽" in p.text, p.text
    assert len(p.labels(receipt)) == 9 and p.labels(receipt)[-1] == "다음 목록 ▶", p.labels(receipt)
    number = p.text.split("PD-202612-")[1][:4]

    [second] = await p.press("다음 목록")
    assert STALE not in p.text, p.text
    assert "접수되었습니다" in p.text and f"PD-202612-{number}" in p.text and "목록 2/3쪽" in p.text
    assert second.replace and "◀ 이전 목록" in p.labels(second)

    # Another organizer whose application is ready when the window has closed.
    q = person(caps, "7112")
    world.grant(caps.channel, "7112", Role.ORGANIZER)
    await register_profile(q, brn=OTHER_BRN, name="두리테크")
    await fill_application(q, deck=False)
    world.clock.set(dt.datetime(2026, 12, 11, 0, 0, 1, tzinfo=KST))
    await q.press("제출하기")
    assert "마감되어" in q.text and "목록 1/3쪽" in q.text, q.text
    await q.press("다음 목록")
    assert STALE not in q.text and "마감되어" in q.text and "목록 2/3쪽" in q.text, q.text
    assert "2026년 12월 10일" in q.text and "2027년 1월" in q.text

"""Leaving a form and coming back: cancel keeps every answer, words typed afterwards are not taken as an
answer to a question no longer asked, and "apply" resumes at the same question."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.model import Capabilities
from tests.dialogue.driver import BOTH, NOT_UNDERSTOOD, Person, World
from tests.dialogue.walks import plain, register_profile

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
    assert world.conversation(caps.channel, "7101").flow is None

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

"""Inputs that must not count: an update delivered twice, a button of an older screen, a token made up
to reach another step or another flow. Each is answered (or, when redelivered, silently dropped) and
changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.model import Capabilities
from tests.dialogue.driver import BOTH, NOT_ALLOWED, STALE, Person, World
from tests.dialogue.walks import plain

Make = Callable[..., Person]


async def at_brn_question(person: Make, caps: Capabilities) -> Person:
    p = person(caps, "7001")
    await p.send("신청" if plain(p) else "/apply")
    await p.press("동의합니다")  # a quick reply on a plain channel carries the token too
    await p.send("한빛로보틱스")
    assert "사업자등록번호 (3/9)" in p.text
    return p


def state(world: World, p: Person) -> tuple[object, ...]:
    c = world.conversation(p.channel, p.external_id)
    return (c.version, c.flow, c.step, c.ref, c.recent, c.screen)


@BOTH
async def test_a_redelivered_update_is_dropped(caps: Capabilities, person: Make, world: World) -> None:
    p = await at_brn_question(person, caps)
    await p.send("220-81-62517", key="update-1")
    assert "대표자 (4/9)" in p.text
    before, conversation = world.snapshot(), state(world, p)

    # The same update again (Telegram retries when its answer was lost): nothing applied, nothing sent.
    await p.send("220-81-62517", key="update-1")
    assert p.reply is not None and p.reply.duplicate and p.last == []
    assert world.snapshot() == before and state(world, p) == conversation

    # A redelivered button press, too: the representative's name is not taken a second time.
    await p.send("김민준", key="update-2")
    assert "기업 규모 (5/9)" in p.text
    before, conversation = world.snapshot(), state(world, p)
    await p.press("중소기업", key="update-3")
    assert "소재지 (6/9)" in p.text
    after_press = world.snapshot()
    assert after_press != before
    await p.press_token(p.token("중소기업"), key="update-3")
    assert p.reply is not None and p.reply.duplicate and p.last == []
    assert world.snapshot() == after_press

    # The same words under a new key are a new input: answered, here as the address (refused: not Seoul).
    await p.send("220-81-62517", key="update-4")
    assert not p.reply.duplicate and "서울 소재 기업" in p.text


@BOTH
async def test_a_button_of_an_older_screen_is_stale(caps: Capabilities, person: Make, world: World) -> None:
    p = await at_brn_question(person, caps)
    consent = p.token("동의합니다")  # from the first question, two screens ago
    before, version = world.snapshot(), world.conversation(p.channel, p.external_id).version

    [answer] = await p.press_token(consent)
    assert STALE in answer.text and "사업자등록번호 (3/9)" in answer.text
    assert world.snapshot() == before
    # The stale answer is itself a screen: its buttons carry the new version, the old ones stay stale.
    assert world.conversation(p.channel, p.external_id).version == version + 1
    [again] = await p.press_token(p.token("이전"))
    assert "기업명 (2/9)" in again.text and STALE not in again.text
    before = world.snapshot()

    # A page turn of an old screen is stale as well: the page shown now is the current one.
    [stale_page] = await p.press_token(f"{version}:_:pg:1")
    assert STALE in stale_page.text and "기업명 (2/9)" in stale_page.text

    # Not a token at all.
    [garbage] = await p.press_token("'; DROP TABLE users; --")
    assert STALE in garbage.text and "기업명 (2/9)" in garbage.text
    assert world.snapshot() == before


@BOTH
async def test_a_forged_token_changes_nothing(caps: Capabilities, person: Make, world: World) -> None:
    p = await at_brn_question(person, caps)
    before = world.snapshot()

    def current() -> int:
        return world.conversation(p.channel, p.external_id).version

    # The current version, but another question's answer: the form answers only its current question.
    await p.press_token(f"{current()}:form:a:size:large")
    assert STALE in p.text and "사업자등록번호 (3/9)" in p.text
    # The current version, but the step of a flow that is not active (the withdrawal's "yes").
    await p.press_token(f"{current()}:apply:wdy")
    assert STALE in p.text and "사업자등록번호 (3/9)" in p.text
    # A step of an organizer's flow: refused outright, whatever its version.
    await p.press_token(f"{current()}:selection:y")
    assert NOT_ALLOWED in p.text
    await p.press_token("e:selection:ok:2026-12")
    assert NOT_ALLOWED in p.text
    # Entries of the company's own flows, with ids that are nobody's (or made up) are refused as not found.
    await p.press_token("e:apply:wd:999999")
    assert "찾을 수 없습니다" in p.text
    await p.press_token("e:apply:edit:99999999999999999999")
    assert "찾을 수 없습니다" in p.text
    assert world.snapshot() == before

    # The draft was left where it was: the next answer is still the registration number.
    await p.send("/apply" if not plain(p) else "신청")
    assert "사업자등록번호 (3/9)" in p.text
    await p.send("220-81-62517")
    assert "대표자 (4/9)" in p.text

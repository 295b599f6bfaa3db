"""A busy month: 300 applications. The organizer's selection board and a reviewer's list stay within what
each channel can show (the driver checks every screen), page through to the end, and open an application
from a later page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bot.dialogue.model import PLAIN, Capabilities
from bot.models import Role
from bot.services import review
from tests.dialogue.driver import BOTH, STALE, Person, World, at
from tests.handlers.committee import ORGANIZER, seed_applications

Make = Callable[..., Person]
COUNT = 300
NEXT, PREVIOUS = "다음 목록 ▶", "◀ 이전 목록"


@pytest.fixture
def busy(world: World) -> World:
    """300 submitted applications; every reviewer is assigned all of them (the whole-committee mode)."""
    seed_applications(world, COUNT)  # type: ignore[arg-type]
    return world


def organizer(caps: Capabilities, person: Make, world: World) -> Person:
    if caps is PLAIN:
        world.grant("kakao", "org-1", Role.ORGANIZER)
        return person(caps, "org-1")
    return person(caps, ORGANIZER)


def options(p: Person) -> list[tuple[str, str]]:
    """The buttons of the screen shown that are list entries, not page turns or fixed choices."""
    return [(label, token) for label, token in p.buttons(p.last[-1]) if "PD-" in label]


async def page_to_the_end(p: Person) -> list[list[str]]:
    """Presses "next" until there is none; the entries of every page, in order."""
    pages = [[label for label, _ in options(p)]]
    while NEXT in p.labels(p.last[-1]):
        await p.press(NEXT)
        assert STALE not in p.text
        assert PREVIOUS in p.labels(p.last[-1])
        pages.append([label for label, _ in options(p)])
    where = re.search(r"목록 (\d+)/(\d+)쪽", p.text)
    assert where is not None and where.group(1) == where.group(2) == str(len(pages))
    return pages


@BOTH
async def test_the_selection_board_of_300(caps: Capabilities, person: Make, busy: World) -> None:
    busy.clock.set(at(12))  # the window has closed; selection is on the 15th
    p = organizer(caps, person, busy)
    await p.send("선정 2026-12" if caps is PLAIN else "/selection 2026-12")
    assert "2026년 12월 선정 심의" in p.text and "목록 1/" in p.text
    assert "✅ 선정 확정" in p.labels(p.last[-1])  # the fixed choice is on every page
    pages = await page_to_the_end(p)
    assert len(pages) > 1
    entries = [label for page in pages for label in page]
    assert entries == [f"{n}. PD-202612-{n:04d}" for n in range(1, COUNT + 1)]  # each once, in rank order

    # Back to the board, one page on, and the first application there.
    await p.send("선정 2026-12" if caps is PLAIN else "/selection 2026-12")
    await p.press(NEXT)
    label, token = options(p)[0]
    n = int(label.split(".")[0])
    assert n == len(pages[0]) + 1
    await p.press_token(token)
    assert f"PD-202612-{n:04d} 기업{n} — 제품{n}" in p.text
    assert "⬆ 선정에 포함" in p.labels()


async def test_the_selection_board_text_fits_a_plain_channel(person: Make, busy: World) -> None:
    busy.clock.set(at(12))
    p = organizer(PLAIN, person, busy)
    await p.send("선정 2026-12")
    assert sum(len(p.read(o)) for o in p.last) <= PLAIN.max_outputs * PLAIN.max_text, len(p.text)


@BOTH
async def test_a_reviewers_list_of_300(caps: Capabilities, person: Make, busy: World) -> None:
    busy.grant(caps.channel, "rev-1", Role.REVIEWER, pledged=True)
    with busy.session() as session:
        review.assign(session, "2026-12", busy.settings, busy.clock.now())
    busy.clock.set(at(12))
    p = person(caps, "rev-1")
    await p.send("심사" if caps is PLAIN else "/review")
    assert "2026년 12월 심사 대상 — 0/300건 완료" in p.text
    pages = await page_to_the_end(p)
    assert len(pages) > 1
    entries = [label for page in pages for label in page]
    assert entries == [f"{n}. ✏️ PD-202612-{n:04d} 제품{n}" for n in range(1, COUNT + 1)]

    await p.send("심사" if caps is PLAIN else "/review")
    await p.press(NEXT)
    label, token = options(p)[0]
    # Typed, the number the list shows on its second page (not the entry's place on the page) opens it.
    await (p.send(label.split(".")[0]) if caps is PLAIN else p.press_token(token))
    receipt = label.split()[2]
    assert receipt == f"PD-202612-{len(pages[0]) + 1:04d}"
    assert receipt in p.text and "나의 점수" in p.text and "✏️ 점수 입력" in p.labels()

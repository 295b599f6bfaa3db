"""The organizer's withdrawal step in /selection, on both kinds of channel: after the results a selected
company gives up its place (with a reason), the confirmation names who takes it, a cancel or a stale
button changes nothing, and the waitlist is used in order until it is empty."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.dialogue.model import PLAIN, Capabilities, Kind
from bot.models import Application, Outbox, PurchaseDecision, Role, Selection
from tests.dialogue.driver import BOTH, NOT_ALLOWED, STALE, Person, World, at
from tests.handlers.waitlist import seed_released

Make = Callable[..., Person]


async def choose(p: Person, label: str) -> None:
    """Typed on a plain channel, pressed on Telegram."""
    await (p.send(label) if p.caps is PLAIN else p.press(label))


async def board(p: Person) -> None:
    await p.send("선정 2026-12" if p.caps is PLAIN else "/selection 2026-12")


def withdrawals(p: Person) -> list[str]:
    """The board's withdrawal buttons (until publication, each selected company's card is there too, for its
    responsible departments)."""
    return [label for label in p.labels() if label.endswith("선정 포기")]


@BOTH
async def test_withdraw_and_promote_with_a_reason_and_a_confirmation(
    caps: Capabilities, person: Make, world: World
) -> None:
    [a, b], [c, d] = seed_released(world, ["서울교통공사", "푸른도시여가국"], 2, channel=caps.channel)
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    world.clock.set(at(18))
    p = person(caps, "org-1")
    await board(p)
    assert withdrawals(p) == ["↩ 0001 선정 포기", "↩ 0002 선정 포기"] and len(p.labels()) == 4
    assert "「선정 포기」 버튼" in p.text

    # Changing one's mind at the confirmation leaves everything as it was.
    before = world.snapshot()
    await p.press("↩ 0001 선정 포기")
    assert "포기를 요청한 사유" in p.text
    await p.send("  ")
    assert "포기를 요청한 사유" in p.text  # a second chance, with the reason why
    await p.send("해외 전시 일정과 겹쳐 참석할 수 없다고 합니다.")
    assert "선정 포기를 처리하시겠습니까?" in p.text and "예비 1순위 PD-202612-0003 기업8003" in p.text
    assert "다시 게시" not in p.text  # nothing published yet
    assert "남은 예비 기업 1곳에도 바뀐 예비 순위를 알립니다" in p.text
    stale = p.token("예, 처리합니다")
    await choose(p, "중단")
    assert world.snapshot() == before
    await p.press_token(stale)
    assert STALE in p.text and world.snapshot() == before

    await board(p)
    await p.press("↩ 0001 선정 포기")
    await p.send("해외 전시 일정과 겹쳐 참석할 수 없다고 합니다.")
    await choose(p, "예, 처리합니다")
    assert "PD-202612-0001의 선정 포기를 처리" in p.text and "예비 기업(PD-202612-0003)은 선정으로" in p.text
    assert withdrawals(p) == ["↩ 0002 선정 포기", "↩ 0003 선정 포기"]
    with world.session() as session:
        decided = session.get(Selection, "2026-12").decided  # type: ignore[union-attr]
        assert (decided["selected"], decided["waitlisted"], decided["withdrawn"]) == ([b, c], [d], [a])
        assert [x.status for x in (session.get(Application, i) for i in (a, c, d))] == [  # type: ignore[union-attr]
            "withdrawn", "selected", "waitlisted"]  # fmt: skip
        rows = session.exec(PurchaseDecision.__table__.select()).all()  # type: ignore[attr-defined]
        assert {(r.application_id, r.department) for r in rows} == {(b, "푸른도시여가국"), (c, "수요처8003")}
    assert sorted(o.template for o in world.all(Outbox)) == [
        "results/promoted", "results/waitlist_moved", "results/withdrawn"]  # fmt: skip
    [moved] = [o for o in world.all(Outbox) if o.template == "results/waitlist_moved"]
    assert moved.chat_id == "8004" and (moved.data["position"], moved.data["previous"]) == (1, 2)

    # The next withdrawal takes the next on the waitlist; then nobody is left, and the place stays empty.
    await p.press("↩ 0002 선정 포기")
    await p.send("대표자 사정")
    assert "예비 1순위 PD-202612-0004" in p.text  # as it was told when it moved up
    assert "남은 예비 기업" not in p.text  # nobody behind it
    await choose(p, "예, 처리합니다")
    await p.press("↩ 0003 선정 포기")
    await p.send("제품 인증 지연")
    assert "대기 중인 예비 기업이 없어" in p.text
    await choose(p, "예, 처리합니다")
    assert "대기 중인 예비 기업이 없습니다" in p.text and withdrawals(p) == ["↩ 0004 선정 포기"]
    assert len([o for o in world.all(Outbox) if o.template == "results/promoted"]) == 2
    assert len([o for o in world.all(Outbox) if o.template == "results/waitlist_moved"]) == 1


@BOTH
async def test_only_an_organizer_and_only_between_the_results_and_the_pitch(
    caps: Capabilities, person: Make, world: World
) -> None:
    [a], _ = seed_released(world, ["서울교통공사"], 1, channel=caps.channel)
    world.grant(caps.channel, "org-2", Role.ORGANIZER)
    world.clock.set(at(18))
    company = person(caps, "8001")
    organizer = person(caps, "org-2")
    await board(organizer)
    token = organizer.token("0001 선정 포기")
    before = world.snapshot()
    await company.press_token(token)
    assert NOT_ALLOWED in company.text and world.snapshot() == before

    # The form stays open across the pitch's start: the service refuses, clearly, and nothing changes.
    await organizer.press_token(token)
    await organizer.send("참석 불가")
    world.clock.set(at(24, 14))
    await choose(organizer, "예, 처리합니다")
    assert "피칭데이(2026년 12월 24일(목) 14:00)가 시작되어" in organizer.text
    with world.session() as session:
        assert session.get(Application, a).status == "selected"  # type: ignore[union-attr]
    await board(organizer)
    assert "「선정 포기」 버튼" not in organizer.text and withdrawals(organizer) == []


@BOTH
async def test_two_organizers_withdrawing_at_once_promote_two_companies(
    caps: Capabilities, person: Make, world: World
) -> None:
    """Each confirmation takes the selection in turn: the waitlist's first goes to one; the other, told the
    waitlist's first would take the place, is shown the change and confirms again: the second goes to it,
    never the same company twice."""
    [a, b], [c, d] = seed_released(world, ["서울교통공사", "푸른도시여가국"], 2, channel=caps.channel)
    world.grant(caps.channel, "org-3", Role.ORGANIZER)
    world.grant(caps.channel, "org-4", Role.ORGANIZER)
    world.clock.set(at(18))
    first, second = person(caps, "org-3"), person(caps, "org-4")
    for p, label in ((first, "↩ 0001 선정 포기"), (second, "↩ 0002 선정 포기")):
        await board(p)
        await p.press(label)
        await p.send("참석할 수 없다고 알려 왔습니다.")
    tokens = [p.token("예, 처리합니다") for p in (first, second)]
    pairs = zip((first, second), tokens, strict=True)
    await asyncio.gather(*(p.handle(p.incoming(Kind.CHOICE, token=tok)) for p, tok in pairs))
    [later] = [p for p in (first, second) if "예비 순위가 방금 바뀌었습니다" in p.text]
    assert "예비 1순위" in later.text  # the one still waiting now, named in the confirmation shown again
    await choose(later, "예, 처리합니다")
    with world.session() as session:
        decided = session.get(Selection, "2026-12").decided  # type: ignore[union-attr]
        statuses = {i: session.get(Application, i).status for i in (a, b, c, d)}  # type: ignore[union-attr]
    assert sorted(decided["withdrawn"]) == [a, b] and sorted(decided["selected"]) == [c, d]
    assert decided["waitlisted"] == [] and decided["promoted"] in ([c, d], [d, c])
    assert statuses == {a: "withdrawn", b: "withdrawn", c: "selected", d: "selected"}
    promoted = sorted(o.event_key for o in world.all(Outbox) if o.template == "results/promoted")
    assert promoted == [f"2026-12:promoted:{c}", f"2026-12:promoted:{d}"]

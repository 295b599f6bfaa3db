"""The committee's forms at the dialogue level, on both kinds of channel: an official's purchase decision
(a reason unless buying), a reviewer's scores (typed numbers pick the scale), an organizer's broadcast
(preview exactly as sent, the count, then progress with a stop button)."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.model import PLAIN, Capabilities
from bot.models import Broadcast, Outbox, PurchaseDecision, Review, Role
from bot.services import broadcasts, decisions, review
from tests.dialogue.driver import BOTH, Person, World, at
from tests.handlers.committee import ORGANIZER, seed_applications, seed_selected

Make = Callable[..., Person]


async def choose(p: Person, label: str) -> None:
    """Typed on a plain channel, pressed on Telegram."""
    await (p.send(label) if p.caps is PLAIN else p.press(label))


@BOTH
async def test_an_official_records_and_corrects_a_decision(caps: Capabilities, person: Make, world: World) -> None:
    seed_selected(world, ["서울교통공사", "푸른도시여가국"])  # type: ignore[arg-type]
    with world.session() as session:
        decisions.ensure_rows(session, "2026-12", world.clock.now())
    world.grant(caps.channel, "off-1", Role.OFFICIAL, department="서울교통공사")
    world.clock.set(at(26))  # after Pitching Day (the 24th), before the deadline
    p = person(caps, "off-1")

    await p.send("구매결정" if caps is PLAIN else "/decisions")
    assert "구매결정 — 서울교통공사" in p.text
    assert p.labels() == ["기업1 / 서울교통공사"]  # only their own department's
    await p.press("기업1")
    assert "결정 (1/1)" in p.text and "구매 여부를 선택해 주십시오" in p.text

    # Not buying needs a reason: blank is refused, the question stays.
    await choose(p, "미구매")
    assert "사유 (2/2)" in p.text
    await p.send("   ")
    assert "사유가 필요합니다" in p.text and "사유 (2/2)" in p.text
    await p.send("올해 예산이 소진되어 내년에 다시 검토합니다.")
    assert "결정: 미구매" in p.text and "사유: 올해 예산이 소진되어" in p.text
    assert p.labels() == ["✅ 확정", "✖ 취소"]
    await choose(p, "확정")
    assert "결정을 저장하고 기업에 안내했습니다" in p.text
    [row] = [d for d in world.all(PurchaseDecision) if d.department == "서울교통공사"]
    assert (row.status, row.reason, row.corrections) == ("no_buy", "올해 예산이 소진되어 내년에 다시 검토합니다.", 0)
    assert len(world.all(Outbox)) == 1  # the company is told

    # Corrected to buying: no reason is asked, amount and timing are optional.
    await p.send("구매결정" if caps is PLAIN else "/decisions")
    await p.press("기업1")
    await choose(p, "구매")
    assert "사유" not in p.text and "구매 수량 또는 금액" in p.text and "(2/3)" in p.text
    await p.send("10대")
    await choose(p, "건너뛰기")
    assert "결정: 구매" in p.text and "10대" in p.text
    await choose(p, "확정")
    assert "정정한 결정을 저장" in p.text
    [row] = [d for d in world.all(PurchaseDecision) if d.department == "서울교통공사"]
    assert (row.status, row.amount, row.timing, row.reason, row.corrections) == ("buy", "10대", None, None, 1)
    assert len(world.all(Outbox)) == 2


@BOTH
async def test_a_reviewer_scores_with_typed_numbers(caps: Capabilities, person: Make, world: World) -> None:
    seed_applications(world, 2)  # type: ignore[arg-type]
    world.grant(caps.channel, "rev-1", Role.REVIEWER)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    world.clock.set(at(12))
    p = person(caps, "rev-1")

    await p.send("심사" if caps is PLAIN else "/review")
    assert "0/2건 완료" in p.text
    await p.press("PD-202612-0002")
    await p.press("점수 입력")
    assert "혁신성 (1/5)" in p.text and "1 매우 미흡" in p.labels()
    # A number picks the scale's choice of that position (which is its score); 7 is none of them.
    await p.send("7")
    assert "아래 버튼 중에서 선택해 주십시오" in p.text and "혁신성 (1/5)" in p.text
    await p.send("4")
    assert "안전성 (2/5)" in p.text
    await p.send("5")
    await p.send("3 보통")  # or the label itself
    await p.send("2")
    assert "의견 (5/5)" in p.text
    await p.send("현장 실증 자료가 더 필요합니다.")
    assert "심사 점수 확인" in p.text and "혁신성: 4 우수" in p.text and "경제성: 2 미흡" in p.text
    await choose(p, "저장하기")
    assert "저장했습니다" in p.text and "PD-202612-0002" in p.text

    [mine] = [r for r in world.all(Review) if r.application_id == 2]
    assert (mine.innovation, mine.safety, mine.applicability, mine.economy) == (4, 5, 3, 2)
    assert mine.comment == "현장 실증 자료가 더 필요합니다."
    await p.send("심사" if caps is PLAIN else "/review")
    assert "1/2건 완료" in p.text and "✅ PD-202612-0002 제품2" in p.labels()


@BOTH
async def test_an_organizer_broadcasts_after_a_preview(caps: Capabilities, person: Make, world: World) -> None:
    seed_applications(world, 3)  # type: ignore[arg-type]
    if caps is PLAIN:
        world.grant("kakao", "org-1", Role.ORGANIZER)
    p = person(caps, "org-1" if caps is PLAIN else ORGANIZER)

    await p.send("공지" if caps is PLAIN else "/broadcast")
    assert "받는 분 (1/2)" in p.text and "2026-12 신청 기업" in p.labels()
    await choose(p, "등록 기업 전체")
    assert "내용 (2/2)" in p.text
    await choose(p, "직접 작성")
    assert "공지 글 (3/3)" in p.text
    [preview, confirm] = await p.send("12월 피칭데이는 24일(목)에 열립니다.")
    # The preview is the message as recipients will get it; then how many will get it.
    assert "12월 피칭데이는 24일(목)에 열립니다." in preview.text and not preview.buttons
    assert "등록 기업 전체" in confirm.text and "3명에게 보냅니다" in confirm.text
    assert p.labels(confirm) == ["📣 보내기", "✖ 취소"]
    assert world.all(Broadcast) == []  # nothing sent before it is confirmed

    [progress] = await p.press("보내기")
    assert "공지 #1" in progress.text and "남음: 3" in progress.text
    assert progress.live == ("broadcast", 1) and p.labels(progress) == ["⏹ 나머지 발송 중지"]
    [sent] = world.all(Broadcast)
    assert (sent.audience, sent.kind, sent.recipients, sent.status) == ("companies", "text", 3, "planning")
    assert world.all(Outbox) == []  # the turn only records it: the dispatcher plans it
    while True:
        with world.session() as session:
            if broadcasts.plan_batch(session, world.clock.now()) is None:
                break
    assert len(world.all(Outbox)) == 3 and world.all(Broadcast)[0].status == "sending"

    # The stop button stays valid on the progress message, whatever was said since.
    await p.send("도움말" if caps is PLAIN else "/help")
    [stopped] = await p.press("발송 중지")
    assert stopped.toast_only and "남은 3건의 발송을 중지했습니다" in (stopped.toast or "")
    assert "남은 3건의 발송을 중지했습니다" in stopped.text  # for a channel without toasts
    assert world.all(Broadcast)[0].status == "cancelled"

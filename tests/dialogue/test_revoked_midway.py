"""What was open when a role was taken back, and broadcasts to a month or an audience with nobody in it: an
invitation in a removed organizer's name, a cancel refused, last month's companies out of reach, a send to 0."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.model import PLAIN, Capabilities
from bot.models import Broadcast, Outbox, Role, RoleGrant, User
from bot.services import invitations, users
from tests.dialogue.driver import BOTH, Person, World, at
from tests.dialogue.test_appeal import released
from tests.dialogue.walks import file_appeal
from tests.handlers.waitlist import seed_released

Make = Callable[..., Person]


async def choose(p: Person, label: str) -> None:
    await (p.send(label) if p.caps is PLAIN else p.press(label))


def revoke(world: World, channel: str, ext: str, role: Role) -> None:
    with world.session() as session:
        users.revoke_role(session, channel, ext, role, world.clock.now(), world.settings)


@BOTH
async def test_an_invitation_of_a_removed_organizer_grants_nothing(
    caps: Capabilities, person: Make, world: World
) -> None:
    """It still made a reviewer, in the removed organizer's name."""
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    with world.session() as session:
        maker = session.get(User, world.user(caps.channel, "org-1").id)
        assert maker is not None
        made = invitations.create(session, maker, Role.REVIEWER, world.settings, world.clock.now())
        code, payload = invitations.shown(made), invitations.payload(made)
        session.commit()
    revoke(world, caps.channel, "org-1", Role.ORGANIZER)
    p = person(caps, "new-1")
    await p.send(f"시작 {code}" if caps is PLAIN else f"/start {payload}")
    assert "이 초대는 더 이상 쓸 수 없습니다" in p.text and "새 초대를 요청해" in p.text, p.text
    assert [g for g in world.all(RoleGrant) if g.role == "reviewer"] == []


@BOTH
async def test_an_organizer_whose_role_went_can_still_cancel(caps: Capabilities, person: Make, world: World) -> None:
    """On an appeal's decision page, 「중단」 answered "no permission" each time and the typed reason stayed."""
    released(world, "telegram")
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    world.clock.set(at(16))
    c = person(caps, "7001", channel="telegram")
    await file_appeal(c, "행정적 오류", "발표자료 파일이 심사 자료에 첨부되지 않았습니다.")
    org = person(caps, "org-1")
    await org.send("이의신청 처리" if caps is PLAIN else "/appeals")
    await org.press("1. 기업7001")
    await org.press("인용·기각 결정")
    await choose(org, "기각")
    await org.send("자료가 정상적으로 첨부되어 있었습니다.")
    revoke(world, caps.channel, "org-1", Role.ORGANIZER)
    await org.press("중단")
    assert "권한이 없어" in org.text and "취소했습니다" in org.text, org.text  # said, and done
    assert world.draft(caps.channel, "org-1", "appeal_decision") is None


@BOTH
async def test_last_months_selected_companies_can_be_reached(caps: Capabilities, person: Make, world: World) -> None:
    """With January's first application in, 「공지 2026-12」 offered January's audiences only."""
    seed_released(world, ["서울교통공사", "푸른도시여가국"], 0)
    world.applications(1, month="2027-01", first=9001)
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    world.clock.set(at(2, 10, month=1, year=2027))  # December's decisions are due on the 8th
    p = person(caps, "org-1")
    await p.send("공지 2026-12" if caps is PLAIN else "/broadcast 2026-12")
    assert "2026년 12월 선정 기업" in p.labels(), p.labels()


@BOTH
async def test_an_audience_with_nobody_in_it_is_asked_again(caps: Capabilities, person: Make, world: World) -> None:
    """It offered 「… 0명에게 보냅니다」, refused the send, and offered the same page again."""
    world.applications(1)
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    p = person(caps, "org-1")
    await p.send("공지" if caps is PLAIN else "/broadcast")
    await choose(p, "선정 기업")
    await choose(p, "직접 작성")
    await p.send("선정 기업 여러분께 알립니다.")
    assert "받을 사람이 없습니다" in p.text and "받는 분 (1/3)" in p.text, p.text
    await choose(p, "등록 기업 전체")
    assert "선정 기업 여러분께 알립니다." in p.text and "1명에게 보냅니다" in p.text, p.text  # the text kept
    assert world.all(Broadcast) == []


@BOTH
async def test_a_company_moved_up_keeps_its_appeal_in_sight(caps: Capabilities, person: Make, world: World) -> None:
    """Waitlisted, it appealed; a selected company gave up its place and it moved up: 「이의신청」 then said
    "no result to appeal" with its appeal still open."""
    seed_released(world, ["서울교통공사"], 2, channel=caps.channel)
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    world.clock.set(at(16))
    c = person(caps, "8002")
    await c.send("이의신청" if caps is PLAIN else "/appeal")
    await choose(c, "명백한 오인")
    await c.send("시정 적용 실적 2건이 심사에서 누락되었습니다.")
    await c.press("건너뛰기")
    await c.press("이의신청 제출")
    world.clock.set(at(18))
    org = person(caps, "org-1")
    await org.send("선정 2026-12" if caps is PLAIN else "/selection 2026-12")
    await org.press("↩ 0001 선정 포기")
    await org.send("참석할 수 없다고 합니다.")
    await choose(org, "예, 처리합니다")
    await c.send("이의신청" if caps is PLAIN else "/appeal")
    assert "이의신청하실 수 있는 결과가 없습니다" not in c.text and "처리 상태: 처리 중" in c.text, c.text
    await c.send("현황" if caps is PLAIN else "/status")  # its Pitching Day, not the waitlist's facts (it failed)
    assert "일시적인 문제" not in c.text and "선정" in c.text, c.text
    # Accepted now, it is not promised a correction of a result it has already had.
    await org.send("이의신청 처리" if caps is PLAIN else "/appeals")
    await org.press("기업8002")
    await org.press("인용·기각 결정")
    await choose(org, "인용")
    await org.send("실적 자료가 누락된 것을 확인했습니다.")
    await choose(org, "결정 확정")
    [told] = [o for o in world.all(Outbox) if o.template == "appeal/decided"]
    assert told.data["selected"] is True


@BOTH
async def test_a_place_given_up_by_another_organizer_first_shows_the_board(
    caps: Capabilities, person: Make, world: World
) -> None:
    """Two organizers record the same company giving up its place: the second was refused and offered the same
    confirmation again, which could only fail again."""
    from bot.models import Selection

    [a, b], [c, _] = seed_released(world, ["서울교통공사", "푸른도시여가국"], 2, channel=caps.channel)
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    world.grant(caps.channel, "org-2", Role.ORGANIZER)
    world.clock.set(at(18))
    first, second = person(caps, "org-1"), person(caps, "org-2")
    for o in (first, second):
        await o.send("선정 2026-12" if caps is PLAIN else "/selection 2026-12")
        await o.press("↩ 0001 선정 포기")
        await o.send("참석할 수 없다고 합니다.")
    await choose(first, "예, 처리합니다")
    await choose(second, "예, 처리합니다")
    assert "선정 포기를 처리할 수 없습니다" in second.text and "2026년 12월 선정 심의" in second.text, second.text
    assert "예, 처리합니다" not in second.labels()
    with world.session() as session:
        chosen = session.get(Selection, "2026-12")
        assert chosen is not None and chosen.decided["withdrawn"] == [a] and chosen.decided["selected"] == [b, c]
    assert world.draft(caps.channel, "org-2", "selection_withdraw") is None


async def test_a_broadcast_month_that_is_no_month_is_said_so(person: Make, world: World) -> None:
    """「공지 12월」 fell back to the latest month unsaid; text typed on the broadcast's own page named a
    「✅ 제출하기」 it does not have."""
    world.applications(1)
    world.grant("kakao", "org-1", Role.ORGANIZER)
    p = person(PLAIN, "org-1")
    await p.send("공지 아무말")
    assert "「아무말」" in p.text and "받는 분" not in p.text, p.text
    await p.send("공지")
    await p.send("등록 기업 전체")
    await p.send("직접 작성")
    await p.send("알립니다.")
    await p.send("이대로 보내 주세요")
    assert "제출하기" not in p.text and "보내기" in " ".join(p.labels()), p.text

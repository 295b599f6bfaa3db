"""The appeal form (이의신청) at the dialogue level, on both kinds of channel: grounds as choices, a text
that must say enough, an optional PDF of evidence, back and keep, a review page with edits, cancel and
start again, one appeal per application; and the organizers' decision with a reason, without the
application's reviewers."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.model import PLAIN, Capabilities
from bot.models import Appeal, Application, Outbox, Review, Role, Selection
from tests.dialogue.driver import BOTH, SAMPLE_PDF, Person, World, at
from tests.dialogue.walks import file_appeal
from tests.handlers.waitlist import seed_accepted_appeal, seed_released

Make = Callable[..., Person]


def released(world: World, channel: str) -> tuple[int, int]:
    """Two applications, the second (of company ``co-1`` on ``channel``) not selected; results out on
    the 15th. Returns (selected, not selected)."""
    [won] = world.applications(1)
    [lost] = world.applications(1, first=7001, channel=channel)
    with world.session() as session:
        for app_id, status in ((won, "selected"), (lost, "not_selected")):
            app = session.get(Application, app_id)
            assert app is not None
            app.status, app.feedback = status, "실증 계획이 구체적이지 않습니다."
            session.add(app)
        session.add(Selection(month="2026-12", confirmed_at=at(14), release_at=at(15), released_at=at(15),
                              decided={"selected": [won], "waitlisted": [], "not_selected": [lost]}))  # fmt: skip
    return won, lost


async def choose(p: Person, label: str) -> None:
    await (p.send(label) if p.caps is PLAIN else p.press(label))


@BOTH
async def test_the_appeal_form_is_walked_and_filed_once(caps: Capabilities, person: Make, world: World) -> None:
    _, lost = released(world, caps.channel)
    world.clock.set(at(16))
    p = person(caps, "7001")
    word = "이의신청" if caps is PLAIN else "/appeal"

    await p.send(word)
    assert "이의신청 사유 (1/3)" in p.text and "2026년 12월 22일(화) 23:59" in p.text
    assert p.labels()[:3] == ["심사위원의 사실관계 오류", "명백한 오인", "행정적 오류"]
    await p.other()  # a sticker is no answer: said, and the same question again
    assert "이의신청 사유 (1/3)" in p.text
    await choose(p, "명백한 오인")
    assert "이의 내용 (2/3)" in p.text
    await p.send("다릅니다")
    assert "10자 이상" in p.text and "이의 내용 (2/3)" in p.text
    await p.press("이전")
    assert "이의신청 사유 (1/3)" in p.text and "현재 답변: 명백한 오인" in p.text
    await p.press("현재 답변 유지")
    await p.send("시정 적용 실적 2건이 심사에서 누락되었습니다.")
    assert "증빙자료(PDF) (3/3)" in p.text and "선택 사항" in p.text
    if caps is PLAIN:
        await p.send("파일이 없습니다")  # no file in this chat: a clear word, not a crash
        # It said "send it as a PDF file", which cannot be done here.
        assert "증빙자료(PDF)는 이 대화로 보내실 수 없습니다. 위 안내에 따라 올려 주시거나" in p.text
        await p.press("건너뛰기")
    else:
        await p.send("첨부합니다")
        assert "증빙자료는 PDF 파일로" in p.text
        await p.upload(b"PK\x03\x04", "실적.docx", "application/msword")
        assert "증빙자료는 PDF 파일만" in p.text
        await p.upload(SAMPLE_PDF, "실적.pdf", "application/pdf")
    assert "이의신청 확인" in p.text and "시정 적용 실적 2건이" in p.text
    await p.press("이의 내용")  # change an answer from the review page
    await p.send("시정 적용 실적 2건(2025년 도로사업소)이 심사에서 누락되었습니다.")
    assert "이의신청 확인" in p.text and "2025년 도로사업소" in p.text
    await p.press("이의신청 제출")
    assert "이의신청을 접수했습니다" in p.text
    with world.session() as session:
        [appeal] = session.exec(Appeal.__table__.select()).all()  # type: ignore[attr-defined]
    assert appeal.application_id == lost and appeal.ground == "misreading"
    assert (appeal.file_name == "실적.pdf") is (caps is not PLAIN)

    await p.send(word)  # once per application: the status instead of a second form
    assert "처리 중" in p.text and "명백한 오인" in p.text
    await p.press_token(f"e:appeal:new:{lost}")  # the result message's button, pressed again
    assert "이미 접수되었습니다" in p.text


@BOTH
async def test_a_cancelled_appeal_can_start_again_until_the_period_ends(
    caps: Capabilities, person: Make, world: World
) -> None:
    released(world, caps.channel)
    world.clock.set(at(22, 23))
    p = person(caps, "7001")
    await p.send("이의신청" if caps is PLAIN else "/appeal")
    await choose(p, "행정적 오류")
    await p.send("취소" if caps is PLAIN else "/cancel")
    assert "중단했습니다" in p.text and "2026년 12월 22일(화) 23:59까지" in p.text
    assert world.draft(caps.channel, "7001", "appeal") is None
    await p.send("이의신청" if caps is PLAIN else "/appeal")
    assert "이의신청 사유 (1/3)" in p.text  # afresh
    await choose(p, "행정적 오류")
    world.clock.set(at(23, 0))  # the period ends while the form is open: the submit is refused, with the date
    await p.send("제출 서류 목록이 심사 자료와 달랐습니다.")
    await p.press("건너뛰기")
    await p.press("이의신청 제출")
    assert "2026년 12월 22일(화) 23:59에 끝났습니다" in p.text
    assert world.all(Appeal) == []


@BOTH
async def test_organizers_decide_with_a_reason_and_never_on_what_they_reviewed(
    caps: Capabilities, person: Make, world: World
) -> None:
    _, lost = released(world, "telegram")  # the company is on Telegram; the organizers on ``caps``
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    world.grant(caps.channel, "org-2", Role.ORGANIZER)
    reviewing = world.user(caps.channel, "org-2")
    with world.session() as session:
        session.add(Review(application_id=lost, reviewer_user_id=reviewing.id or 0, assigned_at=at(11),
                           updated_at=at(11), innovation=2, safety=2, applicability=2, economy=2))  # fmt: skip
    world.clock.set(at(16))
    company = person(caps, "7001", channel="telegram")
    await file_appeal(company, "심사위원의 사실관계 오류", "매출 자료의 연도가 잘못 읽혔습니다.")

    excluded = person(caps, "org-2")
    await excluded.send("이의신청 처리" if caps is PLAIN else "/appeals")
    assert "처리 불가" in excluded.text
    await excluded.press("1. 기업7001")
    assert "처리하실 수 없습니다" in excluded.text and not any("결정" in label for label in excluded.labels())

    organizer = person(caps, "org-1")
    await organizer.send("이의신청 처리" if caps is PLAIN else "/appeals")
    await organizer.press("1. 기업7001")
    await organizer.press("인용·기각 결정")
    await choose(organizer, "기각")
    await organizer.send(" ")
    assert "처리 사유가 필요합니다" in organizer.text  # a decision always has its reason
    await organizer.send("매출 자료는 2025년 기준으로 바르게 반영되었습니다.")
    assert "처리 결과: 기각" in organizer.text
    await organizer.press("결정 확정")
    assert "기각으로 처리하고" in organizer.text
    await excluded.press("1. 기업7001")
    assert "기각" in excluded.text
    with world.session() as session:
        [appeal] = session.exec(Appeal.__table__.select()).all()  # type: ignore[attr-defined]
    assert appeal.status == "rejected" and appeal.decided_by == world.user(caps.channel, "org-1").id


@BOTH
async def test_an_appeal_accepted_after_pitching_day_cannot_add_the_company(
    caps: Capabilities, person: Make, world: World
) -> None:
    _, lost = released(world, "telegram")
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    world.clock.set(at(22, 20))
    company = person(caps, "7001", channel="telegram")
    await file_appeal(company, "행정적 오류", "발표자료 파일이 심사 자료에 첨부되지 않았습니다.")
    world.clock.set(at(25))  # decided the day after Pitching Day (the 24th)
    organizer = person(caps, "org-1")
    await organizer.send("이의신청 처리" if caps is PLAIN else "/appeals")
    await organizer.press("1. 기업7001")
    await organizer.press("인용·기각 결정")
    await choose(organizer, "인용")
    await organizer.send("첨부 누락을 확인했습니다. 다음 달 심사에 우선 반영합니다.")
    await organizer.press("결정 확정")
    assert "인용으로 처리하고" in organizer.text and not any("선정에 추가" in label for label in organizer.labels())
    with world.session() as session:
        [appeal_id] = [a.id for a in session.exec(Appeal.__table__.select()).all()]  # type: ignore[attr-defined]
    await organizer.press_token(f"e:appeals:promote:{appeal_id}")
    assert "선정에 추가할 수 없습니다" in organizer.text and "피칭데이 전까지" in organizer.text
    with world.session() as session:
        app = session.get(Application, lost)
        assert app is not None and app.status == "not_selected"


@BOTH
async def test_a_waitlisted_company_added_after_its_appeal_moves_those_behind_it_up(
    caps: Capabilities, person: Make, world: World
) -> None:
    """The second on the waitlist is added to the selection after its appeal: the third becomes the second
    and is told so (with the Pitching Day); the first keeps its place and hears nothing."""
    [a], [c, d, e] = seed_released(world, ["서울교통공사"], 3, channel=caps.channel)
    appeal_id = seed_accepted_appeal(world, d)
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    world.clock.set(at(18))
    organizer = person(caps, "org-1")
    await organizer.send("이의신청 처리" if caps is PLAIN else "/appeals")
    await organizer.press("1. 기업8003")
    await organizer.press("🏅 선정에 추가")
    await choose(organizer, "예, 선정에 추가합니다")
    assert "추가하고 선정 안내를 발송했습니다" in organizer.text
    with world.session() as session:
        decided = session.get(Selection, "2026-12").decided  # type: ignore[union-attr]
        assert (decided["selected"], decided["waitlisted"]) == ([a, d], [c, e])
        assert session.get(Appeal, appeal_id).promoted_at is not None  # type: ignore[union-attr]
    moved = [o for o in world.all(Outbox) if o.template == "results/waitlist_moved"]
    assert [(o.chat_id, o.data["position"], o.data["previous"], o.data["cause"]) for o in moved] == [
        ("8004", 2, 3, "appeal")]  # fmt: skip
    assert sorted(o.template for o in world.all(Outbox)) == ["results/selected", "results/waitlist_moved"]


@BOTH
async def test_a_waitlisted_company_reads_its_place_and_its_appeal_in_its_status(
    caps: Capabilities, person: Make, world: World
) -> None:
    seed_released(world, ["서울교통공사"], 2, channel=caps.channel, first=7101)
    world.clock.set(at(16))
    p = person(caps, "7102")
    status = "현황" if caps is PLAIN else "/status"

    await p.send(status)
    assert "예비 1순위입니다" in p.text and "피칭데이(2026년 12월 24일(목)) 전에 연락드립니다" in p.text
    assert "2026년 12월 22일(화) 23:59까지 「⚖ 이의신청」으로 이의신청을 하실 수 있습니다" in p.text
    await choose(p, "⚖ 이의신청")
    assert "이의신청 사유 (1/3)" in p.text
    await choose(p, "명백한 오인")
    await p.send("시정 적용 실적 2건이 심사에서 누락되었습니다.")
    await p.press("건너뛰기")
    await p.press("이의신청 제출")
    await p.send(status)
    assert "이의신청(2026년 12월 16일(수) 10:00 접수): 처리 중" in p.text and "⚖ 이의신청" not in p.labels()

"""A form left midway (another word typed, the conversation moved on) is found again as it was left when the
person comes back to the same thing: a reviewer's scores, a company's appeal, an edit of a submitted
application. Nothing typed is lost, and nothing is saved before its confirmation."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.model import PLAIN, Capabilities
from bot.models import Appeal, Application, Review, Role
from bot.services import decisions, review
from tests.dialogue.driver import BOTH, Person, World, at
from tests.dialogue.test_appeal import released
from tests.dialogue.walks import fill_application, register_profile, submit
from tests.handlers.committee import seed_selected

Make = Callable[..., Person]


async def choose(p: Person, label: str) -> None:
    await (p.send(label) if p.caps is PLAIN else p.press(label))


def a_reviewer_of_two(caps: Capabilities, person: Make, world: World) -> tuple[Person, str]:
    """A pledged reviewer with two applications assigned, on the 12th; and the word that opens their list."""
    world.applications(2)
    world.grant(caps.channel, "rev-1", Role.REVIEWER, pledged=True)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    world.clock.set(at(12))
    return person(caps, "rev-1"), "심사" if caps is PLAIN else "/review"


@BOTH
async def test_a_reviewer_leaving_the_summary_finds_the_scores_again(
    caps: Capabilities, person: Make, world: World
) -> None:
    p, word = a_reviewer_of_two(caps, person, world)

    await p.send(word)
    await choose(p, "1")
    await choose(p, "점수 입력")
    for answer in ("5", "4", "3", "4"):
        await p.send(answer)
    await p.send("실증 계획이 구체적입니다.")
    assert "심사 점수 확인" in p.text
    await p.send(word)  # away, to the list: nothing is saved yet, and the list says so
    assert "0/2건 완료" in p.text and "1. PD-202612-0001 제품8001 — 작성 중(저장 전)" in p.text, p.text
    await choose(p, "1")
    await choose(p, "점수 입력")
    assert "심사 점수 확인" in p.text and "혁신성: 5" in p.text and "실증 계획이 구체적입니다." in p.text
    await choose(p, "저장하기")
    assert "저장했습니다" in p.text
    [mine] = [r for r in world.all(Review) if r.application_id == 1]
    assert (mine.innovation, mine.safety, mine.applicability, mine.economy) == (5, 4, 3, 4)


@BOTH
async def test_a_reviewer_starting_another_application_is_asked_before_unsaved_scores_go(
    caps: Capabilities, person: Make, world: World
) -> None:
    """One draft of scores at a time: starting the second application's threw the first one's typed scores
    away without a word."""
    p, word = a_reviewer_of_two(caps, person, world)
    await p.send(word)
    await choose(p, "1")
    await choose(p, "점수 입력")
    for answer in ("5", "4", "3"):
        await p.send(answer)
    await p.send(word)
    await (p.send("2") if caps is PLAIN else p.press("PD-202612-0002"))
    await choose(p, "점수 입력")
    assert "PD-202612-0001 제품8001에 입력하고 저장하지 않은 점수가 있습니다" in p.text, p.text
    await choose(p, "앞 신청서 계속")
    assert "경제성 (4/5)" in p.text, p.text  # where it was left
    await p.send(word)
    await (p.send("2") if caps is PLAIN else p.press("PD-202612-0002"))
    await choose(p, "점수 입력")
    await choose(p, "버리고 새로")
    assert "혁신성 (1/5)" in p.text and "PD-202612-0002" in p.text, p.text
    await p.send(word)
    assert (
        "1. PD-202612-0001 제품8001 — 점수 입력 전" in p.text
        and "2. PD-202612-0002 제품8002 — 작성 중(저장 전)" not in p.text
    )


@BOTH
async def test_an_appeal_started_again_goes_on_from_where_it_was(
    caps: Capabilities, person: Make, world: World
) -> None:
    released(world, caps.channel)
    world.clock.set(at(16))
    p = person(caps, "7001")
    word = "이의신청" if caps is PLAIN else "/appeal"

    await p.send(word)
    await choose(p, "명백한 오인")
    await p.send("시정 적용 실적 2건이 심사에서 누락되었습니다.")
    assert "증빙자료(PDF) (3/3)" in p.text
    await p.send("현황" if caps is PLAIN else "/status")
    await p.send(word)  # the word the result message gave
    assert "증빙자료(PDF) (3/3)" in p.text and "(1/3)" not in p.text
    await p.press("건너뛰기")
    assert "이의신청 확인" in p.text and "시정 적용 실적 2건이 심사에서 누락되었습니다." in p.text
    await p.press("이의신청 제출")
    [appeal] = world.all(Appeal)
    assert appeal.details == "시정 적용 실적 2건이 심사에서 누락되었습니다."


@BOTH
async def test_an_edit_left_midway_goes_on_and_a_cancelled_one_is_thrown_away(
    caps: Capabilities, person: Make, world: World
) -> None:
    p = person(caps, "5552")
    await register_profile(p)
    await fill_application(p, deck=False)
    await submit(p)
    status = "현황" if caps is PLAIN else "/status"

    await p.send(status)
    await choose(p, "수정")
    assert "신청서 확인" in p.text
    await choose(p, "제품·서비스명")
    await p.send("자율 순찰 로봇 HR-2")
    await p.send(status)  # left for another command: the change waits, the application as submitted
    assert [a.product_name for a in world.all(Application)] == ["자율 순찰 로봇 HR-1"]
    await choose(p, "수정")
    assert "신청서 확인" in p.text and "자율 순찰 로봇 HR-2" in p.text

    await p.send("취소" if caps is PLAIN else "/cancel")  # cancelled: thrown away, and said so
    assert "수정을 취소했습니다. 제출하신 신청서는 바뀌지 않았습니다" in p.text
    assert "접수 마감(2026년 12월 10일(목) 23:59) 전까지" in p.text
    await p.send(status)
    await choose(p, "수정")
    assert "자율 순찰 로봇 HR-1" in p.text and "HR-2" not in p.text
    assert [a.product_name for a in world.all(Application)] == ["자율 순찰 로봇 HR-1"]


@BOTH
async def test_an_optional_answer_given_before_can_be_taken_back_in_an_edit(
    caps: Capabilities, person: Make, world: World
) -> None:
    """The question says 「없으시면 건너뛰기」: the button is there beside 「현재 답변 유지」, and 「건너뛰기」
    typed empties the answer (it was stored as the price)."""
    p = person(caps, "5553")
    await register_profile(p)
    await fill_application(p, deck=False)
    await submit(p)

    await p.send("현황" if caps is PLAIN else "/status")
    await choose(p, "수정")
    await choose(p, "가격·단가")
    assert "현재 답변: 대당 4,800만 원" in p.text and "건너뛰기" in p.text
    assert {"현재 답변 유지", "건너뛰기"} <= set(p.labels()), p.labels()
    await (p.send("건너뛰기") if caps is PLAIN else p.press("건너뛰기"))
    assert "신청서 확인" in p.text and "대당 4,800만 원" not in p.text and "건너뛰기" not in p.text.split("확인")[1]
    await choose(p, "수정 내용 제출")
    [app] = world.all(Application)
    assert app.price is None and app.product_name == "자율 순찰 로봇 HR-1"


@BOTH
async def test_an_officials_decision_left_midway_goes_on_and_another_is_asked_first(
    caps: Capabilities, person: Make, world: World
) -> None:
    """An official's answers typed and not confirmed: reopening the same company went back to the first
    question, and opening another company's threw them away without a word."""
    seed_selected(world, ["서울교통공사", "서울교통공사"])  # type: ignore[arg-type]
    with world.session() as session:
        decisions.ensure_rows(session, "2026-12", world.clock.now())
    world.grant(caps.channel, "off-1", Role.OFFICIAL, department="서울교통공사")
    world.clock.set(at(26))
    p = person(caps, "off-1")
    word = "구매결정" if caps is PLAIN else "/decisions"
    await p.send(word)
    await (p.send("1") if caps is PLAIN else p.press("기업1"))
    await choose(p, "미구매")
    assert "사유 (2/2)" in p.text
    await p.send("도움말" if caps is PLAIN else "/help")  # away (typed, a command's words alone leave a question)
    await p.send(word)
    await (p.send("1") if caps is PLAIN else p.press("기업1"))
    assert "사유 (2/2)" in p.text, p.text  # where it was left
    await p.send("도움말" if caps is PLAIN else "/help")
    await p.send(word)
    await (p.send("2") if caps is PLAIN else p.press("기업2"))
    assert "기업1 / 서울교통공사의 구매결정을 입력하시다 확정하지 않으셨습니다" in p.text, p.text
    await choose(p, "버리고 새로")
    assert "결정 (1/3)" in p.text and "기업2" in p.text, p.text

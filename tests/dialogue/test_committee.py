"""The committee's forms at the dialogue level, on both kinds of channel: an official's purchase decision
(a reason unless buying), a reviewer's scores (typed numbers pick the scale), an organizer's broadcast
(preview exactly as sent, the count, then progress with a stop button)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from bot.clock import ManualClock
from bot.database import Database
from bot.dialogue.model import PLAIN, TELEGRAM, Capabilities
from bot.models import Application, AuditLog, Broadcast, FormDraft, Outbox, PurchaseDecision, Review, Role, Selection
from bot.services import broadcasts, decisions, review, selection, users
from bot.settings import Settings
from tests.dialogue.driver import BOTH, Person, World, at, build_engine
from tests.handlers.committee import ORGANIZER, seed_applications, seed_selected

Make = Callable[..., Person]
Scores = tuple[int, int, int, int]


def scored(world: World, settings: Settings, first: int, its: Scores, others: Scores) -> None:
    """The month's applications assigned and scored (``first``'s reviews with ``its``, every other with
    ``others``), each with the committee's reasons, without which results are not released (test_appeal)."""
    with world.session() as session:
        review.assign(session, "2026-12", settings, world.clock.now())
        for row in session.exec(select(Review)).all():
            scores = its if row.application_id == first else others
            row.innovation, row.safety, row.applicability, row.economy = scores
            session.add(row)
        for application in session.exec(select(Application)).all():
            application.feedback = "심사 의견"
            session.add(application)
        session.commit()


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
    assert p.labels() == ["1. 기업1 / 서울교통공사"]  # only their own department's
    assert "1. PD-202612-0001 기업1 — 제품1 (서울교통공사)" in p.text
    await choose(p, "1")  # typed, the number the list shows
    assert "결정 (1/3)" in p.text and "구매 여부를 선택해 주십시오" in p.text

    # Not buying needs a reason: blank is refused, the question stays.
    await choose(p, "미구매")
    assert "사유 (2/2)" in p.text
    await p.send("   ")
    assert "사유가 필요합니다" in p.text and "사유 (2/2)" in p.text
    await p.send("올해 예산이 소진되어 내년에 다시 검토합니다.")
    assert "결정: 미구매" in p.text and "사유: 올해 예산이 소진되어" in p.text
    assert p.labels() == ["✅ 확정", "✖ 취소"]
    # A reason typed again on the confirmation page: said how to change it (it said "choose a button").
    await p.send("내년 예산에 반영하겠습니다.")
    back = "「이전」으로" if caps is PLAIN else "/back으로"
    assert f"확인 화면에서는 입력하신 글을 답변으로 받지 않습니다. 고치시려면 {back} 앞 질문으로" in p.text, p.text
    assert "「✅ 확정」을 눌러 주십시오" in p.text and "사유: 올해 예산이 소진되어" in p.text
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
    world.grant(caps.channel, "rev-1", Role.REVIEWER, pledged=True)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    world.clock.set(at(12))
    p = person(caps, "rev-1")

    await p.send("심사" if caps is PLAIN else "/review")
    assert "0/2건 완료" in p.text
    await p.press("PD-202612-0002")
    await p.press("점수 입력")
    assert "혁신성 (1/5)" in p.text and "1 매우 미흡" in p.labels()
    # A number picks the scale's choice of that position (which is its score); 7 is none of them, and the
    # answer says what is (it said "choose a button" only).
    await p.send("7")
    assert "점수는 1부터 5까지의 숫자 하나로 입력하시거나" in p.text and "혁신성 (1/5)" in p.text
    await p.send("4점")  # as people write a score (it was refused)
    assert "안전성 (2/5)" in p.text
    await p.send("5")
    await p.send("3 보통")  # or the label itself
    await p.send("2 점")
    assert "의견 (5/5)" in p.text
    await p.send("현장 실증 자료가 더 필요합니다.")
    assert "심사 점수 확인" in p.text and "혁신성: 4 우수" in p.text and "경제성: 2 미흡" in p.text
    await choose(p, "저장하기")
    assert "저장했습니다" in p.text and "PD-202612-0002" in p.text

    [mine] = [r for r in world.all(Review) if r.application_id == 2]
    assert (mine.innovation, mine.safety, mine.applicability, mine.economy) == (4, 5, 3, 2)
    assert mine.comment == "현장 실증 자료가 더 필요합니다."
    await p.send("심사" if caps is PLAIN else "/review")
    assert "1/2건 완료" in p.text and "2. ✅ PD-202612-0002 제품2" in p.labels()
    assert "1. PD-202612-0001 제품1 — 점수 입력 전\n2. PD-202612-0002 제품2 — 완료" in p.text


@BOTH
async def test_an_organizer_broadcasts_after_a_preview(caps: Capabilities, person: Make, world: World) -> None:
    seed_applications(world, 3)  # type: ignore[arg-type]
    if caps is PLAIN:
        world.grant("kakao", "org-1", Role.ORGANIZER)
    p = person(caps, "org-1" if caps is PLAIN else ORGANIZER)

    await p.send("공지" if caps is PLAIN else "/broadcast")
    assert "받는 분 (1/3)" in p.text and "2026년 12월 신청 기업" in p.labels()
    await choose(p, "등록 기업 전체")
    assert "내용 (2/3)" in p.text
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


@BOTH
async def test_a_reviewer_accepts_the_pledge_before_the_first_review(
    caps: Capabilities, person: Make, world: World
) -> None:
    seed_applications(world, 2)  # type: ignore[arg-type]
    world.grant(caps.channel, "rev-2", Role.REVIEWER)  # granted before the pledge existed
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    world.clock.set(at(12))
    p = person(caps, "rev-2")
    review_command = "심사" if caps is PLAIN else "/review"

    await p.send(review_command)
    assert "심사를 시작하시기 전에" in p.text and p.labels()[:2] == ["서약합니다", "서약하지 않습니다"]
    await p.press("중단")  # leaving is declining: nothing opens, and the way back is named
    assert "심사를 하실 수 없습니다" in p.text and ("「심사」" if caps is PLAIN else "/review") in p.text
    before = world.snapshot()
    await p.press_token(f"e:review:score:{world.all(Review)[0].id}")  # an old card's button
    assert "이해충돌 방지 서약" in p.text and world.snapshot()["reviews"] == before["reviews"]
    await choose(p, "서약합니다")
    assert "서약에 동의하셨습니다" in p.text and "0/2건 완료" in p.text

    # The time a review became complete is kept; a later correction does not move it.
    await p.press("PD-202612-0001")
    await p.press("점수 입력")
    for score in ("4", "4", "3", "5"):
        await p.send(score)
    await p.send("야간 실증 자료를 보완해 주십시오.")
    await choose(p, "저장하기")
    [mine] = [r for r in world.all(Review) if r.application_id == 1]
    assert mine.completed_at == at(12)
    world.clock.set(at(13))
    await p.press("점수 입력")
    await p.press("✏️ 혁신성")
    await p.send("2")
    await choose(p, "저장하기")
    [mine] = [r for r in world.all(Review) if r.application_id == 1]
    assert (mine.innovation, mine.completed_at, mine.updated_at) == (2, at(12), at(13))


@BOTH
async def test_an_organizer_reads_the_reviewer_statistics(caps: Capabilities, person: Make, world: World) -> None:
    seed_applications(world, 3)  # type: ignore[arg-type]
    for key in ("rev-a", "rev-b"):
        world.grant(caps.channel, key, Role.REVIEWER, pledged=True)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
        for row in session.exec(select(Review)).all():
            mine = row.reviewer_user_id == world.user(caps.channel, "rev-a").id
            if not mine and row.application_id == 3:
                row.conflict = True  # rev-b declared a conflict on the third
            else:
                score = 5 if mine else 3
                row.innovation = row.safety = row.applicability = row.economy = score
                row.completed_at = at(14, 23) if mine else at(13, 9)
            session.add(row)
        session.commit()
    organizer = person(caps, "org-1" if caps is PLAIN else ORGANIZER)
    if caps is PLAIN:
        world.grant("kakao", "org-1", Role.ORGANIZER)
    world.clock.set(at(16))

    await organizer.send("심사위원 통계 2026-13" if caps is PLAIN else "/reviewers 2026-13")
    assert "「2026-13」은 연월로 알아볼 수 없습니다" in organizer.text  # not another month's figures
    await organizer.send("심사위원 통계 2026년 12월" if caps is PLAIN else "/reviewers 2026.12")
    text = organizer.text
    assert "2026년 12월 심사위원 통계 — 2명" in text and "위원회 평균 4.20점" in text
    first, second = text.split("\n\n")[1:3]
    assert first.startswith("1. 심사위원 #") and "배정 2건 · 완료 2건 · 이해충돌 1건" in first
    assert "평균 3.00점 · 표준편차 0.00 · 다른 위원 대비 -2.00점(차이 크기 2.00, 2건)" in first
    assert "마감 1일 14시간 전" in first  # the 13th 09:00 against the 14th 23:59
    assert "배정 3건 · 완료 3건" in second and "다른 위원 대비 +2.00점" in second and "마감 직전" in second
    assert all(len(o.text) <= caps.max_text for o in organizer.last)

    reviewer = person(caps, "rev-a")
    await reviewer.send("심사위원 통계" if caps is PLAIN else "/reviewers")
    assert "2026년 12월 심사위원 통계" not in reviewer.text


@BOTH
async def test_the_board_says_how_it_aggregates_and_why_one_is_held_back(
    caps: Capabilities, world: World, settings: Settings, clock: ManualClock, db: Database
) -> None:
    fairer = settings.model_copy(update={"trim_min_reviews": 3, "pass_marks": (0.0, 3.0, 0.0, 0.0),
                                         "selected_count": 1, "waitlist_count": 0})  # fmt: skip
    first, second = seed_applications(world, 2)  # type: ignore[arg-type]
    for key in ("r1", "r2", "r3"):
        world.grant(caps.channel, key, Role.REVIEWER, pledged=True)
    # The first ranks higher (4.25 against 4.00) but scores 2 on 안전성.
    scored(world, fairer, first, (5, 2, 5, 5), (4, 4, 4, 4))
    world.clock.set(at(14))
    boss = Person(build_engine(fairer, clock, db), caps, "org-1" if caps is PLAIN else str(ORGANIZER))
    if caps is PLAIN:
        world.grant("kakao", "org-1", Role.ORGANIZER)

    await boss.send("선정 2026-12" if caps is PLAIN else "/selection 2026-12")
    assert "최고·최저 총점을 하나씩 빼고 평균(절사평균)" in boss.text and "기준 점수: 안전성 3." in boss.text
    assert "⚠ 기준 미달: 안전성 2.00" in boss.text and "절사평균 1건" in boss.text
    with world.session() as session:
        prop = selection.proposal(session, "2026-12", fairer)
    assert [r.application.id for r in prop.selected] == [second]
    assert [(r.application.id, r.below_pass) for r in prop.not_selected] == [(first, ("safety",))]
    await boss.press("1. PD-202612-0001")
    assert "안전성 평균이 기준 점수(3)에 못 미쳐" in boss.text
    await boss.press("선정에 포함")
    with world.session() as session:
        prop = selection.proposal(session, "2026-12", fairer)
    assert [r.application.id for r in prop.selected] == [first]  # moved in by the organizer
    await boss.press("선정 확정")
    await choose(boss, "예, 확정합니다")
    [logged] = [a for a in world.all(AuditLog) if a.action == "selection_aggregation"]
    assert logged.data == {"trim_min_reviews": 3, "pass_marks": [0.0, 3.0, 0.0, 0.0],
                           "below_pass": {str(first): ["safety"]}, "trimmed": [first, second]}  # fmt: skip


async def test_the_pledge_is_among_what_is_kept_about_a_reviewer(person: Make, world: World) -> None:
    world.grant("telegram", "rev-3", Role.REVIEWER)
    world.clock.set(at(12))
    p = person(TELEGRAM, "rev-3")
    await p.send("/review")
    await p.press("서약합니다")
    await p.send("/mydata")
    [caption] = await p.press("내 정보 파일 받기")
    content = (caption.attachments[0].content or b"").decode("utf-8")
    assert "역할: 심사위원" in content
    assert "이해충돌 방지 서약: 2026년 12월 12일(토) 10:00 동의 (2026-12판)" in content


def test_a_reviewer_taken_off_mid_review_leaves_the_unscored_to_the_committee(world: World) -> None:
    """The role taken back: what they had not scored is taken off at once (complete scores stay, as given),
    and the next assignment gives the committee as it is now every application, a reviewer who joined late
    included (the old rows still counted, so the newcomer got nothing)."""
    from bot.models import Review as ReviewRow
    from bot.services import users

    [first, second] = world.applications(2)
    for reviewer in ("rev-a", "rev-b"):
        world.grant("telegram", reviewer, Role.REVIEWER, pledged=True)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, at(11))
    a = world.user("telegram", "rev-a")
    with world.session() as session:
        done = session.exec(select(ReviewRow).where(ReviewRow.reviewer_user_id == a.id,
                                                    ReviewRow.application_id == first)).one()  # fmt: skip
        done.innovation = done.safety = done.applicability = done.economy = 4
        session.add(done)
    with world.session() as session:
        users.revoke_role(session, "telegram", "rev-a", Role.REVIEWER, at(12), world.settings)
    assert {(r.reviewer_user_id, r.application_id) for r in world.all(ReviewRow) if r.reviewer_user_id == a.id} == {
        (a.id, first)
    }
    world.grant("telegram", "rev-c", Role.REVIEWER, pledged=True)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, at(12, 11))
    c = world.user("telegram", "rev-c")
    assert sorted(r.application_id for r in world.all(ReviewRow) if r.reviewer_user_id == c.id) == [first, second]


async def test_an_official_types_the_number_of_a_decision_on_another_page(person: Make, world: World) -> None:
    """Twelve companies to decide on: KakaoTalk shows them a page at a time, numbered in the text and on the
    quick replies; 「11」 typed on the first page opens the eleventh, as it would on its own page."""
    seed_selected(world, ["서울교통공사"] * 12)  # type: ignore[arg-type]
    with world.session() as session:
        decisions.ensure_rows(session, "2026-12", world.clock.now())
    world.grant("kakao", "off-12", Role.OFFICIAL, department="서울교통공사")
    world.clock.set(at(26))
    p = person(PLAIN, "off-12")
    await p.send("구매결정")
    assert "1. PD-202612-0001 기업1" in p.text and "목록 1/2쪽" in p.text and "다음 목록 ▶" in p.labels()
    assert not [label for label in p.labels() if label.startswith("11.")]
    await p.send("11")
    assert "결정 (1/3)" in p.text and "기업11" in p.text, p.text


@BOTH
async def test_a_reviewer_whose_role_is_taken_back_mid_form_is_told_once(
    caps: Capabilities, person: Make, world: World
) -> None:
    """Each answer after the role was taken back failed with "internal error ... your answers are saved"."""
    seed_applications(world, 1)  # type: ignore[arg-type]
    world.grant(caps.channel, "rev-9", Role.REVIEWER, pledged=True)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    world.clock.set(at(12))
    p = person(caps, "rev-9")
    await p.send("심사" if caps is PLAIN else "/review")
    await p.press("PD-202612-0001")
    await p.press("점수 입력")
    await p.send("4")
    assert "안전성 (2/5)" in p.text
    with world.session() as session:
        users.revoke_role(session, caps.channel, "rev-9", Role.REVIEWER, at(12), world.settings)
    await p.send("3")
    assert "이 신청서의 심사를 더 이상 하실 수 없습니다" in p.text and "저장되지 않았습니다" in p.text, p.text
    assert "일시적인 문제" not in p.text
    await p.send("3")  # the form is gone: no second notice, no error
    assert "심사를 더 이상" not in p.text and "일시적인 문제" not in p.text, p.text
    assert world.all(FormDraft) == []


async def test_a_selection_changed_after_the_question_is_not_confirmed_unseen(
    settings: Settings, clock: ManualClock, db: Database, world: World
) -> None:
    """Organizer A was asked to confirm 「선정 1곳」 (PD-0002); B moved PD-0001 in; A's 「예」 confirmed B's version
    unseen. And B's older board asked to confirm a month already confirmed."""
    few = settings.model_copy(update={"selected_count": 1, "waitlist_count": 0})
    first, _ = seed_applications(world, 2)  # type: ignore[arg-type]
    world.grant("telegram", "r1", Role.REVIEWER, pledged=True)
    scored(world, few, first, (3, 3, 3, 3), (4, 4, 4, 4))
    world.clock.set(at(14))
    world.grant("telegram", "org-b", Role.ORGANIZER)
    a = Person(build_engine(few, clock, db), TELEGRAM, str(ORGANIZER))
    b = Person(build_engine(few, clock, db), TELEGRAM, "org-b")
    await a.send("/selection 2026-12")
    await a.press("선정 확정")
    assert "선정 1곳" in a.text
    await b.send("/selection 2026-12")
    await b.press("2. PD-202612-0001")
    await b.press("선정에 포함")
    await a.press("예, 확정합니다")
    assert "다른 운영자가 선정 내용을 바꾸었습니다" in a.text and "확정하시겠습니까" in a.text, a.text
    assert world.all(Selection) == []
    await a.press("예, 확정합니다")  # now as it is shown
    [made] = world.all(Selection)
    assert made.decided["selected"] == [first]
    await b.press("선정 확정")  # B's board from before
    assert "선정이 이미 확정되어" in b.text and "확정하시겠습니까" not in b.text, b.text


async def test_the_organizers_decision_board_before_any_selection_names_the_month(person: Make, world: World) -> None:
    """It read 「 구매결정 현황 — 결정 0 …」 with no month, and told the organizer about "your department's"
    companies."""
    world.clock.set(at(12))
    p = person(TELEGRAM, str(ORGANIZER))
    await p.send("/decisions")
    assert "2026년 12월 구매결정 현황" in p.text and "아직 구매결정 대상이 없습니다" in p.text, p.text
    assert "귀 부서" not in p.text

"""The expert committee in the bot: invitations, assignment, the score form, conflicts."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import col, select

from bot.models import AuditLog, Review, Role, RoleGrant
from bot.services import users
from tests.handlers.committee import ORGANIZER, make_reviewers, seed_applications, set_scores
from tests.harness import KST, Harness
from tests.scheduler.helpers import tick_and_send

AFTER_CLOSE = dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST)


async def test_invitation_links_are_single_use_and_expire(harness: Harness) -> None:
    organizer = harness.user(ORGANIZER, "운영자")
    [made] = await organizer.send("/invite reviewer")
    payload = re.search(r"start=(inv_[\w-]+)", made.text).group(1)  # type: ignore[union-attr]
    assert "t.me/pitchday_sandbox_bot" in made.text and "한 번만" in made.text
    [ok] = await harness.user(7101).send(f"/start {payload}")
    assert "심사위원으로 등록" in ok.text
    [used] = await harness.user(7102).send(f"/start {payload}")
    assert "이미 사용된" in used.text
    # Its holder may open it again; once the role is taken back, the old link gives nothing (it said
    # "registered" and granted nothing).
    await harness.user(7101).send(f"/start {payload}", expect=2)
    with harness.session() as session:
        users.revoke_role(session, "telegram", "7101", Role.REVIEWER, harness.clock.now(), harness.settings)
    [again] = await harness.user(7101).send(f"/start {payload}")
    assert "이미 사용된" in again.text and "등록" not in again.text
    [made] = await organizer.send("/invite official 서울교통공사")
    late = re.search(r"start=(inv_[\w-]+)", made.text).group(1)  # type: ignore[union-attr]
    harness.clock.advance(dt.timedelta(days=8))
    [expired] = await harness.user(7103).send(f"/start {late}")
    assert "기한이 지난" in expired.text
    # Without a name the department is picked from the list; typed words narrow it.
    [picker] = await organizer.send("/invite official")
    assert "수요처를 목록에서 골라" in picker.text and "서울교통공사" in picker.button_texts()
    [unknown] = await organizer.send("없는기관")
    assert "「없는기관」이 들어간 수요처가 목록에 없습니다" in unknown.text
    [narrowed] = await organizer.send("교통")
    assert "「교통」이 들어간 수요처 2곳" in narrowed.text
    assert narrowed.button_texts()[:2] == ["도시교통실", "서울교통공사"]
    [made] = await organizer.press("서울교통공사")
    assert "수요처 담당자 초대를 만들었습니다 (서울교통공사)" in made.text
    [refused] = await harness.user(7104).send("/invite reviewer")
    assert "권한이 없어" in refused.text
    with harness.session() as session:
        assert session.exec(select(RoleGrant)).all() == []  # the one taken back


async def test_the_whole_committee_is_assigned_and_told(harness: Harness) -> None:
    seed_applications(harness, 3)
    make_reviewers(harness, 7201, 7202)
    assert await tick_and_send(harness, AFTER_CLOSE) == 2 + 3  # two reviewers told; three receipts
    for tg in (7201, 7202):
        [notice] = [e for e in harness.server.events[tg] if "심사를 요청드립니다" in e.text]
        assert "3건" in notice.text and "2026년 12월 14일(월) 23:59" in notice.text
    with harness.session() as session:
        assert len(session.exec(select(Review)).all()) == 6
    assert await tick_and_send(harness, AFTER_CLOSE + dt.timedelta(hours=1)) == 0
    # A reviewer who joins late gets the month's applications at the next tick, without a second notice.
    make_reviewers(harness, 7203)
    await tick_and_send(harness, AFTER_CLOSE + dt.timedelta(hours=2))
    with harness.session() as session:
        assert len(session.exec(select(Review)).all()) == 9


async def test_scoring_form_comment_and_conflict(harness: Harness) -> None:
    deck = harness.server.upload(b"%PDF-1.4 deck", "deck.pdf", "application/pdf")
    [first, second] = seed_applications(harness, 2, deck=deck)
    make_reviewers(harness, 7301, 7302)
    await tick_and_send(harness, AFTER_CLOSE)
    set_scores(harness, 7302, first, 1, 1, 1, 1)  # another reviewer's scores stay hidden
    reviewer = harness.user(7301, "심사위원")
    [listing] = await reviewer.send("/review")
    assert "0/2건 완료" in listing.text
    [card] = await reviewer.press("PD-202612-0001")
    assert card.document and card.document["file_id"] == deck  # the deck, with the card as its caption
    assert "혁신성: 미입력" in card.text and "제품1" in card.text
    assert "1점" not in card.text  # nobody else's scores
    [q] = await reviewer.press("점수 입력")
    assert "혁신성 (1/5)" in q.text and "PD-202612-0001" in q.text
    assert q.button_texts()[:5] == ["1 매우 미흡", "2 미흡", "3 보통", "4 우수", "5 매우 우수"]
    await reviewer.press("4 우수")
    await reviewer.press("5 매우 우수")
    await reviewer.press("3 보통")
    [q] = await reviewer.send("4")  # a typed number picks the fourth choice
    assert "의견 (5/5)" in q.text
    [page] = await reviewer.send("<b>좋은</b> 제품이나 & 안전 검증 필요")
    assert "혁신성: 4 우수" in page.text and "경제성: 4 우수" in page.text
    assert "의견: <b>좋은</b> 제품이나 & 안전 검증 필요" in page.text
    await reviewer.press("✏️ 혁신성")
    [page] = await reviewer.press("5 매우 우수")  # changed before saving
    [saved, again] = await reviewer.press("저장하기", expect=2)
    assert "저장했습니다" in saved.text and "혁신성: 5점" in again.text and "의견: <b>좋은</b>" in again.text
    with harness.session() as session:
        review = session.get(Review, _review_id(harness, 7301, first))
        assert review and (review.innovation, review.safety, review.applicability, review.economy) == (5, 5, 3, 4)
    # Scores change until the selection is confirmed; each change is in the audit log.
    [page] = await reviewer.press("점수 입력")
    assert "심사 점수 확인" in page.text  # complete scores open on the review page
    await reviewer.press("✏️ 혁신성")
    await reviewer.press("4 우수")
    await reviewer.press("저장하기", expect=2)
    with harness.session() as session:
        changes = session.exec(select(AuditLog).where(AuditLog.action == "score")).all()
        assert [(c.data["criterion"], c.data["old"], c.data["new"]) for c in changes][-1] == ("innovation", 5, 4)
        assert len(changes) == 5

    [listing] = await reviewer.send("/review")
    assert "1/2건 완료" in listing.text
    await reviewer.press("PD-202612-0002")
    [ask] = await reviewer.press("이해충돌 신고")
    assert "제외되며" in ask.text
    [done] = await reviewer.press("예, 신고합니다")
    assert "제외되었습니다" in done.text
    [listing] = await reviewer.send("/review")
    assert "1/1건 완료" in listing.text and "PD-202612-0002" not in " ".join(listing.button_texts())
    # A conflicted review cannot be scored again, even with forged data.
    [refused] = await reviewer.press_data(f"e:review:score:{_review_id(harness, 7301, second)}", listing.message_id)
    assert "권한이 없어" in refused.text


def _review_id(harness: Harness, reviewer_tg: int, app_id: int) -> int:
    from bot.models import User

    with harness.session() as session:
        user = session.exec(select(User).where(User.external_id == str(reviewer_tg))).one()
        return session.exec(
            select(Review.id).where(Review.application_id == app_id, Review.reviewer_user_id == user.id)
        ).one()  # type: ignore[return-value]


async def test_reminder_on_the_14th_to_reviewers_with_missing_scores(harness: Harness) -> None:
    [a, b] = seed_applications(harness, 2)
    make_reviewers(harness, 7401, 7402)
    await tick_and_send(harness, AFTER_CLOSE)
    set_scores(harness, 7401, a, 3, 3, 3, 3)
    set_scores(harness, 7401, b, 4, 4, 4, 4)
    set_scores(harness, 7402, a, 3, 3, 3, None)  # one criterion missing
    assert await tick_and_send(harness, dt.datetime(2026, 12, 14, 10, 0, tzinfo=KST)) == 1
    [nudge] = [e for e in harness.server.events[7402] if "아직 점수를" in e.text]
    assert "2건" in nudge.text
    assert not [e for e in harness.server.events[7401] if "아직 점수를" in e.text]


async def test_n_reviewers_per_application_balanced_and_replaced_after_a_conflict(harness: Harness) -> None:
    from collections import Counter

    from bot.services import review

    apps = seed_applications(harness, 3)
    make_reviewers(harness, 7501, 7502, 7503)
    two_each = harness.settings.model_copy(update={"reviewers_per_application": 2})
    with harness.session() as session:
        review.assign(session, "2026-12", two_each, harness.clock.now())
        session.commit()
        rows = session.exec(select(Review)).all()
        assert Counter(r.application_id for r in rows) == dict.fromkeys(apps, 2)
        assert sorted(Counter(r.reviewer_user_id for r in rows).values()) == [2, 2, 2]
        conflicted = rows[0]
        conflicted.conflict = True
        session.add(conflicted)
        session.commit()
        added = review.assign(session, "2026-12", two_each, harness.clock.now())
        session.commit()
        assert [r.application_id for r in added] == [conflicted.application_id]
        assert added[0].reviewer_user_id != conflicted.reviewer_user_id
        assert review.assign(session, "2026-12", two_each, harness.clock.now()) == []


async def test_the_conflict_of_interest_pledge_on_joining_and_at_the_next_review(harness: Harness) -> None:
    from bot.services import pledge

    seed_applications(harness, 2)
    organizer = harness.user(ORGANIZER, "운영자")
    [made] = await organizer.send("/invite reviewer")
    payload = re.search(r"start=(inv_[\w-]+)", made.text).group(1)  # type: ignore[union-attr]
    joining = harness.user(7601, "김교수")
    [ok, ask] = await joining.send(f"/start {payload}", expect=2)
    assert "심사위원으로 등록" in ok.text
    assert "이해충돌 방지 서약" in ask.text and "이해충돌 신고" in ask.text and "심사를 시작하시기 전에" not in ask.text
    assert ask.button_texts()[:2] == ["서약합니다", "서약하지 않습니다"]
    [accepted, affiliation] = await joining.press("서약합니다", expect=2)
    assert "서약에 동의하셨습니다" in accepted.text and pledge.VERSION in accepted.text
    assert "재직 중인 회사" in affiliation.text  # then whom they work for, as before
    await joining.press("건너뛰기")

    # A reviewer from before the pledge existed is asked at their next /review, and cannot go round it.
    make_reviewers(harness, 7602, pledged=False)
    await tick_and_send(harness, AFTER_CLOSE)
    harness.clock.set(AFTER_CLOSE + dt.timedelta(hours=1))
    earlier = harness.user(7602, "정연구원")
    [asked] = await earlier.send("/review")
    assert "심사를 시작하시기 전에" in asked.text and "이해충돌 방지 서약" in asked.text
    [declined] = await earlier.press("서약하지 않습니다")
    assert "심사를 하실 수 없습니다" in declined.text and "/review" in declined.text
    [again] = await earlier.press_data(f"e:review:open:{_review_id(harness, 7602, 1)}", declined.message_id)
    assert "이해충돌 방지 서약" in again.text and "PD-202612-0001" not in again.text  # no card without it
    [accepted, listing] = await earlier.press("서약합니다", expect=2)
    assert "서약에 동의하셨습니다" in accepted.text and "0/2건 완료" in listing.text
    [listing] = await earlier.send("/review")  # asked once: from now on the list comes at once
    assert "0/2건 완료" in listing.text

    with harness.session() as session:
        grants = {g.user_id: g for g in session.exec(select(RoleGrant)).all()}
        assert {g.pledge_version for g in grants.values()} == {pledge.VERSION}
        assert all(g.pledged_at is not None for g in grants.values())
        logged = session.exec(select(AuditLog).where(col(AuditLog.action).startswith("pledge_"))).all()
        assert [(a.action, a.data["version"]) for a in logged] == [
            ("pledge_accepted", pledge.VERSION), ("pledge_declined", pledge.VERSION),
            ("pledge_accepted", pledge.VERSION)]  # fmt: skip

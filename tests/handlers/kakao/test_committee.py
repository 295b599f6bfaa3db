"""The committee in KakaoTalk, over HTTP against the stand-in for Kakao's platform: a reviewer accepts the
conflict-of-interest pledge on joining (or at their next 「심사」), and an organizer reads the reviewer
statistics, split into messages KakaoTalk can carry."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import select

from bot.models import Review, Role, RoleGrant
from bot.services import pledge, review, users
from tests.handlers.committee import seed_applications
from tests.handlers.kakao.conftest import KakaoWorld
from tests.handlers.kakao.test_month import grant, tick_at
from tests.harness import KST


async def test_a_reviewer_pledges_in_kakaotalk(kakao: KakaoWorld) -> None:
    seed_applications(kakao, 2)
    organizer, joining, earlier = kakao.user(), kakao.user(), kakao.user()
    await organizer.say("메뉴")
    grant(kakao, organizer.user_id, Role.ORGANIZER)
    made = await organizer.say("초대 reviewer")
    code = made.text.split("「시작 ")[1].split("」")[0]
    said = "이라고" if code[-1].lower() in "0136781lmnr-" else "라고"  # the code's last character, read aloud
    assert f"「시작 {code}」{said} 입력" in made.text
    # Short enough to type by hand (it was 「inv_」 and 24 letters of both cases), in either case, dashes or not.
    assert re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}", code), code
    joined = await joining.say(f"시작 {code.lower().replace('-', '')}")
    # KakaoTalk gives no name: asked, so that organizers and the records need not show a number.
    assert "심사위원으로 등록" in joined.text and "성함" in joined.text
    named = await joining.say("박심사")
    assert "성함을 박심사로 기록했습니다" in named.text and "이해충돌 방지 서약" in named.text
    assert named.labels()[:2] == ["서약합니다", "서약하지 않습니다"]
    accepted = await joining.tap("서약합니다")
    assert "서약에 동의하셨습니다" in accepted.text and "재직 중인 회사" in accepted.text
    await joining.tap("건너뛰기")

    # A reviewer granted before the pledge existed is asked at their next 「심사」; typing the answer works.
    await earlier.say("메뉴")
    grant(kakao, earlier.user_id, Role.REVIEWER)
    await tick_at(kakao, dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST))
    asked = await earlier.say("심사")
    assert "심사를 시작하시기 전에" in asked.text and "서약합니다" in asked.labels()
    declined = await earlier.say("서약하지 않습니다")
    assert "심사를 하실 수 없습니다" in declined.text and "「심사」" in declined.text
    again = await earlier.say("심사")
    assert "이해충돌 방지 서약" in again.text
    listing = await earlier.say("서약합니다")
    assert "서약에 동의하셨습니다" in listing.text and "0/2건 완료" in listing.text
    with kakao.session() as session:
        versions = {g.pledge_version for g in session.exec(select(RoleGrant)).all() if g.role == "reviewer"}
        assert versions == {pledge.VERSION}
    board = await organizer.say("심사위원 통계 2026-12")
    assert "박심사" in board.text and "심사위원 #" in board.text, board.text  # the earlier one was never asked
    assert kakao.platform.violations == []


async def test_reviewer_statistics_fit_kakaotalk(kakao: KakaoWorld) -> None:
    seed_applications(kakao, 4)
    names = ["김교수", "이박사", "정연구원", "박위원", "최심사", "한전문", "오평가", "유자문", "서교수", "문박사"]
    with kakao.session() as session:
        for n, name in enumerate(names):
            users.ensure_user(session, "telegram", str(7900 + n), kakao.clock.now(), display_name=name)
            users.grant_role(session, "telegram", str(7900 + n), Role.REVIEWER, kakao.clock.now())
        review.assign(session, "2026-12", kakao.settings, kakao.clock.now())
        finished = dt.datetime(2026, 12, 13, 18, 0, tzinfo=KST)
        for row in session.exec(select(Review)).all():
            row.innovation = row.safety = row.applicability = row.economy = 1 + (row.id or 0) % 5
            row.completed_at = finished
            session.add(row)
        session.commit()
    organizer = kakao.user()
    await organizer.say("메뉴")
    grant(kakao, organizer.user_id, Role.ORGANIZER)
    kakao.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    answer = await organizer.say("심사위원 통계 2026-12")
    await kakao.bot.outbox_settled()
    parts = answer.texts + kakao.events(organizer)
    whole = "\n".join(parts)
    assert len(answer.texts) > 1 and all(len(p) <= 1000 for p in parts)  # ten reviewers: split to fit
    assert "2026년 12월 심사위원 통계 — 10명" in whole and "<b>" not in whole
    assert all(name in whole for name in names) and whole.count("마감 1일 5시간 전") == 10
    assert kakao.platform.violations == []


async def test_every_organizer_command_is_a_quick_reply_away_in_kakaotalk(kakao: KakaoWorld) -> None:
    """The organizer's menu as KakaoTalk shows it: ten quick replies at most, the daily work first (이의신청
    처리 and 심사위원 현황 among it), the rest one 「다음 목록」 away, each opening its command."""
    organizer = kakao.user()
    await organizer.say("메뉴")
    grant(kakao, organizer.user_id, Role.ORGANIZER)
    menu = await organizer.say("메뉴")
    assert menu.labels() == ["🏅 선정 심의", "⚖ 이의신청 처리", "📈 심사위원 현황", "🗓 프로그램", "🛒 구매결정",
                             "📣 공지 발송", "📊 엑셀 내보내기", "❓ 도움말", "다음 목록 ▶"]  # fmt: skip
    appeals = await organizer.tap("⚖ 이의신청 처리")
    assert appeals.text.startswith("이의신청 — 처리 중 0건"), appeals.text
    await organizer.say("메뉴")
    stats = await organizer.tap("📈 심사위원 현황")
    assert "심사위원 통계 — 0명" in stats.text, stats.text
    await organizer.say("메뉴")
    second = await organizer.tap("다음 목록")
    assert "목록 2/3쪽" in second.text and len(second.labels()) <= 10
    assert second.labels()[:4] == ["🏛 수요처 목록", "✉ 초대 만들기", "🗂 공지 내역", "🎪 박람회 수정"]
    listing = await organizer.tap("🏛 수요처 목록")
    assert listing.text.startswith("수요처 목록 ("), listing.text


async def test_a_reviewer_tells_the_applications_apart_by_their_quick_replies(kakao: KakaoWorld) -> None:
    seed_applications(kakao, 4)
    reviewer = kakao.user()
    await reviewer.say("메뉴")
    grant(kakao, reviewer.user_id, Role.REVIEWER)
    with kakao.session() as session:
        pledge_grant = session.exec(select(RoleGrant).where(RoleGrant.role == "reviewer")).one()
        pledge_grant.pledge_version = pledge.VERSION
        session.add(pledge_grant)
        review.assign(session, "2026-12", kakao.settings, kakao.clock.now())
    await tick_at(kakao, dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST))
    listing = await reviewer.say("심사")
    # The list is in the text, numbered; the quick replies, cut to 14 characters, carry the same numbers.
    assert "1. PD-202612-0001 제품1 — 점수 입력 전\n2. PD-202612-0002 제품2" in listing.text, listing.text
    entries = [label for label in listing.labels() if label[0].isdecimal()]  # 「1. ✏️ PD-202612-0001 제품1」, cut
    assert len(entries) == 4 and len(set(entries)) == 4, listing.labels()
    assert all(len(label) <= 14 for label in listing.labels())
    opened = await reviewer.tap(entries[2])
    assert "PD-202612-0003" in opened.text and "제품3" in opened.text, opened.text
    await reviewer.say("심사")
    typed = await reviewer.say("2")  # the number, typed
    assert "PD-202612-0002" in typed.text and "제품2" in typed.text, typed.text
    assert kakao.platform.violations == []

"""An appeal (이의신청) in KakaoTalk over HTTP against the stand-in for Kakao's platform: the result arrives
through the Event API naming the word to type, the appeal form is walked with quick replies, the evidence
comes through the upload page, and the organizer decides in KakaoTalk too."""

from __future__ import annotations

import datetime as dt
import re

from sqlmodel import select

from bot.clock import ManualClock
from bot.models import Appeal, AuditLog, Review, Role
from bot.services import review
from bot.settings import Settings
from tests.handlers.committee import seed_applications
from tests.handlers.flows import SAMPLE_PDF
from tests.handlers.kakao.conftest import finish, running
from tests.handlers.kakao.test_company import apply_in_kakaotalk, upload
from tests.handlers.kakao.test_month import grant, tick_at
from tests.harness import KST


async def test_a_company_appeals_in_kakaotalk_and_is_told_the_decision(settings: Settings, clock: ManualClock) -> None:
    kakao = await running(settings.model_copy(update={"selected_count": 2, "waitlist_count": 0}), clock)
    try:
        company = kakao.user()
        receipt = await apply_in_kakaotalk(company)
        seed_applications(kakao, 2)  # two Telegram companies, scored higher
        organizer = kakao.user()
        await organizer.say("메뉴")
        grant(kakao, organizer.user_id, Role.ORGANIZER)
        await tick_at(kakao, dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST))
        with kakao.session() as session:
            grant(kakao, "rev-1", Role.REVIEWER)
            review.assign(session, "2026-12", kakao.settings, kakao.clock.now())
            for row in session.exec(select(Review)).all():
                value = 2 if row.application_id == 1 else 4
                row.innovation = row.safety = row.applicability = row.economy = value
                row.comment = "실증 계획이 모호합니다." if row.application_id == 1 else None
                session.add(row)
            session.commit()

        kakao.clock.set(dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST))
        await organizer.say("선정 2026-12")
        refused = await organizer.tap("선정 확정")
        assert receipt in refused.text and "확정할 수 없습니다" in refused.text
        await organizer.say("선정 2026-12")
        await organizer.tap("3. PD-202612-")  # the last of the ranking
        ask = await organizer.tap("종합의견·사유(피드백)")
        assert "실증 계획이 모호합니다" in ask.text  # the reviewers' comments, in no one's name
        await organizer.say("실증 계획의 대상 시설과 기간이 특정되지 않았습니다.")
        await organizer.say("선정 2026-12")
        await organizer.tap("선정 확정")
        await organizer.tap("예, 확정합니다")
        await kakao.bot.outbox_settled()
        [result] = [t for t in kakao.events(company) if "선정되지 않았습니다" in t]
        assert "순위 구간: 하위" in result and "가중 총점: 2.00점" in result
        assert "실증 계획의 대상 시설과 기간이 특정되지 않았습니다." in result
        assert "2026년 12월 23일(수) 23:59까지" in result and "「이의신청」을 입력해 주십시오" in result

        ground = await company.say("이의신청")
        assert ground.labels()[:3] == ["심사위원의 사실관계 오류", "명백한 오인", "행정적 오류"]
        await company.tap("행정적 오류")
        evidence = await company.say("제출한 실증 계획서 2쪽이 심사 자료에서 빠졌습니다.")
        link = re.search(r"http://\S+/files/upload/\S+", evidence.text)
        assert link is not None, evidence.text
        status, page = await upload(link.group(0), SAMPLE_PDF, "실증계획서.pdf")
        assert status == 200 and "올렸습니다" in page
        await kakao.bot.outbox_settled()
        [review_page] = [t for t in kakao.events(company) if "이의신청 확인" in t]
        assert "행정적 오류" in review_page and "실증계획서.pdf" in review_page
        filed = await company.say("이의신청 제출")  # the review page's button, typed
        assert "이의신청을 접수했습니다" in filed.text
        again = await company.say("이의신청")
        assert "처리 중" in again.text

        await kakao.bot.outbox_settled()
        assert any("새 이의신청" in t for t in kakao.events(organizer))
        await organizer.say("이의신청 처리")
        card = await organizer.tap("1. 한빛로보틱스")
        assert "제출한 실증 계획서 2쪽이" in card.text and "실증계획서.pdf" in card.text
        link = re.search(r"http://\S+/files/\S+", card.text)  # the evidence, as a link of the organizer's own
        assert link is not None, card.text
        await organizer.tap("인용·기각 결정")
        await organizer.tap("기각")
        await organizer.say("빠진 쪽은 심사 자료에 포함되어 있었음을 확인했습니다.")
        saved = await organizer.tap("결정 확정")
        assert "기각으로 처리하고" in saved.text
        await kakao.bot.outbox_settled()
        [told] = [t for t in kakao.events(company) if "이의신청 처리 결과" in t]
        assert "기각" in told and "빠진 쪽은 심사 자료에 포함되어 있었음을" in told
        with kakao.session() as session:
            appeal = session.exec(select(Appeal)).one()
            assert appeal.status == "rejected" and appeal.ground == "administrative" and appeal.file_path
            actions = {a.action for a in session.exec(select(AuditLog)).all()}
        assert {"appeal_filed", "appeal_decided"} <= actions
        assert kakao.platform.violations == []
    finally:
        await finish(kakao)

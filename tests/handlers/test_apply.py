"""Registration and application, end to end over HTTP against the stand-in Bot API server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import select

from bot.models import Application, AuditLog, Company, FormDraft, Subscription, User
from bot.services import cycles
from tests.handlers.flows import OTHER_BRN, SAMPLE_PDF, VALID_BRN, fill_application, register_profile, submit
from tests.harness import KST, Harness


async def test_whole_registration_with_wrong_answers(harness: Harness) -> None:
    user = harness.user(1001, "김민준")
    [welcome] = await user.send("/start")
    assert "2026년 12월 일정" in welcome.text
    assert "2026년 12월 1일(화) ~ 2026년 12월 10일(목) 23:59" in welcome.text
    # The last Friday, 25 December, is Christmas: Pitching Day moves to the business day before.
    assert "피칭데이: 2026년 12월 24일(목) 14:00" in welcome.text
    assert "구매결정 기한: 2027년 1월 8일(금)" in welcome.text
    assert welcome.button_texts()[:3] == ["📝 피칭데이 신청", "📋 내 신청 현황", "📅 이번 달 일정"]

    [_, consent] = await user.press("피칭데이 신청", expect=2)
    assert consent.button_texts()[:2] == ["동의합니다", "동의하지 않습니다"]
    [q] = await user.send("아무 말")  # a typed answer to a button question
    assert "버튼 중에서 선택" in q.text and "개인정보" in q.text
    await user.press("동의합니다")
    [q] = await user.send("한")
    assert "2자 이상" in q.text and "기업명 (2/9)" in q.text
    await user.send("한빛로보틱스")
    [q] = await user.send("123-45-6789")
    assert "숫자 10자리" in q.text
    [q] = await user.send("123-45-67890")
    assert "검증번호" in q.text and "사업자등록번호 (3/9)" in q.text
    [q] = await user.send("220 81 62517")
    assert "대표자 (4/9)" in q.text
    await user.send("김민준")
    [q] = await user.press("대기업")
    assert "중소기업을 위한 프로그램" in q.text and "기업 규모 (5/9)" in q.text
    await user.press("중소기업")
    [q] = await user.send("부산 해운대구 센텀로 1")
    assert "서울 소재" in q.text
    await user.send("서울 마포구 월드컵북로 400")
    await user.send("최담당")
    [q] = await user.send("12345")
    assert "전화번호 형식" in q.text and "연락처 (8/9)" in q.text
    await user.send("02-2133-5000")
    [q] = await user.send("choi@hanbit")
    assert "이메일 주소 형식" in q.text
    [review] = await user.send("choi@hanbit.kr")
    assert "사업자등록번호: 220-81-62517" in review.text
    assert "연락처: 02-2133-5000" in review.text
    await user.press("저장하기", expect=3)

    await user.send("자율 순찰 로봇 HR-1")
    [q] = await user.press("선택 완료")
    assert "한 가지 이상" in q.text
    await user.press("로봇", expect=0)
    toggled = user.server.messages[(user.id, q.message_id)]
    assert any(b["text"] == "✅ 로봇" for row in toggled["reply_markup"]["inline_keyboard"] for b in row)
    await user.press("선택 완료")
    [q] = await user.press("TRL 5")
    assert "TRL 6 이상" in q.text and "TRL 5" in q.text
    [q] = await user.send("TRL 12")
    assert "1부터 9까지" in q.text
    await user.send("trl 8")
    long_summary = "가" * 989 + "마지막 열한 글자입니다"
    [q] = await user.send(long_summary)
    assert "1001자" in q.text and "1자 깁니다" in q.text
    # Where the limit falls, and that the text is still there to copy (it said "kept", shown nowhere).
    assert "1000자째는 「…가가가가가가가가가마지막 열한 글자입니」 부분입니다" in q.text, q.text
    assert "이 대화에 그대로 남아 있으니 복사해서" in q.text
    with harness.session() as session:
        draft = session.exec(select(FormDraft).where(FormDraft.form == "application")).one()
        assert draft.pending["summary"] == long_summary  # nothing typed is lost
    await user.send("가" * 1000)
    await user.send("공원녹지사업소 야간 순찰에 투입합니다.")
    await user.send("서울교통공사")
    await user.press("선택 완료")
    [q] = await user.press("건너뛰기")
    assert "발표자료(PDF) (8/8)" in q.text
    [q] = await user.send("파일은 나중에")
    assert "PDF 파일로 보내" in q.text
    [q] = await user.send_document(b"PK\x03\x04", "deck.pptx", "application/vnd.ms-powerpoint")
    assert "PDF 파일만" in q.text
    [q] = await user.send_document(b"not really", "deck.pdf")
    assert "PDF로 읽을 수 없습니다" in q.text
    [q] = await user.send_raw(sticker={"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1,
                                       "height": 1, "is_animated": False, "is_video": False})  # fmt: skip
    assert "PDF 파일로 보내" in q.text
    [review] = await user.send_document(SAMPLE_PDF, "HR-1.pdf")
    assert "기술성숙도(TRL): TRL 8" in review.text
    assert "가격·단가: (없음)" in review.text
    assert "HR-1.pdf" in review.text
    [receipt] = await user.press("제출하기")
    assert "접수번호: PD-202612-0001" in receipt.text
    assert "2026년 12월 15일(화)" in receipt.text  # selection day, the next step

    with harness.session() as session:
        company = session.exec(select(Company)).one()
        assert (company.brn, company.phone, company.size) == ("2208162517", "+82221335000", "sme")
        app = session.exec(select(Application)).one()
        assert app.status == "submitted" and app.receipt_no == "PD-202612-0001" and app.month == "2026-12"
        assert app.tech_fields == ["robot"] and app.trl == 8 and app.price is None
        assert app.deck_path and Path(app.deck_path).read_bytes().startswith(b"%PDF-")
        assert session.exec(select(FormDraft)).all() == []
        actions = [row.action for row in session.exec(select(AuditLog)).all()]
        assert "company_created" in actions and "application_submitted" in actions


async def test_restart_in_the_middle_loses_nothing(harness: Harness) -> None:
    user = harness.user(1002, "이서연")
    await user.send("/apply", expect=2)
    await user.press("동의합니다")
    await user.send("다온에이아이")
    [q] = await user.send(VALID_BRN)
    assert "대표자 (4/9)" in q.text
    await harness.restart_bot()
    [q] = await user.send("이서연")
    assert "기업 규모 (5/9)" in q.text
    with harness.session() as session:
        draft = session.exec(select(FormDraft)).one()
        assert draft.data["name"] == "다온에이아이" and draft.data["representative"] == "이서연"


async def test_back_cancel_and_resume(harness: Harness) -> None:
    user = harness.user(1003)
    await user.send("/apply", expect=2)
    await user.press("동의합니다")
    await user.send("다온에이아이")
    [q] = await user.send("/back")
    assert "기업명 (2/9)" in q.text and "현재 답변: 다온에이아이" in q.text
    [q] = await user.press("현재 답변 유지")
    assert "사업자등록번호 (3/9)" in q.text
    [q] = await user.press("이전")
    assert "기업명 (2/9)" in q.text
    [bye] = await user.send("/cancel")
    assert "저장되어 있으니" in bye.text
    [q] = await user.send("그냥 말")  # outside the conversation: not an answer
    assert "이해하지 못했습니다" in q.text
    [q] = await user.send("/apply")
    assert "기업명 (2/9)" in q.text


async def test_edit_after_submit_then_withdraw_and_apply_again(harness: Harness) -> None:
    user = harness.user(1004)
    await register_profile(user)
    await fill_application(user)
    receipt = await submit(user)
    [status] = await user.send("/status")
    assert receipt in status.text and "접수 완료" in status.text
    [review] = await user.press("수정")
    assert "수정 내용 제출" in " ".join(review.button_texts())
    [q] = await user.press("제품·서비스명")
    assert "현재 답변: 자율 순찰 로봇 HR-1" in q.text
    [review] = await user.send("자율 순찰 로봇 HR-2")
    assert "제품·서비스명: 자율 순찰 로봇 HR-2" in review.text
    [done] = await user.press("수정 내용 제출")
    assert "수정 내용을 저장했습니다" in done.text and receipt in done.text
    with harness.session() as session:
        app = session.exec(select(Application)).one()
        assert app.product_name == "자율 순찰 로봇 HR-2" and app.receipt_no == receipt
        edits = session.exec(select(AuditLog).where(AuditLog.action == "application_edited")).all()
        assert edits and edits[0].data["changed"] == ["product_name"]

    await user.send("/status")
    [confirm] = await user.press("철회")
    assert "철회하시겠습니까" in confirm.text
    [kept] = await user.press("아니요")
    assert "유지됩니다" in kept.text
    await user.send("/status")
    await user.press("철회")
    [gone] = await user.press("예, 철회합니다")
    assert "철회했습니다" in gone.text
    [status] = await user.send("/status")
    assert "철회" in status.text and "수정" not in " ".join(status.button_texts())

    [review] = await user.send("/apply")  # a withdrawn application comes back prefilled
    assert "자율 순찰 로봇 HR-2" in review.text
    [again] = await user.press("제출하기")
    assert receipt in again.text
    with harness.session() as session:
        assert session.exec(select(Application)).one().status == "submitted"


async def test_one_application_per_company_per_month(harness: Harness) -> None:
    user = harness.user(1005)
    await register_profile(user)
    await fill_application(user, deck=False)
    receipt = await submit(user)
    [again] = await user.send("/apply")
    assert "이미 신청하셨습니다" in again.text and receipt in again.text
    assert again.button_texts() == ["✏️ 수정", "🗑 철회"]


async def test_same_registration_number_from_a_second_account_is_refused(harness: Harness) -> None:
    first = harness.user(1006)
    await register_profile(first)
    second = harness.user(1007)
    await second.send("/apply", expect=2)
    await second.press("동의합니다")
    await second.send("한빛로보틱스 2")
    [q] = await second.send(VALID_BRN)
    assert "다른 계정으로 이미 등록" in q.text and "사업자등록번호 (3/9)" in q.text
    [q] = await second.send(OTHER_BRN)
    assert "대표자 (4/9)" in q.text
    with harness.session() as session:
        assert len(session.exec(select(Company)).all()) == 1


async def test_refusing_consent_stores_nothing_personal(harness: Harness) -> None:
    user = harness.user(1008)
    await user.send("/apply", expect=2)
    [bye] = await user.press("동의하지 않습니다")
    assert "저장하지 않았습니다" in bye.text
    with harness.session() as session:
        assert session.exec(select(FormDraft)).all() == []
        assert session.exec(select(Company)).all() == []


async def test_window_closed_offers_a_reminder_and_refuses_changes(harness: Harness) -> None:
    user = harness.user(1009)
    await register_profile(user)
    await fill_application(user, deck=False)
    await submit(user)
    [status] = await user.send("/status")
    harness.clock.set(dt.datetime(2026, 12, 11, 0, 0, tzinfo=KST))
    [refused] = await user.press("수정", event=status)
    assert "마감되어" in refused.text and "2027년 1월 1일" in refused.text

    late = harness.user(1010)
    [closed] = await late.send("/apply")
    assert "신청 기간이 아닙니다" in closed.text
    assert "2027년 1월 1일(금)부터 2027년 1월 10일(일) 23:59까지" in closed.text
    [ok] = await late.press("알림 받기")
    assert "알림을 신청하셨습니다" in ok.text
    [again] = await late.press("알림 받기")
    assert "이미 알림을 신청하셨습니다" in again.text
    with harness.session() as session:
        assert len(session.exec(select(Subscription)).all()) == 1


async def test_draft_submitted_after_the_window_closed_is_kept(harness: Harness) -> None:
    user = harness.user(1011)
    await register_profile(user)
    await fill_application(user, deck=False)
    harness.clock.set(dt.datetime(2026, 12, 11, 0, 0, 1, tzinfo=KST))
    [refused] = await user.press("제출하기")
    assert "마감되어" in refused.text and "저장되어 있습니다" in refused.text
    with harness.session() as session:
        assert session.exec(select(FormDraft)).one().data["product_name"] == "자율 순찰 로봇 HR-1"
    # In January the draft carries over to the new month.
    harness.clock.set(dt.datetime(2027, 1, 2, 9, 0, tzinfo=KST))
    [review] = await user.send("/apply")
    assert "2027년 1월 피칭데이" in review.text
    [receipt] = await user.press("제출하기")
    assert "PD-202701-" in receipt.text


async def test_english_speaker_and_language_switch(harness: Harness) -> None:
    user = harness.user(1012, "Jane", language_code="en")
    [welcome] = await user.send("/start")
    assert "Pitching Day" in welcome.text and "Thu 24 December 2026" in welcome.text
    [_, consent] = await user.press("Apply", expect=2)
    assert "Personal Information Protection Act" in consent.text
    await user.press("I agree")
    [q] = await user.send("G")
    assert "at least 2 characters" in q.text
    await user.send("/cancel")
    await user.send("/language")
    [done] = await user.press("한국어")
    assert "한국어로 안내" in done.text
    [q] = await user.send("/apply")
    assert "기업명 (2/9)" in q.text


async def test_user_input_is_escaped_in_html(harness: Harness) -> None:
    user = harness.user(1013)
    await register_profile(user, name="<b>A&B</b> 로보틱스")
    with harness.session() as session:
        assert session.exec(select(Company)).one().name == "<b>A&B</b> 로보틱스"
    [status] = await user.send("/status")
    assert status.text.startswith("내 신청 현황") or "신청하신 내역" in status.text
    [review] = await user.send("/profile")
    assert "기업명: <b>A&B</b> 로보틱스" in review.text  # shown literally, not as markup
    assert not [r for r in harness.server.refusals if r[0] == "sendMessage"]


async def test_stale_and_forged_buttons_get_an_answer(harness: Harness) -> None:
    user = harness.user(1014)
    await register_profile(user)
    [q] = await user.press_data("1:form:a:trl:9", message_id=1)  # forged: an old version, not this question
    assert "이전 화면의 버튼" in q.text and "제품·서비스명 (1/8)" in q.text
    version = int(q.buttons[-1][-1][1].split(":")[0])
    [q] = await user.press_data(f"{version}:form:a:trl:9", message_id=1)  # the current version, another field
    assert "이전 화면의 버튼" in q.text and "제품·서비스명 (1/8)" in q.text
    await user.send("/cancel")
    [q] = await user.press_data("zz:" + "x" * 40, message_id=1)
    assert "이전 화면의 버튼" in q.text
    for forged in ("e:apply:edit:99999", "e:apply:edit:99999999999999999999999", "e:apply:wd:-1", "e:nope:x"):
        [q] = await user.press_data(forged, message_id=1)
        assert "찾을 수 없습니다" in q.text or "이전 화면의 버튼" in q.text, forged


async def test_profile_can_be_edited_later(harness: Harness) -> None:
    user = harness.user(1015)
    await register_profile(user)
    await user.send("/cancel")
    [review] = await user.send("/profile")
    assert "기업 정보 확인" in review.text
    await user.press("연락처")
    [review] = await user.send("010-7777-8888")
    assert "연락처: 010-7777-8888" in review.text
    [saved] = await user.press("저장하기")
    assert "저장했습니다" in saved.text
    with harness.session() as session:
        assert session.exec(select(Company)).one().phone == "+821077778888"


async def test_deep_link_payload_is_kept(harness: Harness) -> None:
    user = harness.user(1016)
    await user.send("/start inv_reviewer_ab12")
    with harness.session() as session:
        assert session.exec(select(User).where(User.external_id == "1016")).one().start_payload == "inv_reviewer_ab12"


async def test_an_unexpected_error_reaches_the_user_as_an_apology(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(cycles, "window_status", broken)
    user = harness.user(1017)
    [sorry] = await user.send("/start")
    assert "일시적인 문제" in sorry.text and "database on fire" not in sorry.text


async def test_each_role_gets_its_own_command_menu_and_help(harness: Harness) -> None:
    """Everyone's menu has no organizer commands; an organizer's chat gets its own, set on first contact;
    /help lists what the person may use, with this month's real dates."""
    everyone = [c["command"] for c in harness.server.commands[""]]
    assert "apply" in everyone and "selection" not in everyone and "broadcast" not in everyone
    company = harness.user(1401)
    [help_text] = await company.send("/help")
    assert "/apply" in help_text.text and "/selection" not in help_text.text and "/review" not in help_text.text
    assert "2026년 12월 24일(목) 14:00" in help_text.text  # Pitching Day moved before Christmas
    assert "chat:1401" not in harness.server.commands
    organizer = harness.user(900001)
    [help_text] = await organizer.send("/help")
    assert "/selection" in help_text.text and "/broadcast" in help_text.text and "/export" in help_text.text
    own = [c["command"] for c in harness.server.commands["chat:900001"]]
    assert {"selection", "programme", "broadcast", "export", "decisions"} <= set(own)
    # A reviewer granted later gets their menu at their next message.
    from bot.models import Role
    from bot.services import users

    with harness.session() as session:
        users.grant_role(session, "telegram", "1401", Role.REVIEWER, harness.clock.now())
    [help_text] = await company.send("/help")
    assert "/review" in help_text.text
    assert "review" in [c["command"] for c in harness.server.commands["chat:1401"]]

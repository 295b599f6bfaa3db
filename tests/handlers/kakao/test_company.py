"""A company's month in KakaoTalk, over HTTP against the stand-in for Kakao's platform: it registers and
applies (typing answers, pressing quick replies, uploading its deck through the upload page), every answer
valid for Kakao and within five seconds."""

from __future__ import annotations

import datetime as dt
import re

import aiohttp
from sqlmodel import select

from bot.models import Application, Company, FileLink, User
from bot.sandbox.kakao import KakaoUser
from tests.handlers.flows import SAMPLE_PDF, VALID_BRN
from tests.handlers.kakao.conftest import KakaoWorld


async def upload(url: str, content: bytes, name: str) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name, content_type="application/pdf")
    async with aiohttp.ClientSession() as client, client.post(url, data=form) as answer:
        return answer.status, await answer.text()


async def apply_in_kakaotalk(
    user: KakaoUser, brn: str = VALID_BRN, name: str = "한빛로보틱스", to_deck: bool = False
) -> str:
    """A company's whole registration and application, typed in KakaoTalk, the deck skipped; the receipt
    (``to_deck``: up to the deck's question, and that question's text)."""
    await user.say("신청")
    await user.tap("동의합니다")
    for answer in (name, brn, "김민준", "중소기업", "서울 마포구 월드컵북로 400", "최담당", "010-2345-6789",
                   "choi@hanbit.kr"):  # fmt: skip
        await user.say(answer)
    await user.tap("저장하기")
    answers = ("자율 순찰 로봇 HR-1", "로봇, 인공지능", "7", "공원과 지하철 역사를 야간에 자율 순찰하는 로봇입니다.",
               "공원녹지사업소 야간 순찰에 투입합니다.", "서울교통공사", "선택 완료", "대당 4,800만 원")  # fmt: skip
    for answer in answers:
        question = await user.say(answer)
    if to_deck:
        return question.text
    await user.say("건너뛰기")
    receipt = await user.say("제출하기")
    return receipt.text.split("접수번호: ")[1].split()[0]


async def test_a_company_registers_and_applies_in_kakaotalk(kakao: KakaoWorld) -> None:
    user = kakao.user()
    first = await user.say("안녕하세요")
    assert "이해하지 못했습니다" in first.text and "📝 피칭데이 신청" in first.labels()
    consent = await user.tap("피칭데이 신청")
    assert "개인정보 보호법" in consent.text and consent.labels()[:2] == ["동의합니다", "동의하지 않습니다"]
    await user.tap("동의합니다")
    await user.say("한빛로보틱스")
    wrong = await user.say("123-45-67890")
    assert "검증번호" in wrong.text  # a clear message, and the same question again
    await user.say(VALID_BRN)
    await user.say("김민준")
    await user.say("중소기업")  # a choice typed by its label
    for answer in ("서울 마포구 월드컵북로 400", "최담당", "010-2345-6789"):
        await user.say(answer)
    review = await user.say("choi@hanbit.kr")
    assert "기업 정보 확인" in review.text and "사업자등록번호: 220-81-62517" in review.text
    assert "<b>" not in review.text  # plain text: no markup reaches KakaoTalk
    saved = await user.tap("저장하기")
    assert "저장했습니다" in saved.text and "제품·서비스명 (1/8)" in saved.text
    await user.say("자율 순찰 로봇 HR-1")
    trl = await user.say("로봇, 인공지능")  # several choices typed at once
    assert "기술성숙도(TRL) (3/8)" in trl.text and len(trl.quick_replies) <= 10
    await user.say("7")
    await user.say("공원과 지하철 역사를 야간에 자율 순찰하며 이상 상황을 알리는 로봇입니다.")
    await user.say("공원녹지사업소 야간 순찰에 투입해 인력 부담을 줄입니다.")
    await user.say("서울교통공사, 푸른도시여가국")
    await user.say("선택 완료")
    deck = await user.say("대당 4,800만 원")
    assert "발표자료(PDF) (8/8)" in deck.text and "파일로 보내" not in deck.text
    link = re.search(r"http://\S+/files/upload/\S+", deck.text)
    assert link is not None, deck.text

    # The upload page: a wrong file is refused on the page itself, which stays usable; then the deck.
    status, page = await upload(link.group(0), b"not a pdf", "deck.pdf")
    assert status == 400 and "PDF 파일만" in page
    status, page = await upload(link.group(0), SAMPLE_PDF, "HR-1 소개.pdf")
    assert status == 200 and "올렸습니다" in page
    status, page = await upload(link.group(0), SAMPLE_PDF, "again.pdf")
    assert status == 410 and "이미 사용한 링크" in page  # single use
    await kakao.bot.outbox_settled()
    [review_text] = [t for t in kakao.events(user) if "신청서 확인" in t]
    assert "HR-1 소개.pdf" in review_text  # the chat goes on: the review page came through the Event API
    # which shows no quick replies: the words to type are named (it said "press a button", and none was there)
    assert "다음 중 하나를 입력해 주십시오: 「✏️ 제품·서비스명」" in review_text and "「✅ 제출하기」" in review_text

    receipt = await user.say("제출하기")  # the review page's button, typed
    assert "접수번호: PD-202612-0001" in receipt.text
    with kakao.session() as session:
        person = session.exec(select(User).where(User.channel == "kakao")).one()
        assert person.plusfriend_key and person.is_friend is True
        company = session.exec(select(Company)).one()
        assert company.owner_user_id == person.id
        app = session.exec(select(Application)).one()
        assert app.deck_file_name == "HR-1 소개.pdf" and app.deck_path and app.tech_fields == ["ai", "robot"]
    assert kakao.platform.violations == []
    assert max(kakao.platform.latencies) < 5.0


async def test_a_deck_uploaded_after_the_window_closed_is_not_called_uploaded(kakao: KakaoWorld) -> None:
    """At 23:50 on the 10th the page was given "until 00:50"; sent at 00:10, the chat said the window had closed
    while the page said 「올렸습니다」. The page now closes with the window, and one that outlived it (given
    before this version) says the chat did not take the file."""
    from bot.calendar import Month
    from bot.services import cycles, files

    with kakao.session() as session:
        closes = cycles.get_cycle(session, Month(2026, 12), kakao.settings).window_closes_at
    kakao.clock.set(closes - dt.timedelta(minutes=10))
    user = kakao.user()
    question = await apply_in_kakaotalk(user, to_deck=True)
    link = re.search(r"http://\S+/files/upload/\S+", question)
    assert link is not None, question
    assert "2026년 12월 10일(목) 23:59까지" in question, question
    with kakao.session() as session:
        person = session.exec(select(User).where(User.channel == "kakao")).one()
        old = FileLink(
            token="earlier-link-made-before-the-cap",
            kind=files.UPLOAD,
            user_id=person.id or 0,
            filename="",
            form="application",
            field="deck",
            created_at=closes - dt.timedelta(hours=1),
            expires_at=closes + dt.timedelta(hours=1),
        )  # as links were made before they closed with it
        session.add(old)
        session.commit()
        old_url = link.group(0).rsplit("/", 1)[0] + "/" + old.token
    kakao.clock.set(closes + dt.timedelta(minutes=10))
    status, page = await upload(link.group(0), SAMPLE_PDF, "HR-1 소개.pdf")
    assert status == 410 and "올렸습니다" not in page, page
    status, page = await upload(old_url, SAMPLE_PDF, "HR-1 소개.pdf")
    assert status == 200 and "반영하지 못했습니다" in page and "올렸습니다" not in page, page
    await kakao.bot.outbox_settled()
    assert any("마감" in t for t in kakao.events(user)), kakao.events(user)  # the chat says why
    with kakao.session() as session:
        assert session.exec(select(Application)).all() == []


async def test_a_deck_uploaded_after_the_chat_moved_on_is_refused_on_the_page_which_stays_usable(
    kakao: KakaoWorld,
) -> None:
    user = kakao.user()
    question = await apply_in_kakaotalk(user, to_deck=True)
    link = re.search(r"http://\S+/files/upload/\S+", question)
    assert link is not None, question
    review = await user.say("건너뛰기")  # the chat goes on to the review page without the deck
    assert "신청서 확인" in review.text
    status, page = await upload(link.group(0), SAMPLE_PDF, "late.pdf")
    assert status == 409 and "파일을 첨부하지 않았습니다" in page and "발표자료(PDF) 올리기" in page
    again = await user.tap("✏️ 발표자료(PDF)")  # back at the question: the same page now answers it
    assert "발표자료(PDF)" in again.text
    status, page = await upload(link.group(0), SAMPLE_PDF, "late.pdf")
    assert status == 200 and "올렸습니다" in page
    await kakao.bot.outbox_settled()
    assert any("신청서 확인" in t and "late.pdf" in t for t in kakao.events(user))
    receipt = await user.say("제출하기")
    assert "접수번호" in receipt.text
    with kakao.session() as session:
        assert session.exec(select(Application)).one().deck_file_name == "late.pdf"
    with kakao.session() as session:  # the person reads English now: so does a page that refuses the link
        session.exec(select(User).where(User.channel == "kakao")).one().language = "en"
    async with aiohttp.ClientSession() as client, client.get(link.group(0)) as answer:
        assert answer.status == 410 and "This link has been used" in await answer.text()
    async with aiohttp.ClientSession() as client, client.get(link.group(0) + "x") as answer:
        assert answer.status == 404 and "없는 링크입니다" in await answer.text()  # whose it was, nobody knows


def test_a_question_for_typed_text_sent_through_the_event_api_names_no_buttons() -> None:
    """At 「기업명」 the Event API's text ended 「다음 중 하나를 입력해 주십시오: 「◀ 이전」 · 「✖ 중단」」."""
    from zoneinfo import ZoneInfo

    from bot.dialogue.engine import Reply
    from bot.dialogue.render import Output
    from bot.settings import PROJECT_ROOT
    from bot.texts import Texts
    from handlers.kakao.answer import texts_for_events

    texts = Texts(PROJECT_ROOT / "templates", ZoneInfo("Asia/Seoul"))
    nav = [[("◀ 이전", "t1"), ("✖ 중단", "t2")]]
    asked = Reply([Output("기업명 (2/9)", nav, expects="text")], "ko")
    assert texts_for_events(asked, texts) == ["기업명 (2/9)"]
    choose = Reply([Output("기업 규모 (5/9)", [[("중소기업", "t3")], *nav], expects="choice")], "ko")
    assert texts_for_events(choose, texts)[-1].endswith("「중소기업」 · 「◀ 이전」 · 「✖ 중단」")
    earlier = Reply([Output("선택지", [[("중소기업", "t3")]]), Output("안내", [])], "ko")
    assert texts_for_events(earlier, texts) == ["선택지", "안내"]  # the last screen's choices only


async def test_an_upload_page_is_not_dead_when_organizers_closed_the_window_early(kakao: KakaoWorld) -> None:
    """Capped at a close already past, every link given was dead on arrival, the person never told why."""
    from bot.calendar import Month
    from bot.services import cycles
    from tests.harness import KST

    kakao.clock.set(dt.datetime(2026, 12, 5, 10, 0, tzinfo=KST))
    user = kakao.user()
    await apply_in_kakaotalk(user, to_deck=True)
    with kakao.session() as session:
        closed = dt.datetime(2026, 12, 6, 23, 59, 59, tzinfo=KST)
        cycles.set_override(session, Month(2026, 12), {"window_closes_at": closed}, kakao.settings, kakao.clock.now())
        session.commit()
    kakao.clock.set(dt.datetime(2026, 12, 7, 10, 0, tzinfo=KST))
    again = await user.say("발표자료는 어디에 올리나요")
    link = re.search(r"http://\S+/files/upload/\S+", again.text)
    assert link is not None and "2026년 12월 6일" not in again.text, again.text
    status, page = await upload(link.group(0), SAMPLE_PDF, "HR-1 소개.pdf")
    assert status == 200, page  # taken into the draft; the submit says the window has closed


async def test_editing_an_application_keeps_the_deck_uploaded_through_the_page(kakao: KakaoWorld) -> None:
    """A deck that came through the upload page has no messenger file id: editing the application showed
    「발표자료(PDF): (없음)」 and submitting the change threw the deck away, unsaid."""
    user = kakao.user()
    question = await apply_in_kakaotalk(user, to_deck=True)
    link = re.search(r"http://\S+/files/upload/\S+", question)
    assert link is not None
    assert (await upload(link.group(0), SAMPLE_PDF, "HR-1 소개.pdf"))[0] == 200
    await kakao.bot.outbox_settled()
    assert "접수번호" in (await user.say("제출하기")).text
    with kakao.session() as session:
        path = session.exec(select(Application)).one().deck_path
    await user.say("현황")
    page = await user.say("수정")
    assert "HR-1 소개.pdf" in page.text and "(없음)" not in page.text
    await user.say("제품·서비스명")
    await user.say("자율 순찰 로봇 HR-2")
    assert "수정" in (await user.say("제출")).text
    with kakao.session() as session:
        app = session.exec(select(Application)).one()
        assert (app.product_name, app.deck_file_name, app.deck_path) == ("자율 순찰 로봇 HR-2", "HR-1 소개.pdf", path)


async def test_a_photo_sent_at_a_question_is_not_taken_as_the_answer(kakao: KakaoWorld) -> None:
    """KakaoTalk passes a photo as its address: it was stored as the company's name (and as a product summary,
    long enough to pass)."""
    user = kakao.user()
    await user.say("신청")
    await user.tap("동의합니다")
    photo = await user.say("http://dn-m.talk.kakao.com/talkm/bl4Rk2mX9aQ/WkDl0Ee7jd1Kz6aV0rVxC1/i_3f2c9d1e8b7a.jpeg")
    assert "기업명 (2/9)" in photo.text and "글로" in photo.text, photo.text
    assert "사업자등록번호" not in photo.text
    assert "사업자등록번호 (3/9)" in (await user.say("한빛로보틱스")).text

"""The company's way through registration and the application, on either kind of channel: where a channel
has buttons they are pressed; on a plain-text channel the same answers are typed, by label or by number,
as a KakaoTalk user would. Each step asserts what it was asked next."""

from __future__ import annotations

from tests.dialogue.driver import SAMPLE_PDF, Person

VALID_BRN = "220-81-62517"
OTHER_BRN = "104-81-12340"
SUMMARY = "공원과 지하철 역사를 야간에 자율 순찰하며 이상 상황을 알리는 로봇입니다."


def plain(p: Person) -> bool:
    return not p.caps.slash_commands


async def register_profile(p: Person, brn: str = VALID_BRN, name: str = "한빛로보틱스") -> None:
    """From "apply" to the saved profile and the first application question."""
    intro, consent = await p.send("신청" if plain(p) else "/apply")
    assert "기업 정보" in p.read(intro)
    assert "개인정보 보호법" in p.read(consent) and "(1/9)" in p.read(consent)
    # The consent is a choice: on a plain channel "1" picks its first option, "동의합니다".
    await (p.send("1") if plain(p) else p.press("동의합니다"))
    assert "기업명 (2/9)" in p.text
    await p.send(name)
    await p.send(brn)
    await p.send("김민준")
    assert "기업 규모 (5/9)" in p.text
    await (p.send("중소기업") if plain(p) else p.press("중소기업"))
    assert "소재지 (6/9)" in p.text
    await p.send("서울 마포구 월드컵북로 400")
    await p.send("최담당")
    await p.send("010-2345-6789")
    [review] = await p.send("choi@hanbit.kr")
    assert "기업 정보 확인" in p.read(review) and name in p.read(review)
    saved, form_intro, first = await (p.send("저장하기") if plain(p) else p.press("저장하기"))
    assert "저장했습니다" in p.read(saved)
    assert "2026년 12월 피칭데이" in p.read(form_intro)
    assert "제품·서비스명 (1/8)" in p.read(first)


async def rest_of_profile(p: Person) -> None:
    """From the representative's question to the profile's review page, nothing saved yet."""
    await p.send("김민준")
    await (p.send("중소기업") if plain(p) else p.press("중소기업"))
    await p.send("서울 마포구 월드컵북로 400")
    await p.send("최담당")
    await p.send("010-2345-6789")
    await p.send("choi@hanbit.kr")
    assert "기업 정보 확인" in p.text


async def pick_tech_fields(p: Person) -> None:
    """인공지능(AI) and 로봇. Telegram shows all nine fields at once; a plain channel (10 choices, four of
    them fixed) shows five, then the rest on a second page."""
    if not plain(p):
        await p.press("로봇")
        await p.press("인공지능")
        await p.press("선택 완료")
        return
    [page1] = p.last
    assert "목록 1/2쪽" in p.read(page1) and "로봇" not in p.labels(page1)
    assert "다음 목록 ▶" in p.labels(page1)
    await p.send("1")  # the first option of the page shown: 인공지능(AI)
    assert "선택하신 분야: 인공지능(AI)" in p.text
    [page2] = await p.send("다음 목록")
    assert "목록 2/2쪽" in p.read(page2) and "로봇" in p.labels(page2) and "◀ 이전 목록" in p.labels(page2)
    await p.send("로봇")
    assert "선택하신 분야: 인공지능(AI), 로봇" in p.text
    await p.send("선택 완료")


async def fill_application(p: Person, product: str = "자율 순찰 로봇 HR-1", deck: bool = True) -> None:
    """From the first application question to the review page."""
    await p.send(product)
    assert "기술 분야 (2/8)" in p.text
    await pick_tech_fields(p)
    assert "기술성숙도(TRL) (3/8)" in p.text
    # TRL 7 is on the second page of a plain channel: typed as a number, the validator reads it.
    await (p.send("7") if plain(p) else p.press("TRL 7"))
    assert "제품 요약 (4/8)" in p.text
    await p.send(SUMMARY)
    await p.send("공원녹지사업소 야간 순찰에 투입해 인력 부담을 줄입니다.")
    await p.send("서울교통공사, 푸른도시여가국")  # picked from the department list by their names
    assert "선택하신 수요처: 서울교통공사, 푸른도시여가국" in p.text
    await (p.send("선택 완료") if plain(p) else p.press("선택 완료"))
    await p.send("대당 4,800만 원")
    assert "발표자료(PDF) (8/8)" in p.text
    if deck and p.caps.uploads:
        [review] = await p.upload(SAMPLE_PDF, "deck.pdf", "application/pdf")
    else:  # no uploads in a KakaoTalk chat: the deck is optional
        [review] = await (p.send("건너뛰기") if plain(p) else p.press("건너뛰기"))
    assert "신청서 확인" in p.read(review)


async def file_appeal(p: Person, ground: str, text: str) -> None:
    """A company's appeal from 「이의신청」 to its submit, the ground pressed and the evidence skipped."""
    await p.send("이의신청")
    await p.press(ground)
    await p.send(text)
    await p.press("건너뛰기")
    await p.press("이의신청 제출")


async def submit(p: Person) -> str:
    """Submits from the review page; returns the receipt number."""
    [receipt] = await (p.send("제출하기") if plain(p) else p.press("제출하기"))
    assert "접수되었습니다" in p.read(receipt)
    return p.read(receipt).split("접수번호: ")[1].split()[0]

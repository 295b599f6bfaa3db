"""Wrong answers get a clear reason and the same question again, on every channel; nothing typed is lost
(a refused answer waits in the draft's ``pending``), and the form goes on once the answer is right."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.dialogue.model import Capabilities
from bot.models import Application, Company
from tests.dialogue.driver import BOTH, SAMPLE_PDF, Person, World
from tests.dialogue.walks import SUMMARY, VALID_BRN, plain

Make = Callable[..., Person]


def pending(world: World, p: Person, form: str) -> dict[str, Any]:
    draft = world.draft(p.channel, p.external_id, form)
    assert draft is not None
    return draft.pending


async def choose(p: Person, label: str) -> None:
    """A choice the way the channel makes it: typed on a plain channel, pressed elsewhere."""
    await (p.send(label) if plain(p) else p.press(label))


@BOTH
async def test_every_refusal_says_why_and_asks_again(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "6001")
    await p.send("신청" if plain(p) else "/apply")
    await choose(p, "동의합니다")

    # A sticker where a name is wanted: asked for words, same question.
    await p.other()
    assert "글로 답해 주십시오" in p.text and "기업명 (2/9)" in p.text
    await p.send("한빛로보틱스")

    # A registration number whose check digit is wrong: the number typed is kept, not the answer.
    await p.send("220-81-62518")
    assert "검증번호 불일치" in p.text and "사업자등록번호 (3/9)" in p.text
    assert pending(world, p, "profile")["brn"] == "220-81-62518"
    await p.send("22081")
    assert "숫자 10자리" in p.text and "사업자등록번호 (3/9)" in p.text
    await p.send(VALID_BRN)
    assert "brn" not in pending(world, p, "profile")  # accepted: nothing left waiting
    await p.send("김민준")

    # Not an SME: the programme is for SMEs only, and the way out is named.
    await choose(p, "중견기업")
    assert "중소기업을 위한 프로그램" in p.text and "기업 규모 (5/9)" in p.text
    assert pending(world, p, "profile")["size"] == "midsize"
    # A sticker where a choice is wanted.
    await p.other()
    assert "아래 버튼 중에서 선택해 주십시오" in p.text and "기업 규모 (5/9)" in p.text
    await choose(p, "중소기업")

    await p.send("부산 해운대구 센텀로 1")  # the programme is for Seoul companies
    assert "서울 소재 기업" in p.text and "소재지 (6/9)" in p.text
    assert pending(world, p, "profile")["address"] == "부산 해운대구 센텀로 1"
    await p.send("서울 마포구 월드컵북로 400")
    await p.send("최담당")
    await p.send("12345")
    assert "전화번호 형식" in p.text and "연락처 (8/9)" in p.text
    await p.send("010-2345-6789")
    await p.send("choi@")
    assert "이메일 주소 형식" in p.text
    await p.send("choi@hanbit.kr")
    await choose(p, "저장하기")
    assert "제품·서비스명 (1/8)" in p.text
    [company] = world.all(Company)
    assert (company.brn, company.size, company.address) == ("2208162517", "sme", "서울 마포구 월드컵북로 400")

    await p.send("자율 순찰 로봇 HR-1")
    # "Done" with nothing picked.
    await choose(p, "선택 완료")
    assert "한 가지 이상" in p.text and "기술 분야 (2/8)" in p.text
    await choose(p, "인공지능(AI)")  # on the page shown, a typed label toggles as a press does
    await choose(p, "선택 완료")

    # TRL 5 is below the programme's TRL 6; "TRL 12" is no level at all.
    await choose(p, "TRL 5")
    assert "TRL 6 이상" in p.text and "TRL 5 단계" in p.text and "기술성숙도(TRL) (3/8)" in p.text
    assert pending(world, p, "application")["trl"] == "5"
    await p.send("TRL 12")
    assert "1부터 9까지" in p.text and "기술성숙도(TRL) (3/8)" in p.text
    await p.send("TRL 7")

    await p.send("짧은 요약")
    assert "너무 짧습니다" in p.text and "제품 요약 (4/8)" in p.text
    assert pending(world, p, "application")["summary"] == "짧은 요약"
    await p.send(SUMMARY)
    assert "summary" not in pending(world, p, "application")
    await p.send("공원녹지사업소 야간 순찰에 투입해 인력 부담을 줄입니다.")
    await p.send("서울교통공사")
    await choose(p, "선택 완료")
    await choose(p, "건너뛰기")

    # Text, or a sticker, where the deck is wanted.
    await p.send("나중에 보내겠습니다")
    asked = "PDF 파일로 보내 주십시오" if caps.uploads else "발표자료(PDF)는 이 대화로 보내실 수 없습니다"
    assert asked in p.text and "발표자료(PDF) (8/8)" in p.text
    await p.other()
    assert asked in p.text and "발표자료(PDF) (8/8)" in p.text
    if caps.uploads:
        await p.upload(b"name,price\n", "prices.csv", "text/csv")
        assert "PDF 파일만 받습니다" in p.text and "발표자료(PDF) (8/8)" in p.text
        await p.upload(b"not a pdf at all", "deck.pdf", "application/pdf")  # named .pdf, but is not one
        assert "PDF로 읽을 수 없습니다" in p.text and "발표자료(PDF) (8/8)" in p.text
        await p.upload(SAMPLE_PDF, "deck.pdf", "application/pdf")
    else:
        await choose(p, "건너뛰기")
    assert "신청서 확인" in p.text
    await choose(p, "제출하기")
    [app] = world.all(Application)
    assert (app.trl, app.summary, app.price) == (7, SUMMARY, None)
    assert app.deck_file_name == ("deck.pdf" if caps.uploads else None)


@BOTH
async def test_a_refused_consent_keeps_nothing(caps: Capabilities, person: Make, world: World) -> None:
    """Refusing the consent is an answer, not an error: nothing is collected, and the menu is offered."""
    p = person(caps, "6002")
    await p.send("신청" if plain(p) else "/apply")
    await (p.send("2") if plain(p) else p.press("동의하지 않습니다"))
    assert "동의하지 않으셨습니다" in p.text and "저장하지 않았습니다" in p.text
    assert "피칭데이 신청" in " ".join(p.labels())
    assert world.draft(caps.channel, "6002", "profile") is None
    assert world.all(Company) == []

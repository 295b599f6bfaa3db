"""Reusable walks through the conversation, each step asserting what the bot answered."""

from __future__ import annotations

import random
from pathlib import Path

from bot.sandbox.users import SimUser

SAMPLE_PDF = (Path(__file__).resolve().parents[2] / "bot" / "sandbox" / "sample_deck.pdf").read_bytes()


def big_pdf(size: int) -> bytes:
    """The sample deck padded to ``size`` bytes with a PDF comment (readers skip it), random so no layer
    on the way can compress it."""
    padding = size - len(SAMPLE_PDF) - 2
    return SAMPLE_PDF + b"\n%" + random.Random(size).randbytes(padding).replace(b"\n", b" ").replace(b"\r", b" ")


VALID_BRN = "220-81-62517"
OTHER_BRN = "104-81-12340"


async def register_profile(user: SimUser, brn: str = VALID_BRN, name: str = "한빛로보틱스") -> None:
    """From /apply to the saved profile and the first application question."""
    [intro, consent] = await user.send("/apply", expect=2)
    assert "기업 정보" in intro.text
    assert "개인정보 보호법" in consent.text and "보유 기간" in consent.text and "거부" in consent.text
    await user.press("동의합니다")
    await user.send(name)
    await user.send(brn)
    await user.send("김민준")
    await user.press("중소기업")
    await user.send("서울 마포구 월드컵북로 400")
    await user.send("최담당")
    await user.send("010-2345-6789")
    [review] = await user.send("choi@hanbit.kr")
    assert "기업 정보 확인" in review.text
    [saved, form_intro, first] = await user.press("저장하기", expect=3)
    assert "저장했습니다" in saved.text
    assert "신청서를 작성합니다" in form_intro.text
    assert "제품·서비스명 (1/8)" in first.text


async def fill_application(
    user: SimUser, product: str = "자율 순찰 로봇 HR-1", deck: bool | None = True, deck_content: bytes = SAMPLE_PDF
) -> None:
    """From the first application question to the review page (``deck=None``: to the deck's question)."""
    await user.send(product)
    await user.press("로봇", expect=0)
    await user.press("인공지능", expect=0)
    await user.press("선택 완료")
    await user.press("TRL 7")
    await user.send("공원과 지하철 역사를 야간에 자율 순찰하며 이상 상황을 알리는 로봇입니다.")
    await user.send("공원녹지사업소 야간 순찰에 투입해 인력 부담을 줄입니다.")
    await user.send("서울교통공사, 푸른도시여가국")
    await user.press("선택 완료")
    await user.send("대당 4,800만 원")
    if deck is None:
        return
    if deck:
        [review] = await user.send_document(deck_content, "deck.pdf")
    else:
        [review] = await user.press("건너뛰기")
    assert "신청서 확인" in review.text


async def submit(user: SimUser) -> str:
    """Submits from the review page; returns the receipt number."""
    [receipt] = await user.press("제출하기")
    assert "접수되었습니다" in receipt.text
    return receipt.text.split("접수번호: ")[1].split()[0]

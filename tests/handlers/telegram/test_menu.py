"""The menu in Telegram, over HTTP against the stand-in Bot API: an organizer's first page is the daily work
with 「다음 목록 ▶」, and turning the page edits the menu message in place; a company's menu is one page."""

from __future__ import annotations

from tests.handlers.committee import ORGANIZER
from tests.harness import Harness

DAILY = ["🏅 선정 심의", "⚖ 이의신청 처리", "📈 심사위원 현황", "🗓 프로그램", "🛒 구매결정", "📣 공지 발송",
         "📊 엑셀 내보내기", "❓ 도움말"]  # fmt: skip
COMPANY = ["📝 피칭데이 신청", "📋 내 신청 현황", "📅 이번 달 일정", "🏢 기업 정보", "❓ 도움말", "🌐 Language/언어",
           "🔒 내 개인정보"]  # fmt: skip


async def test_an_organizers_menu_pages_in_place(harness: Harness) -> None:
    organizer = harness.user(ORGANIZER, "운영자")
    [menu] = await organizer.send("/start")
    assert menu.button_texts() == [*DAILY, "다음 목록 ▶"] and "목록 1/3쪽" in menu.text
    assert [len(row) for row in menu.buttons] == [2, 2, 2, 2, 1]  # two columns, the page turn a row of its own

    [second] = await organizer.press("다음 목록", event=menu)
    assert second.kind == "edit" and second.message_id == menu.message_id  # the same message, not a new one
    assert "목록 2/3쪽" in second.text and "운영자님, 안녕하십니까" in second.text
    assert second.button_texts()[:4] == ["🏛 수요처 목록", "✉ 초대 만들기", "🗂 공지 내역", "🎪 박람회 수정"]
    assert second.button_texts()[-2:] == ["◀ 이전 목록", "다음 목록 ▶"]
    [third] = await organizer.press("다음 목록", event=second)
    assert third.kind == "edit" and "목록 3/3쪽" in third.text and "🔒 내 개인정보" in third.button_texts()
    [first] = await organizer.press("이전 목록", event=third)
    [first] = await organizer.press("이전 목록", event=first)
    assert first.kind == "edit" and first.button_texts() == [*DAILY, "다음 목록 ▶"]

    [listing] = await organizer.press("공지 발송", event=first)  # an item of the page works
    assert listing.kind == "message" and "받는 분" in listing.text, listing.text
    assert harness.server.refusals == []  # no edit Telegram would refuse (an unchanged message)


async def test_a_companys_menu_is_unchanged(harness: Harness) -> None:
    company = harness.user(8201, "기업")
    [menu] = await company.send("/start")
    assert menu.button_texts() == COMPANY and "목록" not in menu.text
    [help_] = await company.send("/help")
    assert help_.button_texts() == COMPANY

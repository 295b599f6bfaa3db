"""Help and the command menu follow the person's roles, on every channel, with this month's real dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.dialogue import commands
from bot.dialogue.model import PLAIN, Capabilities
from bot.models import Role
from bot.settings import PROJECT_ROOT
from bot.texts import Texts
from tests.dialogue.driver import BOTH, STALE, Person, World
from tests.handlers.committee import ORGANIZER

Make = Callable[..., Person]
TEXTS = Texts(PROJECT_ROOT / "templates", ZoneInfo("Asia/Seoul"))

EVERYONE = ["start", "apply", "status", "profile", "schedule", "subscribe", "unsubscribe", "expo", "language", "help",
            "link", "mydata", "appeal", "cancel", "back"]  # fmt: skip
ORGANIZERS = ["decisions", "selection", "reviewers", "programme", "invite", "departments", "broadcast", "broadcasts",
              "expo_edit", "export", "appeals"]  # fmt: skip
# How a command is named in help: "/status" where slash commands exist, its first typed word elsewhere.
TYPED = {"start": "메뉴", "apply": "신청", "status": "현황", "help": "도움말", "cancel": "취소", "review": "심사",
         "selection": "선정", "decisions": "구매결정", "broadcast": "공지", "export": "엑셀"}  # fmt: skip


def named(caps: Capabilities, command: str) -> str:
    return f"「{TYPED[command]}」" if caps is PLAIN else f"/{command} "


def organizer(caps: Capabilities, person: Make, world: World) -> Person:
    """The organizer of the settings is a Telegram id; on a plain channel the role is granted."""
    if caps is PLAIN:
        world.grant("kakao", "org-1", Role.ORGANIZER)
        return person(caps, "org-1")
    return person(caps, ORGANIZER)


@BOTH
async def test_a_companys_help_has_everyones_commands_and_this_months_dates(caps: Capabilities, person: Make) -> None:
    p = person(caps, "7201")
    [help_] = await p.send("도움말" if caps is PLAIN else "/help")
    # A company has no role: the channel's menu stays as it is (the everyone's menu).
    assert p.reply is not None and p.reply.menu is None
    for command in ("start", "apply", "status", "help", "cancel"):
        assert named(caps, command) in p.text, command
    for command in ("review", "selection", "decisions", "broadcast", "export"):
        assert named(caps, command).strip() not in p.text, command
    # December 2026: the window 1–10 December, selection on the 15th, and Pitching Day on Thursday the
    # 24th, as the 25th (the usual last Friday) is Christmas.
    assert "신청 접수: 2026년 12월 1일(화) ~ 2026년 12월 10일(목) 23:59" in p.text
    assert "심사·선정: 2026년 12월 15일(화)" in p.text
    assert "피칭데이: 2026년 12월 24일(목) 14:00" in p.text
    # The move is explained, never as "the last Friday" (the 24th is not).
    assert "※ 12월 25일(금)은 공휴일(기독탄신일)이므로 피칭데이를 12월 24일(목)에 개최합니다." in p.text
    assert "마지막 주 금요일" not in p.text and "금요일" not in p.text
    assert p.labels(help_) == ["📝 피칭데이 신청", "📋 내 신청 현황", "📅 이번 달 일정", "🏢 기업 정보", "❓ 도움말",
                               "🌐 Language/언어", "🔒 내 개인정보"]  # fmt: skip


@BOTH
async def test_an_organizers_first_turn_sets_the_organizer_menu(caps: Capabilities, person: Make, world: World) -> None:
    p = organizer(caps, person, world)
    [help_] = await p.send("도움말" if caps is PLAIN else "/help")
    assert p.reply is not None and p.reply.menu is not None
    assert [name for name, _ in p.reply.menu] == EVERYONE + ORGANIZERS
    assert dict(p.reply.menu)["selection"] == "선정 심의 (운영자)"
    for command in ("selection", "decisions", "broadcast", "export", "apply"):
        assert named(caps, command) in p.text, command
    assert not re.search(re.escape(named(caps, "review").strip()) + r"(?!ers)", p.text)  # /reviewers is theirs
    # The organizer's work first, on every channel: a first page of eight, with help and the page turn.
    first = ["🏅 선정 심의", "⚖ 이의신청 처리", "📈 심사위원 현황", "🗓 프로그램", "🛒 구매결정", "📣 공지 발송",
             "📊 엑셀 내보내기", "❓ 도움말"]  # fmt: skip
    assert p.labels(help_) == [*first, "다음 목록 ▶"] and "목록 1/3쪽" in p.text
    # The menu is sent once; it changes only when the roles do.
    await p.send("도움말" if caps is PLAIN else "/help")
    assert p.reply.menu is None


@BOTH
async def test_a_reviewers_help_has_review_and_the_menu_follows_a_new_role(
    caps: Capabilities, person: Make, world: World
) -> None:
    p = person(caps, "7202")
    await p.send("메뉴" if caps is PLAIN else "/start")
    assert p.reply is not None and p.reply.menu is None
    assert "🧑‍⚖️ 심사" not in p.labels()

    world.grant(caps.channel, "7202", Role.REVIEWER)  # an invitation accepted elsewhere, say
    [help_] = await p.send("도움말" if caps is PLAIN else "/help")
    assert p.reply.menu is not None
    assert [name for name, _ in p.reply.menu] == [*EVERYONE, "review"]
    assert named(caps, "review") in p.text and named(caps, "selection").strip() not in p.text
    assert p.text.index(named(caps, "review")) < p.text.index(named(caps, "apply"))  # the role's own first
    assert "🧑‍⚖️ 심사" in p.labels(help_)
    assert "🏅 선정 심의" not in p.labels(help_)


@BOTH
async def test_an_organizers_menu_turns_its_page(caps: Capabilities, person: Make, world: World) -> None:
    """The same pages on every channel; where a channel edits (Telegram), a page takes the turned one's place."""
    p = organizer(caps, person, world)
    [menu] = await p.send("메뉴" if caps is PLAIN else "/start")
    assert "목록 1/3쪽" in p.text and "⚖ 이의신청 처리" in p.labels() and not menu.replace
    [second] = await p.press("다음 목록")
    assert STALE not in p.text, p.text
    assert "목록 2/3쪽" in p.text and "안녕하십니까" in p.text and second.replace
    assert p.labels() == ["🏛 수요처 목록", "✉ 초대 만들기", "🗂 공지 내역", "🎪 박람회 수정", "📝 피칭데이 신청",
                          "📋 내 신청 현황", "📅 이번 달 일정", "🏢 기업 정보",
                          "◀ 이전 목록", "다음 목록 ▶"]  # fmt: skip
    await p.press("다음 목록")
    assert "목록 3/3쪽" in p.text and p.labels() == ["🌐 Language/언어", "🔒 내 개인정보", "◀ 이전 목록"]
    [back] = await p.press("이전 목록")
    assert "목록 2/3쪽" in p.text and back.replace
    await p.press("✉ 초대 만들기")  # a button of the second page works
    assert STALE not in p.text and ("초대" in p.text or "/invite reviewer" in p.text), p.text
    # A page turn of an older menu is stale: said above the menu, in a new message, not an edit.
    [stale] = await p.press_token(dict(p.buttons(menu))["다음 목록 ▶"])
    assert STALE in p.text and "목록 1/3쪽" in p.text and not stale.replace


@BOTH
async def test_the_organizers_other_menu_screens_page_too(caps: Capabilities, person: Make, world: World) -> None:
    """Help, "not understood", "nothing to cancel" and the language's confirmation carry the menu, paged the
    same way, and their page turn shows the same screen's next page."""
    p = organizer(caps, person, world)
    for ask, says in (("도움말" if caps is PLAIN else "/help", "도움말"), ("아무 말", "이해하지 못했습니다"),
                      ("취소" if caps is PLAIN else "/cancel", "진행 중인 작업이 없습니다")):  # fmt: skip
        await p.send(ask)
        assert says in p.text and "목록 1/3쪽" in p.text and len(p.labels()) == 9, ask
        await p.press("다음 목록")
        assert says in p.text and "목록 2/3쪽" in p.text and "✉ 초대 만들기" in p.labels(), ask
    await p.send("언어" if caps is PLAIN else "/language")
    await p.press("English")
    assert "목록" not in p.text and "Page 1/3" in p.text and len(p.labels()) == 9, p.text
    await p.press("Next")
    assert "Page 2/3" in p.text and STALE not in p.text and "✉ Invite" in " ".join(p.labels()), p.labels()


@BOTH
async def test_a_companys_menu_is_one_page(caps: Capabilities, person: Make) -> None:
    p = person(caps, "7203")
    [menu] = await p.send("메뉴" if caps is PLAIN else "/start")
    assert p.labels(menu) == ["📝 피칭데이 신청", "📋 내 신청 현황", "📅 이번 달 일정", "🏢 기업 정보", "❓ 도움말",
                              "🌐 Language/언어", "🔒 내 개인정보"]  # fmt: skip
    assert "목록" not in p.text and "다음 목록 ▶" not in p.labels(menu)


@BOTH
async def test_every_organizer_command_is_in_the_organizers_menu(
    caps: Capabilities, person: Make, world: World
) -> None:
    """No organizer command is reached only by knowing its word: each is an item of the menu's pages."""
    p = organizer(caps, person, world)
    await p.send("메뉴" if caps is PLAIN else "/start")
    labels = list(p.labels())
    while "다음 목록 ▶" in p.labels():
        await p.press("다음 목록")
        labels += p.labels()
    own = [
        c.name for c in commands.COMMANDS if c.policy is not commands.policies.anyone and c.policy((Role.ORGANIZER,))
    ]
    for name in own:
        assert TEXTS.label("ko", f"menu_buttons.{name}") in labels, name
    items = [label for label in labels if "목록 ▶" not in label and "◀" not in label]
    assert len(own) == 11 and len(items) == len(set(items)) == 18  # each once


def test_the_menus_are_the_command_registry() -> None:
    """The lists above are the registry's, so a command added there shows up in these tests' failures."""
    assert [c.name for c in commands.COMMANDS if c.policy is commands.policies.anyone] == EVERYONE


async def test_on_kakaotalk_an_answer_with_nothing_to_press_carries_the_menu(person: Make, world: World) -> None:
    """The schedule, a refusal, a saved decision: KakaoTalk has no menu of its own, so the menu's quick
    replies come under such an answer; turning their page shows the menu alone."""
    p = person(PLAIN, "k-menu")
    await p.send("일정")
    assert "2026년 12월 피칭데이 일정" in p.text and "📝 피칭데이 신청" in p.labels()
    world.grant("kakao", "k-org", Role.ORGANIZER)
    o = person(PLAIN, "k-org")
    await o.send("일정")
    assert "2026년 12월 피칭데이 일정" in o.text and "다음 목록 ▶" in o.labels() and len(o.labels()) <= 10
    await o.send("다음 목록")
    assert "메뉴입니다" in o.text and "◀ 이전 목록" in o.labels()

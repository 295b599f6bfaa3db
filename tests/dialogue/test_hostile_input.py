"""Hostile or odd input gets a clear refusal, and nothing odd is stored: numbers typed in other scripts'
digits are kept as ASCII (one business number, one company), characters that cannot or should not be
kept are refused or dropped, a phone's extension is kept, a deck must be named a PDF, ids beyond what the
database holds are refused, and wrong invitation codes are rate-limited without growing the audit log.
Every test here also runs on PostgreSQL (where a NUL used to lock a profile for good)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from sqlmodel import select

from bot.dialogue.model import PLAIN, TELEGRAM, Capabilities
from bot.models import Application, AuditLog, Company, FormDraft, Role, RoleGrant, User
from tests.dialogue.driver import BOTH, SAMPLE_PDF, Person, World
from tests.dialogue.walks import VALID_BRN, fill_application, plain, register_profile, rest_of_profile, submit

Make = Callable[..., Person]
INTERNAL = "일시적인 문제"
NUL_REFUSED = "저장할 수 없는 문자(NUL)"


def organizer(person: Make, world: World, caps: Capabilities) -> Person:
    """The suite's organizer (a Telegram id in the settings), or one granted on the plain channel."""
    boss = person(caps, "900001")
    if plain(boss):
        world.grant(caps.channel, "900001", Role.ORGANIZER)
    return boss


def stored_strings(world: World) -> list[str]:
    """Every text a person's input could have left in the database."""
    found: list[str] = []
    for model in (Company, Application, FormDraft, User):
        for row in world.all(model):
            found.extend(repr(v) for v in row.model_dump().values())
    return found


async def to_profile_name(p: Person) -> None:
    await p.send("신청" if plain(p) else "/apply")
    await (p.send("1") if plain(p) else p.press("동의합니다"))
    assert "기업명 (2/9)" in p.text


@BOTH
async def test_digits_of_any_script_make_one_business_number(caps: Capabilities, person: Make, world: World) -> None:
    first = person(caps, "6101")
    await register_profile(first, brn="２２０-８１-６２５１７")  # full-width, as a Korean IME types them
    second = person(caps, "6102")
    await to_profile_name(second)
    await second.send("다른로보틱스")
    await second.send("٢٢٠٨١٦٢٥١٧")  # the same number in Arabic-Indic digits
    assert "이미 등록되어 있습니다" in second.text and "사업자등록번호 (3/9)" in second.text
    [company] = world.all(Company)
    assert company.brn == "2208162517"


@BOTH
async def test_superscripts_and_other_non_digits_are_refused_clearly(
    caps: Capabilities, person: Make, world: World
) -> None:
    p = person(caps, "6111")
    await to_profile_name(p)
    await p.send("한빛로보틱스")
    await p.send("22081625¹⁷")
    assert "숫자 10자리" in p.text and "사업자등록번호 (3/9)" in p.text and INTERNAL not in p.text
    await p.send("22081625①⑦")
    assert "숫자 10자리" in p.text and INTERNAL not in p.text
    await p.send(VALID_BRN)
    assert "대표자 (4/9)" in p.text
    await p.send("김민준")
    assert "기업 규모 (5/9)" in p.text
    # Where a choice is asked, a typed Ethiopic "one" is a digit to isdigit() but no number to int().
    await p.send("፩")
    assert INTERNAL not in p.text and "기업 규모 (5/9)" in p.text
    await p.send("1" * 5000)  # more digits than int() reads
    assert INTERNAL not in p.text and "기업 규모 (5/9)" in p.text


@BOTH
async def test_a_nul_is_refused_and_the_profile_still_saves(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "6121")
    await to_profile_name(p)
    await p.send("한빛\x00로보틱스")
    assert NUL_REFUSED in p.text and "기업명 (2/9)" in p.text
    await p.send("/cancel\x00" if not plain(p) else "취소\x00")
    assert NUL_REFUSED in p.text and "기업명 (2/9)" in p.text  # not even a command is read from it
    await p.send("한빛로보틱스")
    assert "사업자등록번호 (3/9)" in p.text
    await p.send(VALID_BRN)
    await rest_of_profile(p)
    await (p.send("저장하기") if plain(p) else p.press("저장하기"))
    assert "제품·서비스명 (1/8)" in p.text
    await p.send("자율 순찰 로봇")
    # Free text too: a NUL is refused; other control characters are dropped and line breaks kept.
    await (p.send("1") if plain(p) else p.press("인공지능"))
    await (p.send("선택 완료") if plain(p) else p.press("선택 완료"))
    await (p.send("7") if plain(p) else p.press("TRL 7"))
    assert "제품 요약 (4/8)" in p.text
    await p.send("야간 순찰 로봇입니다.\x00 공원과 역사를 돕니다.")
    assert NUL_REFUSED in p.text and "제품 요약 (4/8)" in p.text
    await p.send("야간에 공원과 역사를\x07 순찰하는\r\n로봇입니다. 이상 상황을 알립니다.")
    assert "(5/8)" in p.text
    draft = world.draft(p.channel, p.external_id, "application")
    assert draft is not None
    assert draft.data["summary"] == "야간에 공원과 역사를 순찰하는\n로봇입니다. 이상 상황을 알립니다."
    assert not any("\\x00" in s or "\\x07" in s for s in stored_strings(world))
    [company] = world.all(Company)
    assert company.name == "한빛로보틱스"


@BOTH
async def test_invisible_and_direction_characters_in_names(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "6131")
    await to_profile_name(p)
    await p.send("\u200b\u200b\u200b\u200b")  # only zero-width spaces: nothing to read
    assert "2자 이상" in p.text and "기업명 (2/9)" in p.text
    await p.send("ㅤㅤㅤ")  # Hangul fillers, the usual "blank" name
    assert "2자 이상" in p.text and "기업명 (2/9)" in p.text
    await p.send("한빛\u202e스틱보로")  # right-to-left override: shows as something it is not
    assert "방향을 바꾸는" in p.text and "기업명 (2/9)" in p.text
    await p.send("한빛\u2067로보틱스\u2069")
    assert "방향을 바꾸는" in p.text
    await p.send("\u200b 한빛   로보틱스 \ufeff")
    assert "사업자등록번호 (3/9)" in p.text
    draft = world.draft(p.channel, p.external_id, "profile")
    assert draft is not None and draft.data["name"] == "한빛 로보틱스"
    assert "name" not in draft.pending


@BOTH
async def test_a_phone_extension_is_kept_or_refused(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "6141")
    await to_profile_name(p)
    for answer in ("한빛로보틱스", VALID_BRN, "김민준"):
        await p.send(answer)
    await (p.send("중소기업") if plain(p) else p.press("중소기업"))
    await p.send("서울 마포구 월드컵북로 400")
    await p.send("최담당")
    await p.send("02-2133-1234 ext. 1234567")
    assert "내선번호는 6자리까지" in p.text and "연락처 (8/9)" in p.text
    await p.send("02-2133-1234 내선 123")
    assert "이메일" in p.text
    await p.send("choi@hanbit.kr")
    assert "02-2133-1234 (내선 123)" in p.text  # the review page shows it, in the reader's words
    await (p.send("저장하기") if plain(p) else p.press("저장하기"))
    [company] = world.all(Company)
    assert company.phone == "+82221331234;ext=123"


async def test_a_deck_must_be_named_a_pdf_and_long_names_are_shortened(person: Make, world: World) -> None:
    p = person(TELEGRAM, "6151")
    await register_profile(p)
    await fill_application(p, deck=False)  # to the review page; the deck question is opened again below
    await p.press("발표자료")
    assert "발표자료(PDF)" in p.text
    for name in ("deck.exe", "deck.pdf.exe", "\u202efdp.exe"):
        await p.upload(SAMPLE_PDF, name, "application/pdf")  # a PDF inside, a program by its name
        assert "PDF 파일만" in p.text and "발표자료(PDF)" in p.text, name
    long = "아주 긴 발표자료 이름 " * 30 + ".pdf"
    [review] = await p.upload(SAMPLE_PDF, long, "application/pdf")
    assert "신청서 확인" in p.read(review)
    await submit(p)
    [app] = world.all(Application)
    assert app.deck_file_name is not None and len(app.deck_file_name) <= 120
    assert app.deck_file_name.startswith("아주 긴 발표자료") and app.deck_file_name.endswith(".pdf")


@BOTH
async def test_ids_beyond_what_the_database_holds_are_refused(caps: Capabilities, person: Make, world: World) -> None:
    huge = "99999999999999999999"  # beyond 2^63: a BIGINT cannot hold it
    assert int(huge) > 2**63
    boss = organizer(person, world, caps)
    for role in (Role.REVIEWER, Role.OFFICIAL):
        world.grant(caps.channel, "900001", role, department="서울교통공사", pledged=role is Role.REVIEWER)
    await boss.send("/help" if not plain(boss) else "도움말")
    before = world.snapshot()
    forged = [f"e:review:open:{huge}", f"e:selection:app:{huge}", f"e:decisions:open:{huge}",
              f"e:broadcast:stop:{huge}", f"e:apply:edit:{huge}", f"e:apply:wd:{huge}",
              f"e:programme:up:2026-12:{huge}", f"{huge}:form:a:name:x", f"{huge}:page:p:{huge}",
              "²:menu:home", "١٢:menu:home", f"e:review:open:{huge}\n"]  # fmt: skip
    for token in forged:
        await boss.press_token(token)
        assert boss.text and INTERNAL not in boss.text, token
    after = world.snapshot()
    before.pop("programmes"), after.pop("programmes")  # opening the programme makes the month's default one
    assert after == before, {k: (before[k], after[k]) for k in before if before[k] != after[k]}


@BOTH
async def test_invitation_guesses_are_rate_limited(caps: Capabilities, person: Make, world: World) -> None:
    boss = organizer(person, world, caps)
    await boss.send("/invite reviewer" if not plain(boss) else "초대 reviewer")
    code = boss.text.split("「시작 ")[1].split("」")[0]
    start = "시작" if plain(boss) else "/start"

    guesser = person(caps, "6161")
    for n in range(5):
        await guesser.send(f"{start} inv_wrongguess{n}")
        assert "초대 링크를 확인할 수 없습니다" in guesser.text
    # The sixth is refused unread, even the right code, and says from when to try again.
    for n in range(20):
        await guesser.send(f"{start} inv_wrongguess{n}")
        assert "잘못된 초대 코드를 여러 번" in guesser.text and "10:10" in guesser.text
    await guesser.send(f"{start} {code}")
    assert "잘못된 초대 코드를 여러 번" in guesser.text
    guesser_id = world.user(caps.channel, "6161").id
    assert not [g for g in world.all(RoleGrant) if g.user_id == guesser_id]

    def logged() -> list[str]:
        with world.session() as session:
            rows = session.exec(select(AuditLog).where(AuditLog.actor_user_id == guesser_id)).all()
            return [r.action for r in rows if r.action.startswith("invitation")]

    # 26 tries, five of them wrong guesses on the log and one line that the rest were refused.
    assert sorted(logged()) == ["invitation_guesses_refused"] + ["invitation_wrong"] * 5

    # Another person is not held back by them.
    other = person(caps, "6162")
    await other.send(f"{start} inv_wrongguess")
    assert "초대 링크를 확인할 수 없습니다" in other.text

    # Ten minutes after the first wrong guess, the right code is taken.
    world.clock.advance(dt.timedelta(minutes=10))
    await guesser.send(f"{start} {code}")
    assert "심사위원" in guesser.text and "잘못된" not in guesser.text
    assert [g.role for g in world.all(RoleGrant) if g.user_id == guesser_id] == ["reviewer"]
    assert len(logged()) == 6


async def test_a_display_name_with_control_characters_is_kept_clean(person: Make, world: World) -> None:
    p = person(PLAIN, "6171")
    await p.handle(replace(p.message("메뉴"), display_name="김\x00민준\x07"))  # as the channel reports it
    assert p.text and INTERNAL not in p.text
    assert world.user("kakao", "6171").display_name == "김민준"


@BOTH
async def test_an_overlong_or_odd_department_in_an_invitation_is_refused(
    caps: Capabilities, person: Make, world: World
) -> None:
    boss = organizer(person, world, caps)
    invite = "/invite" if not plain(boss) else "초대"
    await boss.send(f"{invite} official " + "가" * 250)
    assert "최대 200자" in boss.text and INTERNAL not in boss.text
    await boss.send(f"{invite} official 서울\u202e공사")
    assert "방향을 바꾸는" in boss.text
    with world.session() as session:
        assert not session.exec(select(AuditLog).where(AuditLog.action == "invitation_created")).all()

"""What each channel can carry. A tour of every role's screens, asserting on everything shown: a plain
channel (KakaoTalk) gets at most 10 choices, plain text and tokens within its bytes; Telegram at most 48
and tokens within 64 bytes. Words people typed come back as typed on a plain channel, escaped in HTML."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.dialogue.model import PLAIN, TELEGRAM, Capabilities
from bot.models import Role
from bot.services import decisions, expo, review
from tests.dialogue.driver import BOTH, HTML_MARKUP, Person, World, at
from tests.dialogue.walks import fill_application, register_profile
from tests.handlers.committee import ORGANIZER, seed_selected

Make = Callable[..., Person]
EXPO_SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "expo-2019.yaml").read_text(encoding="utf-8")

# (word typed on a plain channel, slash command): every command of every role.
EVERYONE = [("메뉴", "/start"), ("일정", "/schedule"), ("현황", "/status"), ("기업 정보", "/profile"),
            ("취소", "/cancel"), ("박람회", "/expo"), ("소식 받기", "/subscribe"), ("소식 그만 받기", "/unsubscribe"),
            ("언어", "/language"), ("도움말", "/help"), ("이전", "/back")]  # fmt: skip
ORGANIZER_COMMANDS = [("선정 2026-12", "/selection 2026-12"), ("프로그램 2026-11", "/programme 2026-11"),
                      ("구매결정 2026-11", "/decisions 2026-11"), ("초대 reviewer", "/invite reviewer"),
                      ("공지 내역", "/broadcasts"), ("박람회 수정", "/expo_edit"), ("엑셀 2026-11", "/export 2026-11"),
                      ("공지", "/broadcast")]  # fmt: skip


def say(caps: Capabilities, pair: tuple[str, str]) -> str:
    return pair[0] if caps is PLAIN else pair[1]


def check_all(caps: Capabilities, people: list[Person]) -> int:
    """The driver checks each screen as it comes; this says so once more over everything, in one place."""
    seen = 0
    for p in people:
        for output in p.outputs:
            tokens = [token for row in output.buttons for _, token in row]
            assert len(tokens) <= caps.max_choices
            assert all(len(t.encode()) <= caps.max_token_bytes for t in tokens)
            assert caps.markup == "html" or not HTML_MARKUP.search(output.text), output.text
            seen += 1
    return seen


@BOTH
async def test_a_tour_of_every_roles_screens_fits_the_channel(caps: Capabilities, person: Make, world: World) -> None:
    # November: selected, released, with decisions to take; December: open, with applications under review.
    seed_selected(world, ["서울교통공사", "푸른도시여가국"], month="2026-11")  # type: ignore[arg-type]
    with world.session() as session:
        decisions.ensure_rows(session, "2026-11", world.clock.now())
        expo.load(session, EXPO_SAMPLE, world.clock.now())
    world.applications(40, first=8101)
    world.grant(caps.channel, "rev-1", Role.REVIEWER, pledged=True)
    world.grant(caps.channel, "off-1", Role.OFFICIAL, department="서울교통공사")
    if caps is PLAIN:
        world.grant("kakao", "org-1", Role.ORGANIZER)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())

    company = person(caps, "c-1")
    await register_profile(company)
    await fill_application(company)
    for pair in EVERYONE:
        await company.send(say(caps, pair))
    await company.press("한국어")

    reviewer, official = person(caps, "rev-1"), person(caps, "off-1")
    await reviewer.send(say(caps, ("심사", "/review")))
    await reviewer.press("PD-202612-0003")
    await reviewer.press("이해충돌 신고")
    await reviewer.press("아니요")
    await official.send(say(caps, ("구매결정", "/decisions")))
    await official.press("기업1")

    organizer = person(caps, "org-1" if caps is PLAIN else ORGANIZER)
    for pair in ORGANIZER_COMMANDS:
        await organizer.send(say(caps, pair))
    assert "받는 분 (1/3)" in organizer.text
    await organizer.send(say(caps, ("취소", "/cancel")))
    await organizer.send(say(caps, ("선정 2026-12", "/selection 2026-12")))
    await organizer.press("3. PD-202612-0005")
    await organizer.press("피드백")
    await organizer.send("현장 실증 계획을 보완해 주십시오.")
    assert "저장했습니다" in organizer.text
    world.clock.set(at(20, month=11))
    await organizer.send(say(caps, ("프로그램 2026-11", "/programme 2026-11")))
    await organizer.press("장소")
    await organizer.send("서울시청 다목적홀")

    people = [company, reviewer, official, organizer]
    assert check_all(caps, people) > 60
    if caps is PLAIN:
        assert not caps.uploads and "파일을 올릴 수 없어" in " ".join(organizer.read(o) for o in organizer.outputs)
        assert any("목록 1/" in o.text for p in people for o in p.outputs)  # something had to be paged


@BOTH
async def test_words_people_typed_come_back_as_typed(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "c-2")
    await register_profile(p, name='R&D <Robotics> "한빛"')
    await fill_application(p, product="HR-1 <beta> & co.", deck=False)
    if caps is PLAIN:
        assert "HR-1 <beta> & co." in p.text
        assert any('R&D <Robotics> "한빛"' in o.text for o in p.outputs)
    else:
        assert "HR-1 &lt;beta&gt; &amp; co." in p.last[-1].text
        assert "<beta>" not in p.last[-1].text
    assert TELEGRAM.max_choices == 48 and PLAIN.max_choices == 10

"""Every organizer, reviewer and official command and button, sent by someone without the role, and a
company reaching for another company's application: all refused, nothing changed.

Run at the dialogue level (the engine, as every channel adapter calls it), on Telegram's capabilities and
on a plain-text channel's, where commands are typed as words and a quick reply carries any token it is
given, so a forged token is as easy to send as on Telegram."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.clock import ManualClock
from bot.database import Database
from bot.dialogue.engine import Engine
from bot.dialogue.model import PLAIN, Capabilities
from bot.models import Application, FormDraft, PurchaseDecision, Review, Role, Selection
from bot.services import decisions, review
from bot.settings import Settings
from tests.dialogue.driver import BOTH, NOT_ALLOWED, NOT_FOUND, STALE, Person, World, at, build_engine
from tests.dialogue.walks import OTHER_BRN, fill_application, register_profile, submit
from tests.handlers.committee import seed_selected

ORGANIZER_COMMANDS = ["/selection", "/selection 2026-11", "/invite reviewer", "/invite official 서울교통공사",
                      "/programme", "/programme 2026-11", "/export", "/broadcast", "/broadcasts",
                      "/expo_edit", "/reviewers", "/reviewers 2026-11"]  # fmt: skip
# The same commands as a plain channel's users type them.
ORGANIZER_WORDS = ["선정", "선정 2026-11", "초대 reviewer", "프로그램", "엑셀", "공지", "공지 내역", "박람회 수정",
                   "심사위원 통계"]  # fmt: skip
ORGANIZER_BUTTONS = ["e:selection:board:2026-11", "e:selection:app:{app}", "e:selection:place:{app}:in",
                     "e:selection:place:{app}:out", "e:selection:place:{app}:auto", "e:selection:feedback:{app}",
                     "e:selection:departments:{app}", "e:selection:ok:2026-11", "7:selection:y",
                     "e:programme:edit:2026-11:venue", "e:programme:edit:2026-11:start",
                     "e:programme:edit:2026-11:slot", "e:programme:up:2026-11:{app}", "e:programme:pub:2026-11",
                     "e:broadcast:stop:1", "e:menu:cmd:selection", "e:menu:cmd:programme", "e:menu:cmd:broadcast",
                     "e:menu:cmd:export"]  # fmt: skip
REVIEWER_BUTTONS = ["e:review:list", "e:review:open:{review}", "e:review:score:{review}", "e:review:conflict:{review}",
                    "4:review:cy", "4:review:cn", "e:menu:cmd:review"]  # fmt: skip
OFFICIAL_BUTTONS = ["e:decisions:open:{decision}", "e:menu:cmd:decisions"]

# external ids: the same people on either channel.
COMPANY, REVIEWER, OFFICIAL, STRANGER = "8001", "9951", "9952", "9953"


@pytest.fixture
def world(settings: Settings, clock: ManualClock, db: Database) -> World:
    return World(settings, clock, db)


@pytest.fixture
def engine(settings: Settings, clock: ManualClock, db: Database) -> Engine:
    return build_engine(settings, clock, db)


@pytest.fixture
def ids(world: World) -> dict[str, int]:
    """November, back under review with a purchase decision open, so that every organizer, reviewer and
    official button names something that exists and would work for its rightful user."""
    [app] = seed_selected(world, ["서울교통공사"], month="2026-11")  # type: ignore[arg-type]  # company: telegram 8001
    world.applications(1, month="2026-10", first=int(COMPANY), channel="kakao")  # the same company on KakaoTalk
    for channel in ("telegram", "kakao"):
        world.grant(channel, REVIEWER, Role.REVIEWER)
        world.grant(channel, OFFICIAL, Role.OFFICIAL, department="서울교통공사")
    with world.session() as session:
        decisions.ensure_rows(session, "2026-11", world.clock.now())
        row = session.get(Application, app)
        assert row is not None
        row.status = "submitted"
        session.add(row)
        session.delete(session.get(Selection, "2026-11"))
        session.flush()
        review.assign(session, "2026-11", world.settings, world.clock.now())
        session.flush()
        review_id = session.exec(select(Review.id).where(Review.application_id == app)).first()
        decision_id = session.exec(select(PurchaseDecision.id)).one()
    return {"app": app, "review": review_id or 0, "decision": decision_id or 0}


@BOTH
async def test_everyone_without_the_role_is_refused(
    caps: Capabilities, engine: Engine, world: World, ids: dict[str, int]
) -> None:
    world.clock.set(at(28, month=11))  # after November's Pitching Day, before its decision deadline
    before = world.snapshot()
    words = ORGANIZER_WORDS if caps is PLAIN else []
    table = [
        (COMPANY, [*ORGANIZER_COMMANDS, *words, "/review", "/decisions"],
         ORGANIZER_BUTTONS + REVIEWER_BUTTONS + OFFICIAL_BUTTONS),
        (REVIEWER, [*ORGANIZER_COMMANDS, *words, "/decisions"], ORGANIZER_BUTTONS + OFFICIAL_BUTTONS),
        (OFFICIAL, [*ORGANIZER_COMMANDS, *words, "/review"], ORGANIZER_BUTTONS + REVIEWER_BUTTONS),
        (STRANGER, [*ORGANIZER_COMMANDS, *words, "/review", "/decisions", *(["심사", "구매결정"] if words else [])],
         ORGANIZER_BUTTONS + REVIEWER_BUTTONS + OFFICIAL_BUTTONS),
    ]  # fmt: skip
    for who, commands, buttons in table:
        person = Person(engine, caps, who)
        for command in commands:
            [answer] = await person.send(command)
            assert NOT_ALLOWED in person.read(answer), (who, command, answer.text)
        for template in buttons:
            token = template.format(**ids)
            [answer] = await person.press_token(token)
            # Refused outright: the flow's role is checked before the token's version or step is looked at.
            assert NOT_ALLOWED in person.read(answer), (who, token, answer.text)
    assert world.snapshot() == before


@BOTH
async def test_a_company_cannot_touch_another_companys_application(
    caps: Capabilities, engine: Engine, world: World
) -> None:
    owner = Person(engine, caps, "9961")
    await register_profile(owner)
    await fill_application(owner, deck=False)
    await submit(owner)
    [theirs] = world.all(Application)

    other = Person(engine, caps, "9962")
    await register_profile(other, brn=OTHER_BRN, name="을기업")
    await other.send("/cancel")
    before = world.snapshot()
    for token in (f"e:apply:edit:{theirs.id}", f"e:apply:wd:{theirs.id}"):
        [answer] = await other.press_token(token)
        assert NOT_FOUND in other.read(answer), (token, answer.text)
    # The withdrawal's "yes", forged with the current version: no withdrawal was asked, so it is stale.
    version = world.conversation(caps.channel, "9962").version
    [answer] = await other.press_token(f"{version}:apply:wdy")
    assert STALE in other.read(answer)
    assert world.snapshot() == before
    after = world.all(Application)[0]
    assert (after.status, after.product_name) == ("submitted", theirs.product_name)
    assert [d.application_id for d in world.all(FormDraft)] == [None]  # only the other's own paused draft

    # The same buttons work for the owner: the refusal was about whose it is.
    await owner.press_token(f"e:apply:wd:{theirs.id}")
    assert "철회하시겠습니까" in owner.text or "예, 철회합니다" in owner.labels()

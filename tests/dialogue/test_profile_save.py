"""Saving a company profile: the registration number is checked again at the save, since two people can
type the same one before either saves; the owner's own profile is found in the same look."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

from bot.dialogue.model import Capabilities
from bot.models import Application, Company
from tests.dialogue.driver import BOTH, Person, World
from tests.dialogue.walks import (
    OTHER_BRN,
    VALID_BRN,
    fill_application,
    plain,
    register_profile,
    rest_of_profile,
    submit,
)

Make = Callable[..., Person]


async def to_review(p: Person, name: str) -> None:
    """From "apply" to the profile's review page, nothing saved yet."""
    await p.send("신청" if plain(p) else "/apply")
    await (p.send("1") if plain(p) else p.press("동의합니다"))
    await p.send(name)
    await p.send(VALID_BRN)
    await rest_of_profile(p)
    assert name in p.text


async def save(p: Person) -> None:
    await (p.send("저장하기") if plain(p) else p.press("저장하기"))


@BOTH
async def test_a_number_saved_by_another_account_meanwhile_is_refused_at_the_save(
    caps: Capabilities, person: Make, world: World
) -> None:
    first, second = person(caps, "6201"), person(caps, "6202")
    await to_review(first, "한빛로보틱스")
    await to_review(second, "다른로보틱스")  # the number was still free when typed
    await save(first)
    assert "저장했습니다" in first.text
    await save(second)
    assert "이미 등록되어 있습니다" in second.text and "사업자등록번호 (3/9)" in second.text
    assert "일시적인 문제" not in second.text
    [company] = world.all(Company)
    assert company.owner_user_id == world.user(first.channel, "6201").id and company.name == "한빛로보틱스"


@BOTH
async def test_a_company_that_applied_keeps_its_registration_number(
    caps: Capabilities, person: Make, world: World
) -> None:
    """Changing the number after applying rewrote whose the earlier months' records were (December's export
    showed the new number); the name and the contacts may still change."""
    p = person(caps, "6203")
    await register_profile(p)
    await fill_application(p, deck=False)
    await submit(p)
    with world.session() as session:  # the results went out: the city's records are about this number
        app = session.exec(select(Application)).one()
        app.status = "not_selected"
        session.add(app)
        session.commit()
    await p.send("기업 정보" if plain(p) else "/profile")
    await (p.send("사업자등록번호") if plain(p) else p.press("✏️ 사업자등록번호"))
    await p.send(OTHER_BRN)
    assert "신청 이력이 있는 기업은 사업자등록번호(220-81-62517)를 바꿀 수 없습니다" in p.text, p.text
    assert "사업자등록번호 (3/9)" in p.text  # asked again
    await p.send(VALID_BRN)
    await (p.send("기업명") if plain(p) else p.press("✏️ 기업명"))
    await p.send("한빛모빌리티")
    await save(p)
    assert "저장했습니다" in p.text
    [company] = world.all(Company)
    assert (company.name, company.brn) == ("한빛모빌리티", VALID_BRN.replace("-", ""))


@BOTH
async def test_a_number_mistyped_in_an_application_not_yet_reviewed_can_be_corrected(
    caps: Capabilities, person: Make, world: World
) -> None:
    p = person(caps, "6204")
    await register_profile(p)
    await fill_application(p, deck=False)
    await submit(p)
    await p.send("기업 정보" if plain(p) else "/profile")
    await (p.send("사업자등록번호") if plain(p) else p.press("✏️ 사업자등록번호"))
    await p.send(OTHER_BRN)
    await save(p)
    assert "저장했습니다" in p.text
    [company] = world.all(Company)
    assert company.brn == OTHER_BRN.replace("-", "")

"""Buying departments picked from the list organizers keep: typed words find entries, on Telegram's
buttons and on a plain channel of ten quick replies alike; organizers edit the list in chat."""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue.model import Capabilities
from bot.models import Application, Department, Role
from tests.dialogue.driver import BOTH, Person, World
from tests.dialogue.walks import SUMMARY, pick_tech_fields, plain, register_profile, submit

Make = Callable[..., Person]


def ids(world: World, *names: str) -> list[int]:
    by_name = {d.name: d.id for d in world.all(Department)}
    return [by_name[n] for n in names]


async def at_departments(p: Person) -> None:
    await register_profile(p)
    await p.send("자율 순찰 로봇 HR-1")
    await pick_tech_fields(p)
    await (p.send("7") if plain(p) else p.press("TRL 7"))
    await p.send(SUMMARY)
    await p.send("공원녹지사업소 야간 순찰에 투입합니다.")
    assert "희망 수요처 (6/8)" in p.text and "이름의 일부를 입력" in p.text


@BOTH
async def test_a_company_finds_its_departments_by_typing_part_of_a_name(
    caps: Capabilities, person: Make, world: World
) -> None:
    p = person(caps, "5101")
    await at_departments(p)
    [question] = p.last
    assert len(p.labels(question)) <= caps.max_choices  # the list of 80 is paged to what the channel holds

    # Several entries hold "교통": those are offered, and nothing is picked yet.
    await p.send("교통")
    [found] = p.last
    assert "「교통」이(가) 들어간 수요처 2곳" in p.text and "선택하신" not in p.text
    assert p.labels(found)[:2] == ["도시교통실", "서울교통공사"]
    assert "📋 전체 목록" in p.labels(found)
    # On a plain channel the second one is typed as its number; on Telegram it is pressed.
    await (p.send("2") if plain(p) else p.press("서울교통공사"))
    if not plain(p):  # the press edits the message; the picked entry is marked
        assert "✅ 서울교통공사" in p.labels(p.last[0])
    # One entry holds "기후": it is added at once. A name nothing holds is said so; nothing is lost.
    await p.send("기후")
    assert "선택하신 수요처: 서울교통공사, 기후환경본부" in p.text
    await p.send("없는기관")
    assert "「없는기관」이(가) 들어간 수요처가 목록에 없습니다" in p.text
    assert "선택하신 수요처: 서울교통공사, 기후환경본부" in p.text
    # The picked entries come first, so taking one off is on the first page.
    assert p.labels(p.last[0])[:2] == ["✅ 서울교통공사", "✅ 기후환경본부"]
    await (p.send("선택 완료") if plain(p) else p.press("선택 완료"))
    assert "가격·단가 (7/8)" in p.text
    await p.send("대당 4,800만 원")
    await (p.send("건너뛰기") if plain(p) else p.press("건너뛰기"))
    assert "희망 수요처: 서울교통공사, 기후환경본부" in p.text  # the review page names them
    assert await submit(p) == "PD-202612-0001"
    [app] = world.all(Application)
    assert app.department_ids == ids(world, "서울교통공사", "기후환경본부")


@BOTH
async def test_nothing_picked_is_asked_again_and_an_inactive_entry_is_not_offered(
    caps: Capabilities, person: Make, world: World
) -> None:
    with world.session() as session:
        metro = session.get(Department, ids(world, "서울교통공사")[0])
        assert metro is not None
        metro.active = False
        session.add(metro)
    p = person(caps, "5102")
    await at_departments(p)
    await (p.send("선택 완료") if plain(p) else p.press("선택 완료"))
    assert "한 곳 이상 골라" in p.text and "희망 수요처 (6/8)" in p.text
    await p.send("교통")  # only 도시교통실 is left: picked at once
    assert "선택하신 수요처: 도시교통실" in p.text
    await p.send("서울교통공사")
    assert "들어간 수요처가 목록에 없습니다" in p.text


@BOTH
async def test_organizers_add_rename_and_deactivate_entries_in_chat(
    caps: Capabilities, person: Make, world: World
) -> None:
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    o = person(caps, "org-1")
    await o.send("수요처 목록" if plain(o) else "/departments")
    assert "수요처 목록 (80곳)" in o.text
    await o.send("다산")
    assert "「다산」 검색 결과 1곳" in o.text
    await (o.send("1") if plain(o) else o.press("120다산콜재단"))
    assert "120다산콜재단" in o.text and "투자출연기관" in o.text and "담당자: 0명" in o.text
    await (o.send("이름 변경") if plain(o) else o.press("이름 변경"))
    await o.send("120 다산콜재단")
    assert "「120 다산콜재단」을(를) 저장했습니다" in o.text
    await (o.send("사용 중지") if plain(o) else o.press("사용 중지"))
    assert "사용 중지 (기업·초대 목록에 보이지 않으며" in o.text
    [entry] = [d for d in world.all(Department) if d.name == "120 다산콜재단"]
    assert entry.active is False
    await (o.send("수요처 목록") if plain(o) else o.press("수요처 목록"))
    await (o.send("수요처 추가") if plain(o) else o.press("수요처 추가"))
    await o.send("서울교통공사")
    assert "이미 목록에 있습니다" not in o.text  # the name is asked first; the check comes with the kind
    await (o.send("투자출연기관") if plain(o) else o.press("투자출연기관"))
    assert "「서울교통공사」은(는) 이미 목록에 있습니다" in o.text
    await (o.send("/cancel") if not plain(o) else o.send("취소"))
    await (o.send("수요처 목록") if plain(o) else o.send("/departments"))
    await (o.send("수요처 추가") if plain(o) else o.press("수요처 추가"))
    await o.send("서울특별시 디지털재단 분원")
    await (o.send("투자출연기관") if plain(o) else o.press("투자출연기관"))
    assert "「서울특별시 디지털재단 분원」을(를) 저장했습니다" in o.text
    assert any(d.name == "서울특별시 디지털재단 분원" and d.kind == "agency" for d in world.all(Department))

    # Not for anyone else.
    c = person(caps, "5103")
    await c.send("수요처 목록" if plain(c) else "/departments")
    assert "권한이 없" in c.text


@BOTH
async def test_an_official_is_invited_to_an_entry_of_the_list(caps: Capabilities, person: Make, world: World) -> None:
    world.grant(caps.channel, "org-1", Role.ORGANIZER)
    o = person(caps, "org-1")
    await o.send("초대 official 교통공사" if plain(o) else "/invite official 교통공사")  # one entry: at once
    assert "수요처 담당자 초대를 만들었습니다 (서울교통공사)" in o.text
    code = o.text.split("「시작 ")[1].split("」")[0] if plain(o) else o.text.split("시작 ")[1].split("」")[0]
    official = person(caps, "5200")
    await official.send(f"시작 {code}" if plain(official) else f"/start {code}")
    assert "수요처 담당자(으)로 등록되셨습니다 (서울교통공사)" in official.text
    user = world.user(caps.channel, "5200")
    with world.session() as session:
        from sqlmodel import select

        from bot.models import RoleGrant

        grant = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).one()
        assert (grant.role, grant.department_id) == (Role.OFFICIAL.value, ids(world, "서울교통공사")[0])

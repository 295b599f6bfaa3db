"""Buying departments picked from the list organizers keep: typed words find entries, on Telegram's
buttons and on a plain channel of ten quick replies alike; organizers edit the list in chat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import delete, select

from bot.dialogue.model import TELEGRAM, Capabilities
from bot.models import Application, Department, Outbox, Role
from bot.services import departments
from scheduler.tick import tick
from tests.dialogue.driver import BOTH, Person, World, at
from tests.dialogue.walks import SUMMARY, pick_tech_fields, plain, register_profile, submit
from tests.harness import KST

Make = Callable[..., Person]


def ids(world: World, *names: str) -> list[int]:
    by_name = {d.name: d.id for d in world.all(Department)}
    return [by_name[n] for n in names]


async def to_departments(p: Person) -> None:
    """Registers and answers the application up to its departments question (the sixth of eight)."""
    await register_profile(p)
    await p.send("자율 순찰 로봇 HR-1")
    await pick_tech_fields(p)
    await (p.send("7") if plain(p) else p.press("TRL 7"))
    await p.send(SUMMARY)
    await p.send("공원녹지사업소 야간 순찰에 투입합니다.")
    assert "희망 수요처 (6/8)" in p.text


async def at_departments(p: Person) -> None:
    await to_departments(p)
    assert "이름의 일부를 입력" in p.text


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
    assert "「교통」이 들어간 수요처 2곳" in p.text and "선택하신" not in p.text
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
    assert "「없는기관」이 들어간 수요처가 목록에 없습니다" in p.text
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
    assert "「120 다산콜재단」을 저장했습니다" in o.text
    await (o.send("사용 중지") if plain(o) else o.press("사용 중지"))
    assert "사용 중지 (기업·초대 목록에 보이지 않으며" in o.text
    [entry] = [d for d in world.all(Department) if d.name == "120 다산콜재단"]
    assert entry.active is False
    await (o.send("수요처 목록") if plain(o) else o.press("수요처 목록"))
    await (o.send("수요처 추가") if plain(o) else o.press("수요처 추가"))
    await o.send("서울교통공사")
    assert "이미 목록에 있습니다" not in o.text  # the name is asked first; the check comes with the kind
    await (o.send("투자출연기관") if plain(o) else o.press("투자출연기관"))
    assert "「서울교통공사」는 이미 목록에 있습니다" in o.text
    await (o.send("/cancel") if not plain(o) else o.send("취소"))
    await (o.send("수요처 목록") if plain(o) else o.send("/departments"))
    await (o.send("수요처 추가") if plain(o) else o.press("수요처 추가"))
    await o.send("서울특별시 디지털재단 분원")
    await (o.send("투자출연기관") if plain(o) else o.press("투자출연기관"))
    assert "「서울특별시 디지털재단 분원」을 저장했습니다" in o.text
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
    await official.send("안녕하세요")
    assert "등록되셨습니다" not in official.text
    # On KakaoTalk the code pasted alone is enough (「시작」 before it is in test_hostile_input).
    await official.send(f" {code} " if plain(official) else f"/start {code}")
    assert "수요처 담당자로 등록되셨습니다 (서울교통공사)" in official.text
    user = world.user(caps.channel, "5200")
    with world.session() as session:
        from sqlmodel import select

        from bot.models import RoleGrant

        grant = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).one()
        assert (grant.role, grant.department_id) == (Role.OFFICIAL.value, ids(world, "서울교통공사")[0])

    # Invited again, to another department: one department each, and the move is said (it was silent).
    await o.send("초대 official 푸른도시" if plain(o) else "/invite official 푸른도시")
    code = o.text.split("「시작 ")[1].split("」")[0] if plain(o) else o.text.split("시작 ")[1].split("」")[0]
    await official.send(f" {code} " if plain(official) else f"/start {code}")
    assert "수요처 담당자로 등록되셨습니다 (푸른도시여가국)" in official.text
    assert "이전 담당 수요처(서울교통공사)의 구매결정은 더 이상 이 계정으로 안내되지 않습니다" in official.text


def empty_list(world: World) -> None:
    """No list loaded yet (the suite loads the sample one)."""
    with world.session() as session:
        session.exec(delete(Department))  # type: ignore[call-overload]


def tick_at(world: World, when: dt.datetime) -> None:
    world.clock.set(when)
    with world.session() as session:
        tick(session, when, world.settings)
        session.commit()


@BOTH
async def test_a_company_at_the_departments_question_with_no_list_is_told_and_called_back(
    caps: Capabilities, person: Make, world: World
) -> None:
    """Nobody is stuck: the company is told plainly that the list is being prepared, its answers are kept,
    and it is told (once) when the list is there, then goes on from that question."""
    empty_list(world)
    p = person(caps, "5103")
    await to_departments(p)
    assert "수요처 목록을 운영기관이 준비하고 있습니다" in p.text
    assert "답변은 저장되어 있습니다" in p.text and "목록이 준비되면 이 대화로 바로 알려 드리겠습니다" in p.text
    assert "신청 마감은 2026년 12월 10일(목) 23:59입니다" in p.text
    assert p.labels() == ["◀ 이전", "✖ 중단"]  # no list to pick from, no 「선택 완료」 that cannot pass
    await p.send("교통")  # typing a name: the same plain word, never a dead end
    assert "준비하고 있습니다" in p.text and "들어간 수요처가 목록에 없습니다" not in p.text
    await (p.send("중단") if plain(p) else p.press("✖ 중단"))
    assert "저장되어 있으니" in p.text
    draft = world.draft(caps.channel, "5103", "application")
    assert draft is not None and draft.current == "departments" and draft.data["product_name"] == "자율 순찰 로봇 HR-1"

    # The tick finds no list: nothing to tell yet. Once the list is loaded, the next tick tells the company.
    tick_at(world, at(3, 11))
    assert [o for o in world.all(Outbox) if o.template == "apply/departments_ready"] == []
    with world.session() as session:
        departments.load_path(session, departments.SAMPLE, world.clock.now())
    tick_at(world, at(3, 12))
    tick_at(world, at(3, 13))  # once only
    [ready] = [o for o in world.all(Outbox) if o.template == "apply/departments_ready"]
    assert ready.chat_id == "5103" and ready.event_key == f"2026-12:departments_ready:{draft.user_id}"
    await p.send("신청" if plain(p) else "/apply")
    assert "희망 수요처 (6/8)" in p.text and "이름의 일부를 입력" in p.text  # where it stopped, with the list
    await p.send("기후")
    assert "선택하신 수요처: 기후환경본부" in p.text


async def test_organizers_are_warned_before_and_when_the_window_opens_while_the_list_is_empty(
    person: Make, world: World
) -> None:
    empty_list(world)
    world.grant("telegram", "org-9", Role.ORGANIZER)

    def warnings() -> list[tuple[str, str]]:
        rows = [o for o in world.all(Outbox) if o.template == "reminders/departments_empty"]
        return sorted((o.data["kind"], o.event_key) for o in rows if o.chat_id == "org-9")

    tick_at(world, at(27, 10, month=11))
    assert warnings() == []  # four days before: not yet
    # An organizer inviting an official meets the empty list too: told how to fill it.
    organizer = person(TELEGRAM, "org-9")
    await organizer.send("/invite official")
    assert "수요처 목록이 비어 있어" in organizer.text and "pitchbot departments load" in organizer.text
    assert "/departments" in organizer.text and "✖ 중단" in organizer.labels()
    tick_at(world, at(28, 9, month=11))
    tick_at(world, at(28, 12, month=11))
    assert warnings() == [("departments_empty_soon", "2026-12:departments_empty_soon")]
    tick_at(world, at(1, 9))
    tick_at(world, at(2, 9))
    assert [k for k, _ in warnings()] == ["departments_empty_open", "departments_empty_soon"]
    with world.session() as session:
        [row] = [o for o in session.exec(select(Outbox)) if o.data.get("kind") == "departments_empty_open"]
        assert row.due_at.astimezone(KST) == at(1, 9)
    # With a list, January's warnings never come.
    with world.session() as session:
        departments.load_path(session, departments.SAMPLE, world.clock.now())
    tick_at(world, at(29, 9))
    tick_at(world, at(1, 9, month=1, year=2027))
    assert len(warnings()) == 2


@BOTH
async def test_an_organizer_invites_in_korean_words_or_by_the_buttons(
    caps: Capabilities, person: Make, world: World
) -> None:
    """「초대 심사위원」, 「초대 수요처 담당자 교통공사」 (only "reviewer" and "official" were understood), and
    「초대」 alone offers the two roles as buttons."""
    world.grant(caps.channel, "org-9", Role.ORGANIZER)
    o = person(caps, "org-9")
    await o.send("초대 심사위원" if plain(o) else "/invite 심사위원")
    assert "심사위원 초대를 만들었습니다" in o.text
    await o.send("초대 수요처 담당자 교통공사" if plain(o) else "/invite 수요처 담당자 교통공사")
    assert "수요처 담당자 초대를 만들었습니다 (서울교통공사)" in o.text
    await o.send("초대" if plain(o) else "/invite")
    assert "초대하실 역할을 골라 주십시오" in o.text and o.labels()[:2] == ["심사위원", "수요처 담당자"]
    await (o.send("심사위원") if plain(o) else o.press("심사위원"))
    assert "심사위원 초대를 만들었습니다" in o.text

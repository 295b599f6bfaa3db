"""What a turn asks of the database: on PostgreSQL every statement is a round trip to another process, so
the common turns stay at what they need, and nothing is read twice or written twice in one turn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.database import Database
from bot.dialogue.model import TELEGRAM
from tests.dialogue.driver import Person, World
from tests.dialogue.walks import SUMMARY, VALID_BRN, rest_of_profile

Make = Callable[..., Person]
# Statements of the transaction's own bookkeeping, not the turn's work.
_FRAME = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT")


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every statement the database is sent meanwhile, one line each."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        statement = context.statement if context is not None else statement  # the SQL of one run prepared
        if not statement.lstrip().upper().startswith(_FRAME):
            seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def touching(seen: list[str], verb: str, table: str) -> list[str]:
    return [s for s in seen if s.startswith(verb) and (f"FROM {table} " in f"{s} " or f"{verb} {table} " in s)]


async def to_profile_review(p: Person) -> None:
    await p.send("/apply")
    await p.press("동의합니다")
    await p.send("한빛로보틱스")
    await p.send(VALID_BRN)
    await rest_of_profile(p)


async def test_a_typed_answer_is_the_load_and_two_writes(person: Make, world: World) -> None:
    p = person(TELEGRAM, "7101")
    await p.send("/apply")
    await p.press("동의합니다")
    with statements(world.db) as seen:
        await p.send("한빛로보틱스")
    assert "사업자등록번호 (3/9)" in p.text
    # The person, their conversation (locked) and the draft in one query; then the conversation and the draft.
    assert len(seen) == 3, seen
    assert seen[0].startswith("SELECT users.id") and "form_drafts" in seen[0]
    assert len(touching(seen, "UPDATE", "conversations")) == 1 and len(touching(seen, "UPDATE", "form_drafts")) == 1


async def test_saving_the_profile_writes_the_conversation_once(person: Make, world: World) -> None:
    p = person(TELEGRAM, "7102")
    await to_profile_review(p)
    with statements(world.db) as seen:
        await p.press("저장하기")
    assert "저장했습니다" in p.text and "제품·서비스명 (1/8)" in p.text
    # The flow moved from the profile to the application mid-turn: still one UPDATE of the row, at the end.
    assert len(touching(seen, "UPDATE", "conversations")) == 1, seen
    assert len(touching(seen, "SELECT", "cycle_overrides")) <= 1, seen
    assert len(seen) <= 12, seen


async def test_the_department_list_is_read_once_a_turn(person: Make, world: World) -> None:
    p = person(TELEGRAM, "7103")
    await to_profile_review(p)
    await p.press("저장하기")
    await p.send("자율 순찰 로봇 HR-1")
    await p.press("로봇")
    await p.press("선택 완료")
    await p.press("TRL 7")
    await p.send(SUMMARY)
    await p.send("공원녹지사업소 야간 순찰에 투입해 인력 부담을 줄입니다.")
    with statements(world.db) as seen:
        await p.send("서울교통공사, 푸른도시여가국")  # two names, each searched in the list
    assert "선택하신 수요처: 서울교통공사, 푸른도시여가국" in p.text
    assert len(touching(seen, "SELECT", "departments")) == 1, seen
    await p.press("선택 완료")
    await p.send("대당 4,800만 원")
    await p.press("건너뛰기")
    assert "신청서 확인" in p.text
    with statements(world.db) as seen:
        await p.press("제출하기")
    assert "접수되었습니다" in p.text
    assert len(touching(seen, "SELECT", "cycle_overrides")) == 1, seen
    assert len(touching(seen, "UPDATE", "conversations")) == 1, seen
    # The roles, for the menu after the submission: the grants and the joined accounts in one query.
    assert len([s for s in seen if "role_grants" in s or "WHERE users.linked_to" in s]) == 1, seen


async def test_a_department_added_in_the_turn_is_found_in_the_same_turn(world: World) -> None:
    from bot.services import departments

    with world.session() as session:
        before = len(departments.listing(session))
        entry = departments.ensure(session, "새로운 수요처", world.clock.now())
        assert entry in departments.listing(session) and len(departments.listing(session)) == before + 1
        assert departments.by_ids(session, [entry.id or 0]) == [entry]


async def test_what_a_unit_of_work_keeps_is_read_again_after_a_commit_or_a_rollback(world: World) -> None:
    from bot.database import peek
    from bot.services import departments

    with world.session() as session:
        departments.listing(session)
        assert peek(session, "departments") is not None
        session.commit()  # a unit of work that commits on the way (the tick) reads the list afresh
        assert peek(session, "departments") is None
        with session.begin_nested():
            departments.listing(session)
        assert peek(session, "departments") is not None  # a savepoint released is no commit
        try:
            with session.begin_nested():
                departments.ensure(session, "잠깐 있던 수요처", world.clock.now())
                assert "잠깐 있던 수요처" in [d.name for d in departments.listing(session)]
                raise RuntimeError
        except RuntimeError:
            pass
        assert "잠깐 있던 수요처" not in [d.name for d in departments.listing(session)]

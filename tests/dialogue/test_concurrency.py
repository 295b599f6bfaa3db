"""Two inputs of one person at the same moment (two webhook calls, two processes): the engine takes the
person's conversation row for the length of a turn, so both apply, one after the other, on SQLite (one
writer) and on PostgreSQL (a row lock); the same update twice at once applies once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.dialogue.model import Capabilities
from bot.models import Subscription, User
from tests.dialogue.driver import BOTH, Person, World, fresh_key

Make = Callable[..., Person]


@BOTH
async def test_two_turns_at_once_both_apply_one_after_the_other(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "7301")
    await p.send("/help")
    before = world.conversation(caps.channel, "7301").version

    first, second = fresh_key(), fresh_key()
    # "/subscribe" typed works on a plain channel too (its word would be "소식 받기").
    a, b = await asyncio.gather(p.handle(p.message("/subscribe", first)), p.handle(p.message("/schedule", second)))

    assert not a.duplicate and not b.duplicate
    assert "소식을 보내 드리겠습니다" in p.read(a.outputs[0])
    assert "2026년 12월" in p.read(b.outputs[0])
    after = world.conversation(caps.channel, "7301")
    assert after.version == before + 2  # two turns, not one lost to the other
    assert after.recent[-2:] in ([first, second], [second, first])
    assert len(world.all(Subscription)) == 1


@BOTH
async def test_the_same_update_twice_at_once_applies_once(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "7302")
    await p.send("/help")
    before = world.conversation(caps.channel, "7302").version

    key = fresh_key()
    replies = await asyncio.gather(*(p.handle(p.message("/subscribe", key)) for _ in range(2)))

    assert sorted(r.duplicate for r in replies) == [False, True]
    assert [len(r.outputs) for r in replies if r.duplicate] == [0]
    assert world.conversation(caps.channel, "7302").version == before + 1
    assert len(world.all(Subscription)) == 1


@BOTH
async def test_a_new_persons_first_two_inputs_at_once(caps: Capabilities, person: Make, world: World) -> None:
    """Both turns would create the person: one does, the other finds them; both are answered."""
    p = person(caps, "7303")
    replies = await asyncio.gather(
        p.handle(p.message("/help")),
        p.handle(p.message("/schedule")),
    )
    assert all(r.outputs and not r.duplicate for r in replies)
    assert len([u for u in world.all(User) if u.external_id == "7303"]) == 1
    assert len(world.conversation(caps.channel, "7303").recent) == 2  # both applied, once each

"""Two organizers doing the same thing at the same moment, on PostgreSQL, where two turns run at once (SQLite
has one writer: there they take turns and cannot race). The first holds its transaction open until the
second is seen waiting on a lock, so the second has read what it reads before the first commits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text

from bot.errors import Refused
from bot.models import Appeal, Application, AuditLog, Outbox, Role, Selection, User
from bot.services import accounts, appeals, selection, users
from tests.conftest import PG_URL
from tests.dialogue.driver import World, at
from tests.dialogue.test_appeal import released
from tests.handlers.waitlist import seed_accepted_appeal, seed_released

pytestmark = pytest.mark.skipif(not PG_URL, reason="two transactions at once need PostgreSQL")


def organizers(world: World) -> tuple[object, object]:
    with world.session() as session:
        for organizer in ("900001", "900002"):  # 900001: an organizer by the settings
            users.ensure_user(session, "telegram", organizer, at(16))
    world.grant("telegram", "900002", Role.ORGANIZER)
    return world.user("telegram", "900001"), world.user("telegram", "900002")


def at_once(world: World, first: Callable[[object], None], second: Callable[[object], None]) -> list[str]:
    """``first`` runs in a transaction kept open until ``second`` (in another thread) waits on a lock, or has
    finished; then it commits. Returns what the second did: "done" or the code it was refused with."""
    outcome: list[str] = []

    def run() -> None:
        try:
            with world.db.session() as session:
                second(session)
            outcome.append("done")
        except Refused as err:
            outcome.append(err.code)

    thread = threading.Thread(target=run)
    with world.db.session() as session:
        first(session)
        session.flush()
        thread.start()
        deadline = time.monotonic() + 10
        while thread.is_alive() and time.monotonic() < deadline and not _someone_waits(world):
            time.sleep(0.02)
    thread.join(20)
    return outcome


def _someone_waits(world: World) -> bool:
    with world.db.engine.connect() as conn:
        waiting = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar()  # fmt: skip
    return bool(waiting)


def test_two_organizers_deciding_one_appeal_decide_it_once(world: World) -> None:
    """The second finds it decided: the company is told the verdict the record keeps (the second verdict
    overwrote the first, while the company had been told the first)."""
    _, lost = released(world, "telegram")
    with world.session() as session:
        owner = world.user("telegram", "7001")
        session.add(Appeal(application_id=lost, filed_by=owner.id, ground="misreading", details="x" * 30,
                           filed_at=at(16), status="open"))  # fmt: skip
    [appeal] = world.all(Appeal)
    one, two = organizers(world)
    outcome = at_once(
        world,
        lambda s: appeals.decide(s, one, appeal.id or 0, "accept", "인용합니다.", world.settings, at(16, 11)),
        lambda s: appeals.decide(s, two, appeal.id or 0, "reject", "기각합니다.", world.settings, at(16, 11)),
    )
    assert outcome == ["appeal_decided"]
    [stored] = world.all(Appeal)
    told = [o for o in world.all(Outbox) if o.template == "appeal/decided"]
    assert stored.status == "accepted" and [o.data["verdict"] for o in told] == ["accept"]


def test_two_organizers_confirming_a_selection_confirm_it_once(world: World) -> None:
    """The second is told it is confirmed already (a duplicate key and 「일시적인 문제」 before)."""
    world.applications(2)
    one, two = organizers(world)
    outcome = at_once(
        world,
        lambda s: selection.confirm(s, one, "2026-12", world.settings, at(12, 11)),
        lambda s: selection.confirm(s, two, "2026-12", world.settings, at(12, 11)),
    )
    assert outcome == ["selection_confirmed"]
    [confirmed] = world.all(Selection)
    assert confirmed.confirmed_by == world.user("telegram", "900001").id


def test_an_appeal_and_a_withdrawal_promoting_one_company_promote_it_once(world: World) -> None:
    """A withdrawal promotes the first waitlisted company while another organizer adds the same company for
    its accepted appeal: the appeal's promotion finds it selected (it was told twice, audited twice, and the
    programme published twice)."""
    [chosen], [waiting] = seed_released(world, ["서울교통공사"], 1)
    appeal_id = seed_accepted_appeal(world, waiting)
    one, two = organizers(world)
    outcome = at_once(
        world,
        lambda s: selection.withdraw_and_promote(s, one, chosen, "사정상 포기", world.settings, at(17, 11)),
        lambda s: appeals.promote(s, two, appeal_id, world.settings, at(17, 11)),
    )
    assert outcome == ["appeal_not_promotable"]
    told = [o.template for o in world.all(Outbox) if o.template in ("results/promoted", "results/selected")]
    assert told == ["results/promoted"]
    actions = [a.action for a in world.all(AuditLog)]
    assert actions.count("selection_promoted") == 1 and "appeal_promoted" not in actions
    [app] = [a for a in world.all(Application) if a.id == waiting]
    assert app.status == "selected"


def test_one_link_code_typed_by_two_accounts_at_once_joins_one(world: World) -> None:
    """A code is single use: two accounts typing it at the same moment were both joined to its owner."""
    with world.session() as session:
        owner = users.ensure_user(session, "telegram", "5801", at(16))
        first, second = (users.ensure_user(session, "kakao", key, at(16)).id for key in ("k-a", "k-b"))
        code = accounts.new_code(session, owner, at(16)).code
    outcome = at_once(
        world,
        lambda s: accounts.join(s, s.get(User, first), code, at(16)),  # type: ignore[arg-type]
        lambda s: accounts.join(s, s.get(User, second), code, at(16)),  # type: ignore[arg-type]
    )
    assert outcome == ["link_code_unknown"]
    assert [u.external_id for u in world.all(User) if u.linked_to is not None] == ["k-a"]

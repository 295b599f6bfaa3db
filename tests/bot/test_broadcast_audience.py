"""A broadcast's audience, picked and planned inside the database, is exactly who the Python filters of
before picked (the rules: subscribers, companies and officials unless they unsubscribed, inactive users left
out, people on two channels reached once, where they wrote last), and a broadcast's planning goes in batches, is
idempotent and stops when it is cancelled."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from bot.database import Database
from bot.models import (
    Application,
    ApplicationStatus,
    Broadcast,
    Company,
    Conversation,
    Outbox,
    Role,
    RoleGrant,
    Subscription,
    User,
)
from bot.services import audience, broadcasts, outbox, privacy
from bot.services.outbox import Planned
from bot.settings import Settings
from tests.conftest import PG_URL

NOW = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
MONTHS = ("2026-11", "2026-12")
ORGANIZER = "900001"


# ---- the rules as they were written in Python, before the database picked the audience -------------------
def _role_users(session: Session, role: Role) -> set[int]:
    return set(session.exec(select(RoleGrant.user_id).where(RoleGrant.role == role.value)).all())


def _old_news_ids(session: Session) -> set[int]:
    explicit = set(session.exec(select(Subscription.user_id).where(Subscription.topic == "news")).all())
    owners = set(session.exec(select(Company.owner_user_id)).all())
    opted_out = set(session.exec(select(User.id).where(User.news_opt_out == True)).all())  # noqa: E712
    return explicit | ((owners | _role_users(session, Role.OFFICIAL)) - opted_out)  # type: ignore[operator]


def old_audience(session: Session, name: str, month: str | None) -> list[User]:
    if name == "subscribers":
        ids = _old_news_ids(session)
    elif name == "companies":
        ids = set(session.exec(select(Company.owner_user_id)).all())
    elif name == "officials":
        ids = _role_users(session, Role.OFFICIAL)
    elif name == "reviewers":
        ids = _role_users(session, Role.REVIEWER)
    else:
        statuses = [ApplicationStatus.SELECTED.value] if name == "selected" else [
            s.value for s in ApplicationStatus if s != ApplicationStatus.WITHDRAWN]  # fmt: skip
        ids = set(session.exec(
            select(Company.owner_user_id).join(Application)
            .where(Application.month == month, col(Application.status).in_(statuses))
        ).all())  # fmt: skip
    found = session.exec(select(User).where(col(User.id).in_(ids), User.active == True)).all()  # noqa: E712
    # A person, not an account: any of their accounts brings them in, once, as their first account.
    people = {u.linked_to or u.id for u in found}
    return sorted(session.exec(select(User).where(col(User.id).in_(people))).all(), key=lambda u: u.id or 0)


# ---- a mixed population ------------------------------------------------------------------------------
def populate(db: Database, seed: int, people: int = 240) -> None:
    """Everyone a rule could treat differently: subscribers, companies, officials, reviewers, people who
    unsubscribed, blocked the bot, left the KakaoTalk channel or joined a second account."""
    rnd = random.Random(seed)
    with db.session() as session:
        organizer = User(channel="telegram", external_id=ORGANIZER, created_at=NOW, updated_at=NOW)
        session.add(organizer)
        made: list[User] = []
        for i in range(people):
            kakao = rnd.random() < 0.3
            user = User(
                channel="kakao" if kakao else "telegram", external_id=f"k{i}" if kakao else str(10_000 + i),
                active=rnd.random() > 0.15, news_opt_out=rnd.random() < 0.2,
                is_friend=rnd.choice([True, False, None]) if kakao else None,
                language=rnd.choice([None, "ko", "en"]), created_at=NOW - dt.timedelta(minutes=i), updated_at=NOW,
            )  # fmt: skip
            session.add(user)
            made.append(user)
        session.flush()
        for i, user in enumerate(made):
            if rnd.random() < 0.3:
                session.add(Subscription(user_id=user.id, topic="news", created_at=NOW))
            if rnd.random() < 0.1:
                session.add(Subscription(user_id=user.id, topic="window_open", created_at=NOW))
            for role in (Role.OFFICIAL, Role.REVIEWER):
                if rnd.random() < 0.08:
                    session.add(RoleGrant(user_id=user.id, role=role.value, granted_at=NOW))
            if rnd.random() < 0.35:
                company = Company(owner_user_id=user.id or 0, name=f"회사{i}", brn=f"{1000000000 + i}",
                                  representative="대표", size="sme", address="서울", contact_name="담당",
                                  phone="+821012345678", email="a@b.kr", consent_version="t", consent_at=NOW,
                                  created_at=NOW, updated_at=NOW)  # fmt: skip
                session.add(company)
                session.flush()
                for month in MONTHS:
                    if rnd.random() < 0.6:
                        session.add(Application(
                            company_id=company.id or 0, month=month, status=rnd.choice(list(ApplicationStatus)).value,
                            product_name="p", trl=7, summary="s", city_use="c", department_ids=[], submitted_at=NOW,
                            updated_at=NOW,
                        ))  # fmt: skip
            if rnd.random() < 0.5:  # when they last wrote decides where news reach people on two channels
                seen = NOW - dt.timedelta(minutes=rnd.randrange(0, 5000))
                session.add(Conversation(user_id=user.id or 0, updated_at=seen))
        # Second accounts joined to a first one (some joined accounts hold roles or subscriptions of their own).
        mains = rnd.sample(made, 30)
        others = [u for u in made if u not in mains]
        for main, joined in zip(mains, rnd.sample(others, 30), strict=True):
            joined.linked_to = main.id
            session.add(joined)
        session.add(RoleGrant(user_id=organizer.id, role=Role.ORGANIZER.value, granted_at=NOW))


def names() -> list[tuple[str, str | None]]:
    return [(n, None) for n in ("subscribers", "companies", "officials", "reviewers")] + [
        (n, m) for n in ("applicants", "selected") for m in MONTHS
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_audience_is_who_the_python_rules_picked(db: Database, seed: int) -> None:
    populate(db, seed)
    with db.session() as session:
        for name, month in names():
            old = [u.id for u in old_audience(session, name, month)]
            assert old, name  # the population reaches every audience
            assert [u.id for u in audience.members(session, name, month)] == old, name
            assert audience.count(session, name, month) == len(old)


@pytest.mark.parametrize("seed", [4, 5])
def test_planned_rows_are_the_rows_planned_one_by_one(db: Database, settings: Settings, seed: int) -> None:
    """Recipient, channel and chat of every row, planned in batches of 7 users, against the old way: the
    audience in Python and ``outbox.plan`` (which also picks the account a person used last)."""
    populate(db, seed)
    for name, month in names():
        with db.session() as session:
            organizer = session.exec(select(User).where(User.external_id == ORGANIZER)).one()
            people = old_audience(session, name, month)
            outbox.plan(session, [Planned(p, "broadcast/message", {"text": "x"}, f"old:{name}:{month}", NOW)
                                  for p in people], NOW)  # fmt: skip
            row = broadcasts.start(session, organizer, name, month, "text", "안내", settings, NOW)
            key = broadcasts.event_key(row)
        batches = 0
        while True:
            with db.session() as session:
                covered = broadcasts.plan_batch(session, NOW, size=7)
            if covered is None:
                break
            assert covered <= 7
            batches += 1
        assert batches >= len(people) // 7
        with db.session() as session:
            old = _routes(session, f"old:{name}:{month}")
            new = _routes(session, key)
            assert new == old and len(new) == len(people), name
            done = session.get(Broadcast, row.id)
            assert done is not None and done.status == "sending" and done.planned == done.recipients == len(people)
            rows = session.exec(select(Outbox).where(Outbox.event_key == key)).all()
            assert {r.template for r in rows} == {"broadcast/message"}
            assert {outbox.decode(r.data)["text"] for r in rows} == {"안내"}
            assert {r.due_at for r in rows} == {NOW} and {r.state for r in rows} == {"pending"}


def _routes(session: Session, key: str) -> dict[int, tuple[str, str]]:
    rows = session.exec(select(Outbox).where(Outbox.event_key == key)).all()
    return {r.recipient_user_id: (r.channel, r.chat_id) for r in rows}


def test_planning_twice_plans_once_and_a_cancelled_broadcast_plans_no_more(db: Database, settings: Settings) -> None:
    populate(db, 6)
    with db.session() as session:
        organizer = session.exec(select(User).where(User.external_id == ORGANIZER)).one()
        row = broadcasts.start(session, organizer, "subscribers", None, "text", "안내", settings, NOW)
        expected = audience.count(session, "subscribers", None)
    with db.session() as session:
        assert broadcasts.plan_batch(session, NOW, size=10) == 10
    with db.session() as session:  # a planner that died after its batch: the batch is planned again
        again = session.get(Broadcast, row.id)
        assert again is not None
        again.planned_through = 0
    while True:
        with db.session() as session:
            if broadcasts.plan_batch(session, NOW, size=10) is None:
                break
    with db.session() as session:
        key = broadcasts.event_key(row)
        assert len(session.exec(select(Outbox.id).where(Outbox.event_key == key)).all()) == expected
        finished = session.get(Broadcast, row.id)
        assert finished is not None and finished.planned == finished.recipients == expected
        second = broadcasts.start(session, organizer, "subscribers", None, "text", "둘째", settings, NOW)
    with db.session() as session:
        assert broadcasts.plan_batch(session, NOW, size=10) == 10
    with db.session() as session:
        first = len(session.exec(select(Outbox.id).where(Outbox.event_key == broadcasts.event_key(second))).all())
        assert first > 0
        organizer = session.exec(select(User).where(User.external_id == ORGANIZER)).one()
        assert broadcasts.cancel(session, organizer, second.id or 0, settings, NOW) == first
    with db.session() as session:
        assert broadcasts.plan_batch(session, NOW, size=10) is None  # nothing more is planned
        stopped = session.get(Broadcast, second.id)
        assert stopped is not None and stopped.status == "cancelled" and stopped.cancelled == first
        progress = broadcasts.progress(session, second.id or 0, NOW)
        assert (progress.sent, progress.failed, progress.left, progress.cancelled) == (0, 0, 0, first)


def test_the_counts_follow_every_change_of_state(db: Database, settings: Settings) -> None:
    """Sent one by one or many in one call, failed, found undelivered later (KakaoTalk), stopped by a consent
    withdrawn, cancelled: the broadcast's counts are always its rows' states."""
    populate(db, 7)
    with db.session() as session:
        organizer = session.exec(select(User).where(User.external_id == ORGANIZER)).one()
        row = broadcasts.start(session, organizer, "subscribers", None, "text", "안내", settings, NOW)
    while True:
        with db.session() as session:
            if broadcasts.plan_batch(session, NOW) is None:
                break
    key, lease = broadcasts.event_key(row), dt.timedelta(seconds=60)
    with db.session() as session:
        claimed = outbox.claim(session, "w", NOW, 12, lease)
    one, many, failing = claimed[:3], claimed[3:9], claimed[9:12]
    with db.session() as session:
        for r in one:
            assert outbox.mark_sent(session, r.id or 0, "w", NOW)
        assert outbox.mark_sent_many(session, [r.id or 0 for r in many], "w", NOW, "task-1") == 6
        for r in failing:
            assert outbox.mark_failed(session, r.id or 0, "w", "rejected")
        assert not outbox.mark_sent(session, one[0].id or 0, "w", NOW)  # a second mark counts nothing
    with db.session() as session:
        assert outbox.record_delivery(session, "task-1", {many[0].chat_id: "blocked"}, NOW) == 1
        assert outbox.record_delivery(session, "task-1", {many[0].chat_id: "blocked"}, NOW) == 0
    with db.session() as session:  # someone still waiting for it withdraws their consent
        pending = session.exec(select(Outbox).where(Outbox.event_key == key, Outbox.state == "pending")).first()
        assert pending is not None
        person = session.get(User, pending.recipient_user_id)
        assert person is not None
        privacy.withdraw(session, person, settings, NOW)
    with db.session() as session:
        broadcasts.cancel(session, organizer, row.id or 0, settings, NOW)
    with db.session() as session:
        counts = outbox.counts_for(session, key)
        done = session.get(Broadcast, row.id)
        assert done is not None
        assert (done.sent, done.failed, done.cancelled) == (counts["sent"], counts["failed"], counts["cancelled"])
        assert (done.sent, done.failed) == (8, 4) and done.recipients == sum(counts.values())


# ---- PostgreSQL: a batch under way and the rest of the bot -------------------------------------------------
pg_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: on SQLite the batch holds the one write lock")


def _started(db: Database, settings: Settings, body: str) -> Broadcast:
    with db.session() as session:
        organizer = session.exec(select(User).where(User.external_id == ORGANIZER)).one()
        return broadcasts.start(session, organizer, "subscribers", None, "text", body, settings, NOW)


def _meanwhile(monkeypatch: pytest.MonkeyPatch, action: Callable[[], None]) -> None:
    """``action`` runs on other connections in the middle of the next batch, after its rows are written."""
    original = outbox.plan

    def plan(session: Session, planned: list[Planned], now: dt.datetime) -> int:
        monkeypatch.setattr(outbox, "plan", original)
        action()
        return original(session, planned, now)

    monkeypatch.setattr(outbox, "plan", plan)


@pg_only
def test_a_broadcast_cancelled_while_a_batch_is_planned_sends_nothing_of_it(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(db, 8)
    row = _started(db, settings, "안내")
    with db.session() as session:
        assert broadcasts.plan_batch(session, NOW, size=30) == 30
        first = len(session.exec(select(Outbox.id).where(Outbox.event_key == broadcasts.event_key(row))).all())

    def cancel() -> None:
        with db.session() as other:
            other.execute(text("SET LOCAL lock_timeout = '3s'"))  # a batch holding the row would make it wait
            organizer = other.exec(select(User).where(User.external_id == ORGANIZER)).one()
            assert broadcasts.cancel(other, organizer, row.id or 0, settings, NOW) == first  # the batch's not seen

    _meanwhile(monkeypatch, cancel)
    with db.session() as session:
        assert broadcasts.plan_batch(session, NOW, size=60) == 0
    with db.session() as session:
        assert broadcasts.plan_batch(session, NOW) is None
        rows = session.exec(select(Outbox).where(Outbox.event_key == broadcasts.event_key(row))).all()
        assert len(rows) > first and {r.state for r in rows} == {"cancelled"}
        stopped = session.get(Broadcast, row.id)
        assert stopped is not None and stopped.status == "cancelled"
        assert stopped.cancelled == stopped.planned == len(rows) and stopped.planned_through > 30


@pg_only
def test_sent_rows_are_counted_while_a_batch_is_planned(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A marking writes the broadcast's count: it must not wait for a batch under way (the send would stall
    for as long as the batch), nor lose its count when the batch then writes the same row."""
    populate(db, 9)
    row = _started(db, settings, "안내")
    with db.session() as session:
        assert broadcasts.plan_batch(session, NOW, size=40) == 40
    with db.session() as session:
        claimed = outbox.claim(session, "w", NOW, 5, dt.timedelta(seconds=60))
    assert len(claimed) == 5
    marked: set[int] = set()

    def mark() -> None:
        with db.statements() as connection:
            connection.execute(text("SET lock_timeout = '3s'"))
            try:
                marked.update(outbox.mark_sent_together(connection, {r.id: None for r in claimed}, "w", NOW))
            finally:
                connection.execute(text("RESET lock_timeout"))

    _meanwhile(monkeypatch, mark)
    with db.session() as session:
        assert broadcasts.plan_batch(session, NOW, size=40) == 40
    assert marked == {r.id for r in claimed}
    with db.session() as session:
        counted = session.get(Broadcast, row.id)
        assert counted is not None and counted.sent == 5 and counted.planned_through == 80
        planned = session.exec(select(Outbox.id).where(Outbox.event_key == broadcasts.event_key(row))).all()
        assert counted.planned == len(planned)

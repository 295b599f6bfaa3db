"""Broadcasts: one message to many, through the outbox (rate limits, restarts, blocked users all handled
there), with news subscriptions and a history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, or_, text, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.database import notify
from bot.errors import Refused
from bot.models import Broadcast, Expo, Outbox, OutboxState, Subscription, User
from bot.services import audience, audit, expo, outbox, policies, users
from bot.services.audience import TOPIC_NEWS
from bot.services.outbox import Planned
from bot.settings import Settings

AUDIENCES = audience.NAMES
MAX_TEXT = 3500
PLANNING, SENDING, DONE, CANCELLED = "planning", "sending", "done", "cancelled"
# Users planned per transaction: one batch is short enough that the bot's turns go on in between.
PLAN_BATCH = 1000
PLAN_LOCK = 0x50495445  # a PostgreSQL advisory lock: one planner at a time in every process of this bot
_OLDEST = select(Broadcast.id).where(Broadcast.status == PLANNING).order_by(col(Broadcast.id)).limit(1)


def subscribe(session: Session, user: User, now: dt.datetime) -> bool:
    """Returns False when the user was already getting news."""
    was = _gets_news(session, user)
    user.news_opt_out = False
    session.add(user)
    users.subscribe(session, user, TOPIC_NEWS, now)
    return not was


def unsubscribe(session: Session, user: User, now: dt.datetime) -> bool:
    """Returns False when the user was not getting news."""
    was = _gets_news(session, user)
    # The opening notice asked for with "notify me" is news too: it stops with the rest.
    rows = session.exec(
        select(Subscription).where(
            Subscription.user_id == user.id, col(Subscription.topic).in_((TOPIC_NEWS, users.TOPIC_WINDOW_OPEN))
        )
    ).all()
    for row in rows:
        session.delete(row)
    user.news_opt_out = True
    user.updated_at = now
    session.add(user)
    return was or bool(rows)


def _gets_news(session: Session, user: User) -> bool:
    return session.exec(select(User.id).where(col(User.id) == user.id, audience.gets_news())).first() is not None


def message(session: Session, kind: str, text: str | None) -> tuple[str, dict[str, object]]:
    """The template and data every recipient gets (also what the preview shows)."""
    if kind == "expo":
        current = expo.current(session)
        if current is None:
            raise Refused("expo_missing")
        return "expo/announcement", {"expo": expo.data(current)}
    body = (text or "").strip()
    if not body:
        raise Refused("text_short", min=1)
    if len(body) > MAX_TEXT:
        raise Refused("text_long", max=MAX_TEXT, length=len(body), over=len(body) - MAX_TEXT)
    return "broadcast/message", {"text": body}


def past_expo(session: Session, kind: str, settings: Settings, now: dt.datetime) -> Expo | None:
    """The expo an expo broadcast would announce, when it is already over."""
    found = expo.current(session) if kind == "expo" else None
    return found if found is not None and expo.is_over(found, now, settings.tz) else None


def start(
    session: Session,
    organizer: User,
    audience_name: str,
    month: str | None,
    kind: str,
    text: str | None,
    settings: Settings,
    now: dt.datetime,
    past_expo_confirmed: int | None = None,
) -> Broadcast:
    """Creates the broadcast, to be planned: the dispatcher's planner fills the outbox in batches
    (:func:`plan_batch`), so a turn never waits for a hundred thousand rows. An expo that is already over
    is announced only when ``past_expo_confirmed`` names it: the organizer saw its dates and said yes
    (December 2026 once announced the 2019 expo)."""
    policies.require(session, organizer, policies.organizer, settings)
    message(session, kind, text)
    past = past_expo(session, kind, settings, now)
    if past is not None and past_expo_confirmed != past.id:
        raise Refused("expo_over", **expo.over_params(past, now, settings.tz))
    count = audience.count(session, audience_name, month)
    if not count:
        raise Refused("audience_empty")
    row = Broadcast(created_by=organizer.id or 0, created_at=now, audience=audience_name, month=month, kind=kind,
                    text=text if kind == "text" else None, recipients=count, status=PLANNING)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, now, organizer.id, "broadcast_started", "broadcast", row.id, audience=audience_name,
                 month=month, kind=kind, recipients=count)  # fmt: skip
    notify(session, "outbox")  # wakes the planner
    return row


def plan_batch(session: Session, now: dt.datetime, size: int = PLAN_BATCH) -> int | None:
    """Plans the audience among the next ``size`` user ids for the oldest broadcast still planning, in the
    caller's transaction; returns how many ids it covered (0 when that broadcast is now planned or was
    cancelled meanwhile), None when none is planning.

    Restart-safe and idempotent: the broadcast keeps the last user id planned, and a row planned twice is
    one row (one per recipient and event). One planner at a time: on PostgreSQL a transaction's advisory
    lock, on SQLite its one writer (the first statement writes). On PostgreSQL the broadcast's row is written
    last, just before the commit: every marking of sent rows counts them into that row, and a lock on it
    held through the whole batch made each marking wait for the batch (the send ran at about half its rate
    while a large audience was planned)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLAN_LOCK})
        found = session.execute(_OLDEST).first()
    else:  # the old way: touching the row takes SQLite's write lock before anything is read
        found = session.execute(
            update(Broadcast)
            .where(col(Broadcast.id) == _OLDEST.scalar_subquery(), col(Broadcast.status) == PLANNING)
            .values(planned_through=Broadcast.planned_through)
            .returning(Broadcast.id),
            execution_options={"synchronize_session": False},
        ).first()
    if found is None:
        return None
    row = session.get(Broadcast, found[0], populate_existing=True)
    assert row is not None
    live = (col(Broadcast.id) == row.id) & (col(Broadcast.status) == PLANNING)  # a cancel may come meanwhile
    last = session.exec(select(func.max(User.id))).one() or 0
    if row.planned_through >= last:
        session.execute(
            update(Broadcast).where(live).values(
                status=case((Broadcast.planned > 0, SENDING), else_=DONE), recipients=Broadcast.planned,
                finished_at=case((Broadcast.planned > 0, None), else_=now),
            ),
            execution_options={"synchronize_session": False},
        )  # fmt: skip
        return 0
    try:
        template, data = message(session, row.kind, row.text)
    except Refused:  # the expo was taken away meanwhile: what is planned goes, nothing more
        session.execute(update(Broadcast).where(live).values(planned_through=last),
                        execution_options={"synchronize_session": False})  # fmt: skip
        return 0
    ids = (row.planned_through, min(row.planned_through + size, last))
    who = audience.condition(row.audience, row.month, ids)
    key, due = event_key(row), row.created_at
    # People on several channels get it once, where they wrote last: few, chosen in Python as everywhere else.
    # Any of a person's accounts in the audience brings them in; a joined account is never planned itself (it
    # and its person went to the same chat twice, and KakaoTalk refuses a whole call naming one person twice).
    joined = aliased(User)
    several = select(joined.linked_to).where(col(joined.linked_to) > ids[0], col(joined.linked_to) <= ids[1])
    alone = who & col(User.linked_to).is_(None) & col(User.id).not_in(several)
    new = outbox.plan_audience(session, alone, template, data, key, due, now)
    linked = who & or_(col(User.id).in_(several), col(User.linked_to).is_not(None))
    mains = {u.linked_to or u.id for u in session.exec(select(User).where(linked)).all()}
    people = session.exec(select(User).where(col(User.id).in_(mains)).order_by(col(User.id))).all() if mains else []
    # Planned once per person and event whichever batch finds them first (a person's accounts may lie apart).
    new += outbox.plan(session, [Planned(p, template, data, key, due) for p in people], now)
    planned = {"planned": Broadcast.planned + new, "planned_through": ids[1]}
    took = session.execute(update(Broadcast).where(live).values(planned).returning(Broadcast.id),
                           execution_options={"synchronize_session": False}).first()  # fmt: skip
    if took is None:  # cancelled while this batch was planned: its rows stop as the cancel stopped the others
        stopped = _stop_pending(session, key)
        session.execute(update(Broadcast).where(col(Broadcast.id) == row.id)
                        .values({**planned, "cancelled": Broadcast.cancelled + stopped}),
                        execution_options={"synchronize_session": False})  # fmt: skip
        return 0
    return ids[1] - ids[0]


def _stop_pending(session: Session, key: str) -> int:
    """A cancelled broadcast's rows not sent yet are stopped; returns how many."""
    stopped = session.execute(
        update(Outbox)
        .where(col(Outbox.event_key) == key, col(Outbox.state) == OutboxState.PENDING.value)
        .values(state=OutboxState.CANCELLED.value, last_error="broadcast cancelled")
    ).rowcount  # type: ignore[attr-defined]
    return int(stopped)


def event_key(row: Broadcast) -> str:
    return f"{outbox.COUNTED}{row.id}"


@dataclass(frozen=True)
class Progress:
    sent: int
    failed: int
    left: int
    cancelled: int
    status: str


def progress(session: Session, broadcast_id: int, now: dt.datetime) -> Progress:
    """Counts (kept on the broadcast's row as its messages go), and closes the broadcast when nothing is left."""
    row = session.get(Broadcast, broadcast_id, populate_existing=True)
    if row is None:
        raise Refused("not_found")
    counted = _count(row)
    if counted.left <= 0 and row.status == SENDING:
        _finish(session, row, now)
        session.flush()
        counted = _count(row)
    return counted


def close_finished(session: Session, now: dt.datetime) -> int:
    """Every broadcast whose messages are all sent, failed or stopped is done (by the tick: only Telegram's
    live progress message closed them, so one sent from KakaoTalk stayed 「발송 중」 for good). Returns the
    notices planned."""
    accounted = Broadcast.sent + Broadcast.failed + Broadcast.cancelled
    done = session.exec(select(Broadcast).where(Broadcast.status == SENDING, Broadcast.recipients <= accounted))
    return sum(_finish(session, row, now) for row in done.all())


def _finish(session: Session, row: Broadcast, now: dt.datetime) -> int:
    """Done; the organizer who sent it is told, unless a message in their chat has followed it live."""
    row.status, row.finished_at = DONE, now
    session.add(row)
    owner = session.get(User, row.created_by) if row.created_by else None
    if owner is None or row.progress_message_id is not None:
        return 0
    data = {"id": row.id, "sent": row.sent, "failed": row.failed, "cancelled": row.cancelled,
            "audience": row.audience, "month": row.month}  # fmt: skip
    return outbox.plan(session, [Planned(owner, "broadcast/finished", data, f"broadcast-finished:{row.id}", now)], now)


def _count(row: Broadcast) -> Progress:
    left = max(row.recipients - row.sent - row.failed - row.cancelled, 0)
    if row.status in (DONE, CANCELLED):
        left = 0
    return Progress(row.sent, row.failed, left, row.cancelled, row.status)


def cancel(session: Session, organizer: User, broadcast_id: int, settings: Settings, now: dt.datetime) -> int:
    """Stops what has not been sent yet; returns how many messages were stopped."""
    policies.require(session, organizer, policies.organizer, settings)
    # The broadcast's row first: the planner plans nothing more. A batch under way sees this at its last
    # statement and stops its own rows (PostgreSQL); on SQLite this waits for the batch, whose rows stop here.
    live = (col(Broadcast.id) == broadcast_id) & col(Broadcast.status).in_((PLANNING, SENDING))
    session.execute(
        update(Broadcast).where(live).values(status=CANCELLED, finished_at=now),
        execution_options={"synchronize_session": False},
    )
    row = session.get(Broadcast, broadcast_id, populate_existing=True)
    if row is None:
        raise Refused("not_found")
    stopped = _stop_pending(session, event_key(row))
    row.cancelled += stopped
    session.add(row)
    audit.record(session, now, organizer.id, "broadcast_cancelled", "broadcast", row.id, stopped=stopped)
    return int(stopped)


def set_progress_message(session: Session, broadcast_id: int, chat_id: str, message_id: int) -> None:
    row = session.get(Broadcast, broadcast_id)
    if row is not None:
        row.progress_chat_id, row.progress_message_id = chat_id, message_id
        session.add(row)


def planning(session: Session) -> bool:
    """Whether a broadcast waits to be planned."""
    return session.exec(select(Broadcast.id).where(Broadcast.status == PLANNING).limit(1)).first() is not None


def in_progress(session: Session) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).where(col(Broadcast.status).in_((PLANNING, SENDING)))).all())


def history(
    session: Session, organizer: User, settings: Settings, limit: int = 10
) -> list[tuple[Broadcast, User | None, Progress]]:
    policies.require(session, organizer, policies.organizer, settings)
    rows = session.exec(select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit)).all()
    return [(row, session.get(User, row.created_by), _count(row)) for row in rows]

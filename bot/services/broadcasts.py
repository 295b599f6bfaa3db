"""Broadcasts: one message to many, through the outbox (rate limits, restarts, blocked users all handled
there), with news subscriptions and a history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.errors import Refused
from bot.models import (
    Application,
    ApplicationStatus,
    Broadcast,
    Company,
    Expo,
    Outbox,
    OutboxState,
    Role,
    RoleGrant,
    Subscription,
    User,
)
from bot.services import audit, expo, outbox, policies, users
from bot.services.outbox import Planned
from bot.settings import Settings

TOPIC_NEWS = "news"
AUDIENCES = ("subscribers", "companies", "officials", "reviewers", "applicants", "selected")
MAX_TEXT = 3500


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


def _role_users(session: Session, role: Role) -> set[int]:
    return set(session.exec(select(RoleGrant.user_id).where(RoleGrant.role == role.value)).all())


def _gets_news(session: Session, user: User) -> bool:
    return (user.id or 0) in _news_ids(session)


def _news_ids(session: Session) -> set[int]:
    explicit = set(session.exec(select(Subscription.user_id).where(Subscription.topic == TOPIC_NEWS)).all())
    owners = set(session.exec(select(Company.owner_user_id)).all())
    opted_out = set(session.exec(select(User.id).where(User.news_opt_out == True)).all())  # noqa: E712
    return explicit | ((owners | _role_users(session, Role.OFFICIAL)) - opted_out)  # type: ignore[operator]


def audience(session: Session, name: str, month: str | None) -> list[User]:
    if name == "subscribers":
        ids = _news_ids(session)
    elif name == "companies":
        ids = set(session.exec(select(Company.owner_user_id)).all())
    elif name == "officials":
        ids = _role_users(session, Role.OFFICIAL)
    elif name == "reviewers":
        ids = _role_users(session, Role.REVIEWER)
    elif name in ("applicants", "selected") and month:
        statuses = [ApplicationStatus.SELECTED.value] if name == "selected" else [
            s.value for s in ApplicationStatus if s != ApplicationStatus.WITHDRAWN]  # fmt: skip
        ids = set(session.exec(
            select(Company.owner_user_id).join(Application)
            .where(Application.month == month, col(Application.status).in_(statuses))
        ).all())  # fmt: skip
    else:
        raise Refused("not_allowed")
    if not ids:
        return []
    found = session.exec(select(User).where(col(User.id).in_(ids), User.active == True)).all()  # noqa: E712
    return sorted(found, key=lambda u: u.id or 0)


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
    """Creates the broadcast and plans one outbox row per recipient, in one transaction. An expo that is
    already over is announced only when ``past_expo_confirmed`` names it: the organizer saw its dates and
    said yes (December 2026 once announced the 2019 expo)."""
    policies.require(session, organizer, policies.organizer, settings)
    template, data = message(session, kind, text)
    past = past_expo(session, kind, settings, now)
    if past is not None and past_expo_confirmed != past.id:
        raise Refused("expo_over", **expo.over_params(past, now, settings.tz))
    people = audience(session, audience_name, month)
    if not people:
        raise Refused("audience_empty")
    row = Broadcast(created_by=organizer.id or 0, created_at=now, audience=audience_name, month=month, kind=kind,
                    text=text if kind == "text" else None, recipients=len(people))  # fmt: skip
    session.add(row)
    session.flush()
    outbox.plan(session, [Planned(p, template, data, event_key(row), now) for p in people], now)
    audit.record(session, now, organizer.id, "broadcast_started", "broadcast", row.id, audience=audience_name,
                 month=month, kind=kind, recipients=len(people))  # fmt: skip
    return row


def event_key(row: Broadcast) -> str:
    return f"broadcast:{row.id}"


@dataclass(frozen=True)
class Progress:
    sent: int
    failed: int
    left: int
    cancelled: int
    status: str


def progress(session: Session, broadcast_id: int, now: dt.datetime) -> Progress:
    """Counts, and closes the broadcast when nothing is left."""
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        raise Refused("not_found")
    counted = _count(session, row)
    if counted.left == 0 and row.status == "sending":
        row.status, row.finished_at = "done", now
        session.add(row)
        session.flush()
        counted = _count(session, row)
    return counted


def _count(session: Session, row: Broadcast) -> Progress:
    counts = outbox.counts_for(session, event_key(row))
    left = counts.get(OutboxState.PENDING.value, 0) + counts.get(OutboxState.SENDING.value, 0)
    return Progress(counts.get("sent", 0), counts.get("failed", 0), left, counts.get("cancelled", 0), row.status)


def cancel(session: Session, organizer: User, broadcast_id: int, settings: Settings, now: dt.datetime) -> int:
    """Stops what has not been sent yet; returns how many messages were stopped."""
    policies.require(session, organizer, policies.organizer, settings)
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        raise Refused("not_found")
    stopped = session.execute(
        update(Outbox)
        .where(col(Outbox.event_key) == event_key(row), col(Outbox.state) == OutboxState.PENDING.value)
        .values(state=OutboxState.CANCELLED.value, last_error="broadcast cancelled")
    ).rowcount  # type: ignore[attr-defined]
    if row.status == "sending":
        row.status, row.finished_at = "cancelled", now
        session.add(row)
    audit.record(session, now, organizer.id, "broadcast_cancelled", "broadcast", row.id, stopped=stopped)
    return int(stopped)


def set_progress_message(session: Session, broadcast_id: int, chat_id: str, message_id: int) -> None:
    row = session.get(Broadcast, broadcast_id)
    if row is not None:
        row.progress_chat_id, row.progress_message_id = chat_id, message_id
        session.add(row)


def in_progress(session: Session) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).where(Broadcast.status == "sending")).all())


def history(
    session: Session, organizer: User, settings: Settings, limit: int = 10
) -> list[tuple[Broadcast, User | None, Progress]]:
    policies.require(session, organizer, policies.organizer, settings)
    rows = session.exec(select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit)).all()
    return [(row, session.get(User, row.created_by), _count(session, row)) for row in rows]

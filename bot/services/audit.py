from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, col, select

from bot.models import AuditLog


def record(
    session: Session,
    now: dt.datetime,
    actor_user_id: int | None,
    action: str,
    entity: str,
    entity_id: object,
    **data: Any,
) -> None:
    """Adds an audit row to the caller's transaction, so it commits or rolls back with the change."""
    session.add(
        AuditLog(
            at=now,
            actor_user_id=actor_user_id,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            data=data,
        )
    )


def blocked_until(
    session: Session, actor_user_id: int | None, action: str, now: dt.datetime, limit: int, window: dt.timedelta
) -> dt.datetime | None:
    """For a guess that is recorded when wrong (an invitation, a link code): None while the person has had
    fewer than ``limit`` wrong ones within ``window``, else when the oldest of those leaves it and they may
    try again. Wrong guesses are recorded only until then, so the log holds at most ``limit`` of them per
    person per window however fast the guessing goes."""
    times = session.exec(
        select(AuditLog.at)
        .where(AuditLog.actor_user_id == actor_user_id, AuditLog.action == action, AuditLog.at > now - window)
        .order_by(col(AuditLog.at).desc())
        .limit(limit)
    ).all()
    return min(times) + window if len(times) >= limit else None

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

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

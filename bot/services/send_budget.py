"""The flood-limit budget of a channel, shared by every process through one row per channel.

A process reserves a run of send slots with one ``UPDATE … RETURNING``: the row lock orders the
reservations, so two processes never hold the same second of the budget."""

from __future__ import annotations

from sqlalchemy import case, update
from sqlmodel import Session

from bot.database import insert_for
from bot.models import SendBudget


def reserve(session: Session, channel: str, now: float, span: float) -> float:
    """Reserves ``span`` seconds of the channel's budget; returns when that run of slots starts."""
    later = case((SendBudget.next_at > now, SendBudget.next_at), else_=now)
    stmt = (
        update(SendBudget)
        .where(SendBudget.channel == channel)  # type: ignore[arg-type]
        .values(next_at=later + span)
        .returning(SendBudget.next_at)
    )
    end = session.execute(stmt, execution_options={"synchronize_session": False}).scalar_one_or_none()
    if end is None:  # the channel's first send ever
        session.execute(insert_for(session)(SendBudget).values(channel=channel, next_at=0.0).on_conflict_do_nothing())
        end = session.execute(stmt, execution_options={"synchronize_session": False}).scalar_one()
    return float(end) - span


def hold(session: Session, channel: str, until: float) -> None:
    """Nobody sends on the channel before ``until`` (the channel said to wait)."""
    later = case((SendBudget.next_at > until, SendBudget.next_at), else_=until)
    session.execute(
        update(SendBudget).where(SendBudget.channel == channel).values(next_at=later),  # type: ignore[arg-type]
        execution_options={"synchronize_session": False},
    )

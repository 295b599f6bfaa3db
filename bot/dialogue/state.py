"""The conversation row of one person, taken with a lock for the length of a turn: two updates of one
person apply one after the other, in one process or several."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from bot.database import insert_for
from bot.dialogue.model import Incoming
from bot.models import Conversation, FormDraft, User

RECENT_KEYS = 32  # how many applied update keys are remembered to spot a redelivery

_USER_ID = (
    select(User.id)
    .where(col(User.channel) == bindparam("channel"), col(User.external_id) == bindparam("external_id"))
    .scalar_subquery()
)
# The person, their conversation and, when a form is active, its draft (the step names the form): what
# nearly every turn needs, in one query.
_LOAD = (
    select(User, Conversation, FormDraft)
    .join(Conversation, col(Conversation.user_id) == col(User.id))
    .outerjoin(
        FormDraft,
        (col(FormDraft.user_id) == col(User.id))
        & (col(Conversation.flow) == "form")
        & (col(FormDraft.form) == col(Conversation.step)),
    )
    .where(col(User.channel) == bindparam("channel"), col(User.external_id) == bindparam("external_id"))
)
_LOAD_LOCKED = _LOAD.with_for_update(of=Conversation)


def begin(session: Session, incoming: Incoming, now: dt.datetime) -> tuple[User, Conversation, FormDraft | None]:
    """The person (created on first contact), their conversation row, locked until the turn commits, and the
    draft of the form they are filling in, if any."""
    params = {"channel": incoming.channel, "external_id": incoming.external_id}
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres:
        # SQLite has no row locks: the turn takes the database's write lock before it reads anything (a read
        # first could not always be upgraded to a write when another process writes).
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    row = session.execute(_LOAD_LOCKED if postgres else _LOAD, params).first()
    if row is None:
        _create(session, incoming, now)
        row = session.execute(_LOAD_LOCKED if postgres else _LOAD, params).one()
    return row[0], row[1], row[2]


def _create(session: Session, incoming: Incoming, now: dt.datetime) -> None:
    """Both rows, without a race: a second process creating the same person at once changes nothing."""
    insert = insert_for(session)
    session.execute(
        insert(User)
        .values(
            channel=incoming.channel, external_id=incoming.external_id, display_name=incoming.display_name[:200],
            client_language=incoming.client_language, language=None, active=True, news_opt_out=False,
            created_at=now, updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
    )  # fmt: skip
    user_id = session.execute(_USER_ID.element, {"channel": incoming.channel, "external_id": incoming.external_id})
    session.execute(
        insert(Conversation)
        .values(user_id=user_id.scalar_one(), ref={}, version=first_version(), recent=[], screen={}, updated_at=now)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )


def first_version() -> int:
    """Where a conversation's versions start: at random, so a token of one person's screen is stale in
    anyone else's conversation (and a guessed one almost surely is too)."""
    return secrets.randbelow(1 << 31) + 1


def seen(state: Conversation, key: str | None) -> bool:
    return key is not None and key in state.recent


def remember(state: Conversation, key: str | None) -> None:
    if key is not None:
        state.recent = [*state.recent, key][-RECENT_KEYS:]

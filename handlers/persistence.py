"""Conversation states in the database (JSON-safe: int or str), so a restart loses no conversation."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import delete, select
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.clock import Clock
from bot.database import Database, insert_for
from bot.models import ConversationState


class DbPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Only conversations are persisted; everything else lives in the project's own tables."""

    def __init__(self, db: Database, clock: Clock, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self.db = db
        self.clock = clock

    async def get_conversations(self, name: str) -> ConversationDict:
        with self.db.session() as session:
            rows = session.exec(select(ConversationState).where(ConversationState.name == name)).all()
        return {tuple(json.loads(row.key)): json.loads(row.state) for row in rows}

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        encoded_key = json.dumps(list(key))
        table = ConversationState.__table__  # type: ignore[attr-defined]
        with self.db.session() as session:
            if new_state is None:
                session.execute(delete(table).where(table.c.name == name, table.c.key == encoded_key))
            else:
                if not isinstance(new_state, int | str):
                    raise TypeError(f"conversation state must be int or str, got {type(new_state).__name__}")
                # One statement per change: PTB flushes every changed conversation, often many at once.
                stmt = insert_for(session)(table).values(
                    name=name, key=encoded_key, state=json.dumps(new_state), updated_at=self.clock.now()
                )
                changed = {"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at}
                session.execute(stmt.on_conflict_do_update(index_elements=["name", "key"], set_=changed))
            session.commit()

    async def drop_conversations(self, name: str) -> None:
        with self.db.session() as session:
            session.exec(delete(ConversationState).where(ConversationState.name == name))  # type: ignore[call-overload]
            session.commit()

    # Nothing else is stored here: user, chat and bot data live in the project's tables.
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None

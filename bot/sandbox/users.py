"""Simulated Telegram users: they send updates to the stand-in server and read the bot's answers.

What answers an update: the messages the bot sends after it, except those the sandbox marked as the bot's
own (the outbox: reminders, results, broadcasts; see ``UNASKED`` in :mod:`bot.sandbox.botapi`), and of the
edits only that of the pressed message (an answer to a message never edits; an edit of another message is
the bot keeping one up to date, as a broadcast's progress). Those arrive unasked: they are kept for whoever
shows deliveries, never taken for the answer, however they interleave with it."""

from __future__ import annotations

import itertools
import time
from typing import Any

from bot.sandbox.botapi import BotApiServer, Event

_query_ids = itertools.count(1)


class SimUser:
    def __init__(
        self,
        server: BotApiServer,
        user_id: int,
        first_name: str,
        language_code: str | None = "ko",
        timeout: float = 10.0,
    ) -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.timeout = timeout
        # What this person has already seen: a new SimUser waits only for what comes next.
        self.cursor = len(server.events[user_id])
        # Messages that arrived unasked (the outbox) and were passed over when this person spoke next, for
        # whoever shows deliveries (the simulation's transcript).
        self.unread: list[Event] = []

    @property
    def _from(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": self.server.next_message_id(self.id),
            "date": int(time.time()),
            "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
            "from": self._from,
            **content,
        }

    def _push(self, update: dict[str, Any]) -> None:
        """Sends an update. What arrived before it (a reminder, a result, a broadcast from the outbox) cannot be
        its answer: the cursor moves past it first, so the answer is never a message read earlier."""
        self.unread += self.events[self.cursor :]
        self.cursor = len(self.events)
        self.server.push_update(update)

    def take_unread(self) -> list[Event]:
        """Every message that arrived unasked and has not been taken yet; the cursor moves past them."""
        new, self.unread = [*self.unread, *self.events[self.cursor :]], []
        self.cursor = len(self.events)
        return new

    async def _collect(self, expect: int, callback_id: str | None = None, pressed: int | None = None) -> list[Event]:
        """Waits for ``expect`` messages answering the update just sent (``pressed``: the message whose button
        was pressed); what arrived unasked meanwhile goes to :attr:`unread`."""

        def answers(event: Event) -> bool:
            return not event.unasked and (event.kind != "edit" or event.message_id == pressed)

        events = await self.server.wait_events(self.id, self.cursor, expect, self.timeout, callback_id, answers)
        self.cursor += len(events)
        self.unread += [event for event in events if not answers(event)]
        return [event for event in events if answers(event)]

    @property
    def events(self) -> list[Event]:
        return self.server.events[self.id]

    def last(self) -> Event:
        return self.events[-1]

    async def send(self, text: str, expect: int = 1) -> list[Event]:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._push({"message": self._message(**content)})
        return await self._collect(expect)

    async def send_raw(self, expect: int = 1, **content: Any) -> list[Event]:
        """Any other kind of message: a sticker, a photo, a contact..."""
        self._push({"message": self._message(**content)})
        return await self._collect(expect)

    async def send_document(
        self, content: bytes, file_name: str, mime_type: str | None = "application/pdf", expect: int = 1
    ) -> list[Event]:
        file_id = self.server.upload(content, file_name, mime_type)
        return await self.send_raw(expect, document=self.server.document_dict(file_id))

    def find_button(self, label: str, event: Event | None = None) -> tuple[Event, str]:
        """The newest message with a button whose text contains ``label``."""
        candidates = [event] if event is not None else reversed(self.events)
        for ev in candidates:
            for row in ev.buttons:
                for text, data in row:
                    if label in text:
                        return ev, data
        raise AssertionError(f"no button {label!r}; last message: {self.last().text[:200]!r}")

    async def press(self, label: str, expect: int = 1, event: Event | None = None) -> list[Event]:
        ev, data = self.find_button(label, event)
        return await self.press_data(data, ev.message_id, expect)

    async def press_data(self, data: str, message_id: int, expect: int = 1) -> list[Event]:
        """Presses a button by its callback data, forged or not."""
        query_id = f"q{next(_query_ids)}"
        self.server.register_callback(query_id)
        message = self.server.messages.get((self.id, message_id)) or {
            "message_id": message_id, "date": int(time.time()), "chat": {"id": self.id, "type": "private"},
        }  # fmt: skip
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._from,
                    "message": message,
                    "chat_instance": f"ci{self.id}",
                    "data": data,
                }
            }
        )
        return await self._collect(expect, callback_id=query_id, pressed=message_id)

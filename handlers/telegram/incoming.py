"""A Telegram update (the Bot API's JSON, a plain dict) as the engine's :class:`~bot.dialogue.model.Incoming`."""

from __future__ import annotations

from typing import Any

from bot.dialogue.model import FileRef, Incoming, Kind

CHANNEL = "telegram"


def sender(update: dict[str, Any]) -> dict[str, Any] | None:
    """Who sent a message or pressed a button; None for other updates (edits, channel posts, members)."""
    for key in ("message", "callback_query"):
        part = update.get(key)
        if isinstance(part, dict):
            person = part.get("from")
            return person if isinstance(person, dict) and isinstance(person.get("id"), int) else None
    return None


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat a message came from, or the chat of the message whose button was pressed; None unless it is
    a private chat with the bot: an answer in a group would show a person's data (a profile, a deck, scores)
    to everyone in it."""
    message = update.get("message")
    if not isinstance(message, dict):
        query = update.get("callback_query")
        message = query.get("message") if isinstance(query, dict) else None
    chat = message.get("chat") if isinstance(message, dict) else None
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return None
    chat_id = chat.get("id")
    return chat_id if isinstance(chat_id, int) else None


def to_incoming(update: dict[str, Any]) -> Incoming | None:
    """None for what no person sent (channel posts, service messages without a sender)."""
    person = sender(update)
    if person is None or person.get("is_bot"):
        return None
    # Only what has the Bot API's types is taken: a forged field (a language as an object) failed the turn.
    name = " ".join(p for p in (person.get("first_name"), person.get("last_name")) if isinstance(p, str) and p)
    language = person.get("language_code")
    base = {
        "channel": CHANNEL, "external_id": str(person["id"]), "display_name": name,
        "client_language": language if isinstance(language, str) else None, "dedupe_key": str(update.get("update_id")),
    }  # fmt: skip
    query = update.get("callback_query")
    if isinstance(query, dict):
        data = query.get("data")
        return Incoming(kind=Kind.CHOICE, token=data if isinstance(data, str) else "", **base)  # type: ignore[arg-type]
    message = update.get("message")
    if not isinstance(message, dict):
        return None
    text = message.get("text")
    if isinstance(text, str):
        entities = message.get("entities")
        entity = entities[0] if isinstance(entities, list) and entities and isinstance(entities[0], dict) else None
        if entity is not None and entity.get("type") == "bot_command" and entity.get("offset") == 0:
            name, *args = text[1:].split() or [""]
            command = name.split("@")[0].lower()
            return Incoming(kind=Kind.COMMAND, command=command, args=tuple(args), text=text, **base)  # type: ignore[arg-type]
        return Incoming(kind=Kind.TEXT, text=text, **base)  # type: ignore[arg-type]
    document = message.get("document")
    if isinstance(document, dict):
        file = FileRef(
            str(document.get("file_name") or ""), document.get("mime_type"), document.get("file_size"),
            str(document.get("file_id") or ""),
        )  # fmt: skip
        return Incoming(kind=Kind.FILE, file=file, **base)  # type: ignore[arg-type]
    return Incoming(kind=Kind.OTHER, **base)  # type: ignore[arg-type]

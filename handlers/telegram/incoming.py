"""A Telegram update as the engine's :class:`~bot.dialogue.model.Incoming`."""

from __future__ import annotations

from telegram import MessageEntity, Update

from bot.dialogue.model import FileRef, Incoming, Kind

CHANNEL = "telegram"


def to_incoming(update: Update) -> Incoming | None:
    """None for what no person sent (channel posts, service messages without a sender)."""
    person = update.effective_user
    if person is None or person.is_bot:
        return None
    base = {
        "channel": CHANNEL, "external_id": str(person.id), "display_name": person.full_name,
        "client_language": person.language_code, "dedupe_key": str(update.update_id),
    }  # fmt: skip
    query = update.callback_query
    if query is not None:
        data = query.data if isinstance(query.data, str) else ""
        return Incoming(kind=Kind.CHOICE, token=data, **base)  # type: ignore[arg-type]
    message = update.message
    if message is None:
        return None
    if message.text is not None:
        entity = message.entities[0] if message.entities else None
        if entity is not None and entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            name, *args = message.text[1:].split()
            command = name.split("@")[0].lower()
            return Incoming(kind=Kind.COMMAND, command=command, args=tuple(args), text=message.text, **base)  # type: ignore[arg-type]
        return Incoming(kind=Kind.TEXT, text=message.text, **base)  # type: ignore[arg-type]
    document = message.document
    if document is not None:
        file = FileRef(document.file_name or "", document.mime_type, document.file_size, document.file_id)
        return Incoming(kind=Kind.FILE, file=file, **base)  # type: ignore[arg-type]
    return Incoming(kind=Kind.OTHER, **base)  # type: ignore[arg-type]

"""What a channel's sender reports, so the dispatcher stays free of any channel's types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class DeliveryError(Exception):
    pass


class RetryAfter(DeliveryError):
    """The channel asks us to wait (Telegram's 429)."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds}s")
        self.seconds = seconds


class Blocked(DeliveryError):
    """The recipient blocked the bot or deleted the chat (Telegram's 403)."""


class Rejected(DeliveryError):
    """The channel refused this message; sending it again would not help (Telegram's 400)."""


class Transient(DeliveryError):
    """A network error, a time-out or a server error: worth another try."""


@dataclass(frozen=True)
class Piece:
    """One message of a row: a row whose text is too long for one goes as several, in order."""

    html: str
    plain: str
    document: dict[str, Any] | None = None
    # (label, token) buttons under the message where the channel has them (a result's appeal); a
    # channel without names the typed word in the text instead.
    buttons: tuple[tuple[str, str], ...] = ()


class Sender(Protocol):
    async def send(self, chat_id: str, html: str, plain: str, buttons: tuple[tuple[str, str], ...] = ()) -> None: ...

    async def send_document(self, chat_id: str, document: dict[str, Any], html: str, plain: str) -> None:
        """``document`` is {"file_id": ...} or {"filename": ..., "content": text}; the text is its caption."""
        ...

"""Sends an outbox message through Telegram and translates Telegram's answers for the dispatcher."""

from __future__ import annotations

from typing import Any

from bot import delivery
from bot.split import split_html
from handlers.telegram.api import BadRequest, BotApi, Forbidden, RetryAfter, TelegramError, Upload
from handlers.telegram.flood import FROM_OUTBOX
from handlers.telegram.output import NO_PREVIEW, TEXT_LIMIT, fits_caption, keyboard


class TelegramSender:
    def __init__(self, api: BotApi, timeout: float = 10.0) -> None:
        self.api = api
        self.timeout = api.timeout(timeout)

    async def send(self, chat_id: str, html: str, plain: str, buttons: tuple[tuple[str, str], ...] = ()) -> None:
        await self._call("sendMessage", {
            "chat_id": int(chat_id), "text": html, "parse_mode": "HTML", "link_preview_options": NO_PREVIEW,
            "reply_markup": keyboard([list(buttons)]),
        })  # fmt: skip

    async def send_document(self, chat_id: str, document: dict[str, Any], html: str, plain: str) -> None:
        if document.get("file_id"):
            payload: str | Upload = document["file_id"]
        elif document.get("path"):
            payload = Upload(document.get("filename") or "file", path=document["path"])
        else:
            payload = Upload(document["filename"], str(document["content"]).encode("utf-8"))
        await self._call("sendDocument", {
            "chat_id": int(chat_id), "document": payload, "caption": html or None, "parse_mode": "HTML",
        })  # fmt: skip

    def pieces(self, html: str, plain: str, document: dict[str, Any] | None) -> list[delivery.Piece]:
        """A text over Telegram's 4,096 characters goes as several messages; a caption over 1,024 goes
        after its file."""
        if document is not None and fits_caption(html):
            return [delivery.Piece(html, plain, document)]
        parts = [delivery.Piece(part, "") for part in split_html(html, TEXT_LIMIT)] if html else []
        return ([delivery.Piece("", "", document)] if document is not None else []) + parts

    async def _call(self, method: str, params: dict[str, Any]) -> None:
        token = FROM_OUTBOX.set(True)
        try:
            await self.api.call(method, params, timeout=self.timeout)
        except RetryAfter as err:
            raise delivery.RetryAfter(err.retry_after, str(err)) from err
        except Forbidden as err:
            raise delivery.Blocked(str(err)) from err
        except BadRequest as err:
            raise delivery.Rejected(str(err)) from err
        except TelegramError as err:  # Transient, TimedOut, and what else Telegram may answer
            raise delivery.Transient(f"{type(err).__name__}: {err}") from err
        finally:
            FROM_OUTBOX.reset(token)

"""Sends an outbox message through Telegram and translates Telegram's answers for the dispatcher."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from telegram import Bot, InputFile
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot import delivery
from bot.split import split_html
from handlers.telegram.flood import FROM_OUTBOX
from handlers.telegram.output import fits_caption, keyboard


class TelegramSender:
    def __init__(self, bot: Bot, timeout: float = 10.0) -> None:
        self.bot = bot
        self.timeout = timeout

    async def send(self, chat_id: str, html: str, plain: str, buttons: tuple[tuple[str, str], ...] = ()) -> None:
        await self._call(
            self.bot.send_message(
                int(chat_id), html, parse_mode=ParseMode.HTML, disable_web_page_preview=True,
                reply_markup=keyboard([list(buttons)]),
                read_timeout=self.timeout, write_timeout=self.timeout, connect_timeout=self.timeout,
            )
        )  # fmt: skip

    async def send_document(self, chat_id: str, document: dict[str, Any], html: str, plain: str) -> None:
        if document.get("file_id"):
            payload: str | InputFile = document["file_id"]
        elif document.get("path"):
            payload = InputFile(Path(document["path"]).read_bytes(), filename=document.get("filename") or "file")
        else:
            payload = InputFile(str(document["content"]).encode("utf-8"), filename=document["filename"])
        await self._call(
            self.bot.send_document(
                int(chat_id), payload, caption=html or None, parse_mode=ParseMode.HTML,
                read_timeout=self.timeout, write_timeout=self.timeout, connect_timeout=self.timeout,
            )
        )  # fmt: skip

    def pieces(self, html: str, plain: str, document: dict[str, Any] | None) -> list[delivery.Piece]:
        """A text over Telegram's 4,096 characters goes as several messages; a caption over 1,024 goes
        after its file."""
        if document is not None and fits_caption(html):
            return [delivery.Piece(html, plain, document)]
        parts = [delivery.Piece(part, "") for part in split_html(html, MessageLimit.MAX_TEXT_LENGTH)] if html else []
        return ([delivery.Piece("", "", document)] if document is not None else []) + parts

    async def _call(self, request: Awaitable[object]) -> None:
        token = FROM_OUTBOX.set(True)
        try:
            await request
        except RetryAfter as err:
            wait = err.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            raise delivery.RetryAfter(seconds, str(err)) from err
        except Forbidden as err:
            raise delivery.Blocked(str(err)) from err
        except BadRequest as err:  # before NetworkError: BadRequest is one of its subclasses
            raise delivery.Rejected(str(err)) from err
        except (TimedOut, NetworkError) as err:
            raise delivery.Transient(f"{type(err).__name__}: {err}") from err
        except TelegramError as err:
            raise delivery.Transient(f"{type(err).__name__}: {err}") from err
        finally:
            FROM_OUTBOX.reset(token)

"""Sends an outbox message through Telegram and translates Telegram's answers for the dispatcher."""

from __future__ import annotations

import datetime as dt

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot import delivery


class TelegramSender:
    def __init__(self, bot: Bot, timeout: float = 10.0) -> None:
        self.bot = bot
        self.timeout = timeout

    async def send(self, chat_id: str, html: str, plain: str) -> None:
        try:
            await self.bot.send_message(
                int(chat_id), html, parse_mode=ParseMode.HTML, disable_web_page_preview=True,
                read_timeout=self.timeout, write_timeout=self.timeout, connect_timeout=self.timeout,
            )  # fmt: skip
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

"""Reaching the Bot API at start-up. A Telegram outage, or a network that is not up yet when the server
boots, must not end the process: it tries again, waiting longer each time up to a cap, one log line per
attempt, until it connects or is told to stop. A token the Bot API refuses will not start working by
waiting, so that ends the start-up at once, in one line that does not show the token."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.settings import Settings

log = logging.getLogger(__name__)


class BotApiRefused(Exception):
    """The Bot API answered and will not serve this bot; the message is one line for the operator."""


async def reach(bot: Bot, api_url: str, settings: Settings, stop: asyncio.Event) -> bool:
    """Initializes ``bot`` (its getMe); False when ``stop`` was set before the Bot API could be reached."""
    delay = settings.telegram_retry_seconds
    attempt = 1
    while not stop.is_set():
        try:
            await bot.initialize()
            if attempt > 1:
                log.info("Bot API at %s reached on attempt %d", api_url, attempt)
            return True
        except InvalidToken:
            raise BotApiRefused(
                f"the Bot API at {api_url} refused PITCHBOT_TELEGRAM_TOKEN (unauthorized); "
                "check the token @BotFather gave"
            ) from None
        except RetryAfter as err:
            wait, reason = max(delay, _seconds(err.retry_after)), "asked to wait"
        except NetworkError as err:  # TimedOut too
            wait, reason = delay, str(err) or type(err).__name__
        except TelegramError as err:
            raise BotApiRefused(f"the Bot API at {api_url} answered getMe with: {err}") from None
        log.warning(
            "Bot API at %s not reachable (attempt %d: %s); trying again in %.1f s", api_url, attempt, reason, wait
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), wait)
        delay = min(delay * 2, settings.telegram_retry_max_seconds)
        attempt += 1
    return False


def _seconds(value: object) -> float:
    # python-telegram-bot gives retry_after as an int, or as a timedelta when PTB_TIMEDELTA is set.
    total = getattr(value, "total_seconds", None)
    return float(total() if callable(total) else value)  # type: ignore[arg-type]

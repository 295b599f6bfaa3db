"""Reaching the Bot API at start-up. A Telegram outage, or a network that is not up yet when the server
boots, must not end the process: it tries again, waiting longer each time up to a cap, one log line per
attempt, until it connects or is told to stop. A token the Bot API refuses will not start working by
waiting, so that ends the start-up at once, in one line that does not show the token."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.settings import Settings
from handlers.telegram.api import BotApi, RetryAfter, TelegramError, Transient, Unauthorized

log = logging.getLogger(__name__)


class BotApiRefused(Exception):
    """The Bot API answered and will not serve this bot; the message is one line for the operator."""


async def reach(api: BotApi, settings: Settings, stop: asyncio.Event) -> bool:
    """Starts ``api`` and asks getMe (the bot's username is kept for t.me links); False when ``stop`` was set
    before the Bot API could be reached."""
    api_url = api.api_url
    delay = settings.telegram_retry_seconds
    attempt = 1
    while not stop.is_set():
        try:
            await api.start()
            me = await api.call("getMe")
            api.username = str(me.get("username") or "") if isinstance(me, dict) else ""
            if attempt > 1:
                log.info("Bot API at %s reached on attempt %d", api_url, attempt)
            return True
        except Unauthorized:
            raise BotApiRefused(
                f"the Bot API at {api_url} refused PITCHBOT_TELEGRAM_TOKEN (unauthorized); "
                "check the token @BotFather gave"
            ) from None
        except RetryAfter as err:
            wait, reason = max(delay, err.retry_after), "asked to wait"
        except Transient as err:  # TimedOut too
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

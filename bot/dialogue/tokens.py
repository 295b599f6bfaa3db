"""Choice tokens: what a button carries back. ``<version>:<flow>:<name>[:<arg>...]`` for an answer to the
current screen, ``e:<flow>:<name>[:<arg>...]`` for an entry that stays valid on older screens. Short enough
for Telegram's 64 bytes of callback data; arguments are ids and codes, never user text."""

from __future__ import annotations

import re

from bot.calendar import Month
from bot.dialogue.model import Action
from bot.errors import Refused

ENTRY = "e"
_PART = re.compile(r"[A-Za-z0-9_.\-]{0,40}")
_VERSION = re.compile(r"[0-9]{1,12}")
_ID = re.compile(r"[0-9]{1,18}")  # below 2^63: an id beyond what a BIGINT holds never reaches the database


class TokenError(ValueError):
    pass


def encode(action: Action, version: int, max_bytes: int = 64) -> str:
    parts = [action.flow, action.name, *action.args]
    for part in parts:
        if not _PART.fullmatch(part):
            raise TokenError(f"token part {part!r} of {action} is not a short code")
    token = ":".join([ENTRY if action.entry else str(version), *parts])
    if len(token.encode()) > max_bytes:
        raise TokenError(f"token {token!r} is longer than {max_bytes} bytes")
    return token


def decode(token: str) -> tuple[int | None, Action] | None:
    """``(version, action)``, version None for an entry; None for anything that is not a token of ours."""
    parts = token.split(":")
    if len(parts) < 3 or len(token) > 200 or not all(_PART.fullmatch(p) for p in parts[1:]):
        return None
    head, flow, name, *args = parts
    if not flow or not name:
        return None
    if head == ENTRY:
        return None, Action(flow, name, tuple(args), entry=True)
    if not _VERSION.fullmatch(head):  # ASCII only: "²" is a digit to isdigit() but not to int()
        return None
    return int(head), Action(flow, name, tuple(args))


def int_arg(action: Action, index: int) -> int | None:
    """An id argument, or None when missing or not a plausible id (nothing beyond 2^63 reaches the database)."""
    try:
        raw = action.args[index]
    except IndexError:
        return None
    if not _ID.fullmatch(raw):
        return None
    return int(raw)


def str_arg(action: Action, index: int) -> str | None:
    try:
        return action.args[index] or None
    except IndexError:
        return None


def month_typed(args: tuple[str, ...], today: Month) -> Month | None:
    """The month typed after a command (「/selection 2026-11」, 「선정 12월」: the December nearest ``today``),
    None when none was; what is not a month is refused with the format, rather than read as no month at all
    (a board of another month would answer)."""
    typed = " ".join(args).strip()  # 「2026년 12월」 comes as two words
    if not typed:
        return None
    month = Month.typed(typed, today)
    if month is None:
        raise Refused("month_format", typed=typed)
    return month

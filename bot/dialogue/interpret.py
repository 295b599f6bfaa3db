"""Typed input on a screen with choices: a label in either language, or its number, picks that choice.
Channels without buttons (KakaoTalk, where a quick reply is also just text) depend on it."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Case, width, spacing, emoji and punctuation do not matter: "✔ 선택 완료" is "선택완료"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if c.isalnum())


def stored_choice(label_variants: list[str], token: str) -> list[Any]:
    return [token, sorted({normalize(v) for v in label_variants if normalize(v)})]


def match(text: str, screen: dict[str, Any]) -> str | None:
    """The token of the choice the text names, or None. Numbers count only on a screen that asks for a
    choice (a number is an answer of its own to a text question)."""
    wanted = normalize(text)
    if not wanted:
        return None
    options: list[list[Any]] = screen.get("choices", [])
    nav: list[list[Any]] = screen.get("nav", [])
    # isdecimal, not isdigit: "፩" (Ethiopic one) is a digit int() cannot read.
    if screen.get("expects") == "choice" and wanted.isdecimal() and len(wanted) <= 4:
        index = int(wanted) - 1
        if 0 <= index < len(options):
            return str(options[index][0])
    for token, names in (*options, *nav):
        if wanted in names:
            return str(token)
    return None

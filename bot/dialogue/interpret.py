"""Typed input on a screen with choices: a label in either language, or its number, picks that choice.
Channels without buttons (KakaoTalk, where a quick reply is also just text) depend on it. A choice whose label
starts with its number in a list (「3. PD-202612-0003」) is picked by that number on any page of the list."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Case, width, spacing, emoji and punctuation do not matter: "✔ 선택 완료" is "선택완료"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if c.isalnum())


LISTED = re.compile(r"^\s*(\d{1,4})[.)]\s")


def stored_choice(label_variants: list[str], token: str) -> list[Any]:
    """What a screen keeps of a choice: its token, the words that name it and, for one listed under a number,
    that number."""
    listed = LISTED.match(label_variants[0]) if label_variants else None
    names = sorted({normalize(v) for v in label_variants if normalize(v)})
    return [token, names, int(listed.group(1))] if listed else [token, names]


def match(text: str, screen: dict[str, Any]) -> str | None:
    """The token of the choice the text names, or None. A number picks the choice listed under it, or on a
    screen that asks for a choice the choice at that place; never on one that asks for text (a number is an
    answer of its own there)."""
    wanted = normalize(text)
    if not wanted:
        return None
    options: list[list[Any]] = screen.get("choices", [])
    nav: list[list[Any]] = screen.get("nav", [])
    expects = screen.get("expects")
    if expects != "text":
        wanted = numbered(wanted)
    # isdecimal, not isdigit: "፩" (Ethiopic one) is a digit int() cannot read.
    if expects != "text" and wanted.isdecimal() and len(wanted) <= 4:
        number = int(wanted)
        listed = [str(option[0]) for option in options if option[2:] == [number]]
        if listed:
            return listed[0]
        elsewhere = (screen.get("listed") or {}).get(str(number))  # on another page of the same list
        if elsewhere:
            return str(elsewhere)
        if expects == "choice" and 0 < number <= len(options):
            return str(options[number - 1][0])
    for token, names, *_ in (*options, *nav):
        if wanted in names:
            return str(token)
    return None


_YES = {"네": "예", "넵": "예", "응": "예", "y": "yes"}

# 「1번」, 「2 번」, 「3번째」, 「첫번째」: a place in a list as people write it, read as its number; 「4점」, a
# score as people write it.
_NUMBERED = re.compile(r"(\d{1,4})(?:번째|번|점|점이요|점입니다)")
_ORDINALS = {"첫": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10}
_ORDINAL = re.compile(r"(첫|두|세|네|다섯|여섯|일곱|여덟|아홉|열)번째")


def numbered(wanted: str) -> str:
    """A normalized answer that names a place in a list, as its digits; anything else as it is."""
    if found := _NUMBERED.fullmatch(wanted):
        return found.group(1)
    if found := _ORDINAL.fullmatch(wanted):
        return str(_ORDINALS[found.group(1)])
    return wanted


def match_part(text: str, screen: dict[str, Any], asked_only: bool = False) -> str | None:
    """The token of the one choice whose words contain what was typed (「저장」 for 「💾 저장하기」, 「중소」 for
    「중소기업」, 「제출」 for 「✅ 이의신청 제출」, 「네」 for 「예, 철회합니다」), or None when none or several do.
    Only on a screen that neither asks for text nor reads typed words its own way (a search, a selection typed
    whole). ``asked_only``: among the choices of a form's question that asks to choose, its steps left out (the
    engine asks this before a command's words, and the rest after them)."""
    if screen.get("expects") == "text" or (asked_only and not (screen.get("question") and
                                                               screen.get("expects") == "choice")):  # fmt: skip
        return None
    wanted = normalize(text)
    wanted = _YES.get(wanted, wanted)
    if not wanted or wanted.isdecimal() or (len(wanted) < 2 and wanted != "예"):
        return None
    # A list that searches what is typed keeps its entries for the search; its own steps (「완료」 for 「선택
    # 완료」, 「이전」) are still picked by a part (「완료」 was searched for as a department's name).
    choices = [] if screen.get("reads_words") else screen.get("choices", [])
    options: list[list[Any]] = [*choices, *([] if asked_only else screen.get("nav", []))]
    found = {str(token) for token, names, *_ in options
             if any(name.startswith(wanted) if wanted == "예" else wanted in name for name in names)}  # fmt: skip
    return found.pop() if len(found) == 1 else None

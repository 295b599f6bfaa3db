"""Splitting a long message into parts a channel accepts, at line breaks: HTML never inside a tag or an
entity (Telegram), plain text at a space where it can (KakaoTalk). A line longer than a part is cut."""

from __future__ import annotations

import re
from collections.abc import Callable

_OPEN_TAG = re.compile(r"<([a-z-]+)[^>]*>")
_CLOSE_TAG = re.compile(r"</([a-z-]+)>")


def _safe_cut(text: str, limit: int) -> int:
    """The last index <= limit that is not inside a tag or an entity."""
    cut = limit
    amp, semi = text.rfind("&", 0, cut), text.rfind(";", 0, cut)
    if amp > semi:
        cut = amp
    lt, gt = text.rfind("<", 0, cut), text.rfind(">", 0, cut)
    if lt > gt:
        cut = lt
    return max(cut, 1)


def _balanced(line: str) -> bool:
    return len(_OPEN_TAG.findall(line)) == len(_CLOSE_TAG.findall(line))


def _pack(text: str, limit: int, cut_line: Callable[[str], tuple[str, str]]) -> list[str]:
    """Lines gathered into parts of at most ``limit``; ``cut_line`` takes the head off an over-long line."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            head, line = cut_line(line)
            parts.append(head)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[:limit]]


def split_html(html: str, limit: int = 4096) -> list[str]:
    if len(html) <= limit:
        return [html]

    def cut(line: str) -> tuple[str, str]:
        if not _balanced(line):  # user text, escaped: its tags cannot span the cut, so they go
            line = re.sub(r"</?[a-z-]+[^>]*>", "", line)
            if len(line) <= limit:
                return line, ""
        at = _safe_cut(line, limit)
        return line[:at], line[at:]

    return _pack(html, limit, cut)


def split_plain(text: str, limit: int) -> list[str]:
    def cut(line: str) -> tuple[str, str]:
        at = line.rfind(" ", 0, limit)
        at = at if at > limit // 2 else limit
        return line[:at].rstrip(), line[at:].lstrip()

    return _pack(text, limit, cut)

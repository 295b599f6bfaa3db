"""Splitting a long HTML message into parts a channel accepts, at line breaks, never inside a tag or an
entity; a line longer than a part is cut at a safe point."""

from __future__ import annotations

import re

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


def split_html(html: str, limit: int = 4096) -> list[str]:
    if len(html) <= limit:
        return [html]
    parts: list[str] = []
    current = ""
    for line in html.split("\n"):
        while len(line) > limit:
            # A single over-long line: user text, escaped, without tags spanning the cut.
            if not _balanced(line):
                line = re.sub(r"</?[a-z-]+[^>]*>", "", line)
                continue
            cut = _safe_cut(line, limit)
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        parts.append(current)
    return [p for p in parts if p.strip()] or [html[:limit]]

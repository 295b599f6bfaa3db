"""What Telegram accepts as HTML message text, checked as strictly as Telegram checks it."""

from __future__ import annotations

import html
import re

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
    "blockquote", "tg-emoji",
}  # fmt: skip
_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+=\"[^\"<>]*\")*)\s*>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);"
)
MAX_TEXT = 4096


class EntityError(ValueError):
    pass


def parse_html(text: str) -> str:
    """Returns the visible text; raises :class:`EntityError` for anything Telegram would refuse."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        chunk = text[pos : m.start()]
        if "<" in chunk or "&" in chunk:
            bad = "<" if "<" in chunk else "&"
            raise EntityError(f"can't parse entities: unsupported start tag or unescaped {bad!r}")
        out.append(chunk)
        pos = m.end()
        if m.group(4):
            out.append(html.unescape("&" + m.group(4) + ";"))
            continue
        closing, tag = m.group(1) == "/", m.group(2).lower()
        if tag not in ALLOWED_TAGS:
            raise EntityError(f'can\'t parse entities: unsupported start tag "{tag}"')
        if closing:
            if not stack or stack[-1] != tag:
                raise EntityError(f'can\'t parse entities: unexpected end tag "{tag}"')
            stack.pop()
        else:
            stack.append(tag)
    tail = text[pos:]
    if "<" in tail or "&" in tail:
        raise EntityError("can't parse entities: unsupported start tag or unescaped character")
    out.append(tail)
    if stack:
        raise EntityError(f"can't parse entities: can't find end tag corresponding to start tag \"{stack[-1]}\"")
    return "".join(out)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2

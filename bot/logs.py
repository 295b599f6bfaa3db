"""Logging set up in one place. Personal data never reaches a log line: phone numbers, e-mail addresses and
business registration numbers are masked in every record, traceback included (and the engine hides the
values bound to SQL statements, see ``bot.database.make_engine``)."""

from __future__ import annotations

import logging
import re

# Korean phone numbers in any of the shapes people type or we store (+82 10-1234-5678, 01012345678, 02-123-4567).
_PHONE = re.compile(r"(?<!\d)(?:\+?82[-\s.]?|0)(?:1[016789]|2|[3-6][1-5]|70)[-\s.)]?\d{3,4}[-\s.]?\d{4}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BRN = re.compile(r"(?<!\d)\d{3}-?\d{2}-?\d{5}(?!\d)")
MASK = "***"


def redact(text: str) -> str:
    text = _EMAIL.sub(MASK, text)
    text = _BRN.sub(MASK, text)
    return _PHONE.sub(MASK, text)


class RedactingFormatter(logging.Formatter):
    """Masks the finished line: the message, its arguments and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(level: int = logging.INFO, fmt: str = "%(asctime)s %(levelname)s %(name)s: %(message)s") -> None:
    logging.basicConfig(level=level, format=fmt)
    install(fmt)


def install(fmt: str | None = None) -> None:
    """Puts the masking formatter on every handler of the root logger (keeping each one's format)."""
    for handler in logging.getLogger().handlers:
        current = handler.formatter
        if isinstance(current, RedactingFormatter):
            continue
        handler.setFormatter(RedactingFormatter(current._fmt if current is not None else fmt))

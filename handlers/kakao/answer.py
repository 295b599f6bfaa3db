"""A reply of the engine as a Kakao skill answer: plain text in at most three outputs of 1,000 characters,
the last screen's choices as at most ten quick replies that carry their token, and nothing Kakao refuses
(an answer over 30 KB is not delivered). What does not fit goes on through the Event API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.dialogue.engine import Reply
from bot.split import split_plain
from bot.texts import Texts

MAX_TEXT = 1000
MAX_OUTPUTS = 3
MAX_QUICK_REPLIES = 10
MAX_LABEL = 14  # as integrators keep quick-reply labels (Kakao documents none; button labels are 14)


@dataclass
class Answer:
    body: dict[str, Any]
    overflow: list[str] = field(default_factory=list)  # texts for the Event API, in order


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """At line breaks where it can, else at a space, else anywhere: each part within the limit."""
    return split_plain(text, limit)


def short_label(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def quick_replies(buttons: list[list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """The chat shows the whole label as the person's message; the token rides along in ``extra``."""
    flat = [b for row in buttons for b in row][:MAX_QUICK_REPLIES]
    return [
        {"label": short_label(label), "action": "message", "messageText": label, "extra": {"t": token}}
        for label, token in flat
    ]


def texts_of(reply: Reply) -> list[str]:
    out = []
    for output in reply.outputs:
        text = output.toast if output.toast_only and output.toast else output.text
        out += split_text(text)
    return out


def build(reply: Reply, texts: Texts) -> Answer:
    parts = texts_of(reply)
    shown, overflow = parts[:MAX_OUTPUTS], parts[MAX_OUTPUTS:]
    if overflow:
        note = texts.label(reply.lang, "kakao.continued")
        if len(shown[-1]) + len(note) + 2 > MAX_TEXT:
            overflow.insert(0, shown[-1])
            shown[-1] = note
        else:
            shown[-1] = f"{shown[-1]}\n\n{note}"
    buttons = next((o.buttons for o in reversed(reply.outputs) if o.buttons), [])
    template: dict[str, Any] = {"outputs": [{"simpleText": {"text": t}} for t in shown]}
    replies = quick_replies(buttons)
    if replies:
        template["quickReplies"] = replies
    return Answer({"version": "2.0", "template": template}, overflow)


def text_answer(text: str) -> dict[str, Any]:
    return {"version": "2.0", "template": {"outputs": [{"simpleText": {"text": split_text(text)[0]}}]}}

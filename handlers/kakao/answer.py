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
    """Within the limit, cut after a whole word where that keeps half of the room (「📝 Apply for…」, not
    「📝 Apply for Pi…」), else where the limit falls."""
    if len(label) <= MAX_LABEL:
        return label
    head = label[: MAX_LABEL - 1]
    word = head[: head.rfind(" ") + 1].rstrip(" /(·,")
    return (word if len(word) >= MAX_LABEL // 2 else head) + "…"


def short_labels(labels: list[str]) -> list[str]:
    """Each label within the limit, and no two alike where the whole labels differ: labels that differ only
    past the cut (「✏️ PD-202612-0001」, 「✏️ PD-202612-0002」) keep both ends instead (「✏️ …2612-0001」), and where
    those are alike too, their numbers in the list."""
    short = [short_label(label) for label in labels]
    owners: dict[str, set[str]] = {}
    for label, cut in zip(labels, short, strict=True):
        owners.setdefault(cut, set()).add(label)
    alike = [len(owners[cut]) > 1 for cut in short]
    if not any(alike):
        return short
    ends = [_both_ends(label) if same else cut for label, cut, same in zip(labels, short, alike, strict=True)]
    if len(set(ends)) == len(set(zip(labels, ends, strict=True))):
        return ends
    return [short_label(f"{i}. {label}") if same else cut for i, (label, cut, same) in
            enumerate(zip(labels, short, alike, strict=True), start=1)]  # fmt: skip


def _both_ends(label: str, head: int = 3) -> str:
    """Its first characters (an emoji and a space, the start of a name) and as much of its end as fits."""
    return label[:head] + "…" + label[-(MAX_LABEL - head - 1) :]


def quick_replies(buttons: list[list[tuple[str, str]]]) -> list[dict[str, Any]]:
    """The chat shows the whole label as the person's message; the token rides along in ``extra``."""
    flat = [b for row in buttons for b in row][:MAX_QUICK_REPLIES]
    shown = short_labels([label for label, _ in flat])
    return [
        {"label": short, "action": "message", "messageText": label, "extra": {"t": token}}
        for short, (label, token) in zip(shown, flat, strict=True)
    ]


def texts_of(reply: Reply) -> list[str]:
    out = []
    for output in reply.outputs:
        text = output.toast if output.toast_only and output.toast else output.text
        out += split_text(text)
    return out


def texts_for_events(reply: Reply, texts: Texts) -> list[str]:
    """The reply as texts for the Event API, whose block shows text alone: the last screen's choices, which
    would have been quick replies, are named as words to type (typed, they pick the same as pressed); not
    where it asks for an answer of the person's own (a name: its 「◀ 이전」 is no answer to offer)."""
    parts = texts_of(reply)
    last = reply.outputs[-1] if reply.outputs else None
    if last is None or not last.buttons or last.expects == "text":
        return parts
    words = [label for row in last.buttons for label, _ in row][:MAX_QUICK_REPLIES]
    note = texts.label(reply.lang, "kakao.typed_choices", words=" · ".join(f"「{word}」" for word in words))
    if len(parts[-1]) + len(note) + 2 > MAX_TEXT:
        return [*parts, note]
    return [*parts[:-1], f"{parts[-1]}\n\n{note}"]


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

"""A screen becomes what a channel shows: the body rendered in the reader's language (HTML or plain text),
choices paged to what the channel can hold and stamped with tokens, and what typed input may pick."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot.dialogue import tokens
from bot.dialogue.interpret import LISTED, stored_choice
from bot.dialogue.model import Action, Attachment, Capabilities, Choice, Label, Screen, T
from bot.texts import LANGUAGES, Texts, to_plain

PAGE = "_"  # the engine's own actions: turning a page


@dataclass
class Output:
    """One rendered screen, ready for a channel's transport."""

    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)  # rows of (label, token)
    attachments: list[Attachment] = field(default_factory=list)
    toast: str | None = None
    replace: bool = False
    live: tuple[str, int] | None = None
    expects: str = "nothing"
    toast_only: bool = False


def label_text(texts: Texts, lang: str, label: Label) -> str:
    if label.key is None:
        return label.prefix + (label.text or "")
    return label.prefix + texts.label(lang, label.key, **dict(label.params))


def _variants(texts: Texts, label: Label) -> list[str]:
    """The words that pick this choice when typed: its label in every language, without the prefix."""
    if label.key is None:
        return [label.text or ""]
    return [texts.label(lang, label.key, **dict(label.params)) for lang in LANGUAGES]


def body(texts: Texts, lang: str, caps: Capabilities, screen: Screen) -> str:
    text = texts.render(lang, screen.template, channel=caps.channel, **screen.data)
    if screen.error is not None:
        # Whether files come in the chat: where they cannot, a refusal points to the question's upload page.
        notice = texts.render(lang, screen.error.template, channel=caps.channel, chat_uploads=caps.uploads,
                              **screen.error.params)  # fmt: skip
        text = f"{notice}\n\n{text}"
    return text if caps.markup == "html" else to_plain(text)


@dataclass
class _Page:
    options: list[Choice]
    nav: list[Choice]
    number: int = 0
    of: int = 1
    start: int = 0
    end: int | None = None


def _page(screen: Screen, caps: Capabilities, page: int) -> _Page:
    """The options of one page, the fixed choices with the page turns added, and where the page lies."""
    options, nav = list(screen.choices), list(screen.nav)
    rows = screen.data.get(screen.paged) if screen.paged else None
    count = len(options) if options or rows is None else len(rows)
    room = min(caps.max_choices, screen.max_choices or caps.max_choices) - len(nav)
    if count <= room:
        return _Page(options, nav)
    per_page = max(1, room - 2)
    pages = -(-count // per_page)
    page = min(max(page, 0), pages - 1)
    start, end = page * per_page, (page + 1) * per_page
    turns = []
    if page > 0:
        turns.append(Choice(Label(key="paging.previous"), Action(PAGE, "pg", (str(page - 1),))))
    if page < pages - 1:
        turns.append(Choice(Label(key="paging.next"), Action(PAGE, "pg", (str(page + 1),))))
    return _Page(options[start:end], turns + nav, page, pages, start, end)


def render(
    texts: Texts, lang: str, caps: Capabilities, screen: Screen, version: int, page: int = 0
) -> tuple[Output, dict[str, Any]]:
    """The channel's output, and what the conversation keeps of it for typed answers."""
    shown = _page(screen, caps, page)
    options, nav = shown.options, shown.nav
    if screen.paged:
        rows = list(screen.data.get(screen.paged) or [])
        screen = replace(screen, data={**screen.data, screen.paged: rows[shown.start : shown.end],
                                       "offset": shown.start})  # fmt: skip
    text = body(texts, lang, caps, screen)
    if shown.of > 1:
        line = texts.label(lang, "paging.page", where=f"{shown.number + 1}/{shown.of}")
        text = f"{text}\n\n{line}"

    def stamp(choice: Choice) -> tuple[str, str, list[Any]]:
        token = tokens.encode(choice.action, version, caps.max_token_bytes)
        return label_text(texts, lang, choice.label), token, stored_choice(_variants(texts, choice.label), token)

    stamped_options = [stamp(c) for c in options]
    stamped_nav = [stamp(c) for c in nav]
    columns = max(1, screen.columns)
    rows = [
        [(label, token) for label, token, _ in stamped_options[i : i + columns]]
        for i in range(0, len(stamped_options), columns)
    ]
    if stamped_nav:
        rows.append([(label, token) for label, token, _ in stamped_nav])
    toast = to_plain(texts.render(lang, screen.toast, channel=caps.channel, **screen.data)) if screen.toast else None
    output = Output(
        text, rows, list(screen.attachments), toast, screen.replace, screen.live, screen.expects.value,
        screen.toast_only,
    )  # fmt: skip
    kept = {
        "page": shown.number,
        "expects": screen.expects.value,
        **({"reads_words": True} if screen.reads_words else {}),
        **({"question": True} if screen.question else {}),
        "choices": [kept for _, _, kept in stamped_options],
        "nav": [kept for _, _, kept in stamped_nav],
        **_listed_elsewhere(screen, shown, version, caps),
    }
    return output, kept


def _listed_elsewhere(screen: Screen, shown: _Page, version: int, caps: Capabilities) -> dict[str, Any]:
    """A numbered list on several pages: the number of every entry not on this page, with its token, so that
    typing 「12」 on the first page opens the twelfth as the text listing it promises."""
    if shown.of <= 1:
        return {}
    listed = {}
    for index, choice in enumerate(screen.choices):
        if shown.start <= index < shown.end or choice.label.key is not None:
            continue
        found = LISTED.match(choice.label.text or "")
        if found:
            listed[found.group(1)] = tokens.encode(choice.action, version, caps.max_token_bytes)
    return {"listed": listed} if listed else {}


def error_output(texts: Texts, lang: str, caps: Capabilities, template: str, params: dict[str, Any]) -> Output:
    screen = Screen(template, params)
    return render(texts, lang, caps, screen, 0)[0]


__all__ = ["PAGE", "Output", "T", "error_output", "label_text", "render"]

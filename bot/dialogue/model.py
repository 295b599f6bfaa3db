"""The vocabulary shared by the engine, the flows and the channel adapters."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import UserError


class Kind(enum.StrEnum):
    COMMAND = "command"
    TEXT = "text"
    CHOICE = "choice"  # a pressed button / quick reply carrying a token
    FILE = "file"
    OTHER = "other"  # a sticker, a photo, a voice message...


@dataclass(frozen=True)
class FileRef:
    """A file as a channel announces it; ``path`` is set once its content has been fetched to disk."""

    name: str
    mime: str | None
    size: int | None
    channel_id: str | None = None  # the channel's own id (Telegram's file_id), to send it on unchanged
    path: Path | None = None


@dataclass(frozen=True)
class Incoming:
    """What a person did, whatever the channel."""

    channel: str
    external_id: str
    kind: Kind
    display_name: str = ""
    client_language: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    text: str | None = None
    token: str | None = None
    file: FileRef | None = None
    # Telegram's update_id: a redelivered update is recognised by it. None where a channel never redelivers.
    dedupe_key: str | None = None
    # Extra facts of the channel about the person (Kakao's plusfriendUserKey, isFriend...), stored as given.
    profile: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Label:
    """A button's words: a catalog key (rendered in the reader's language) or literal text."""

    key: str | None = None
    text: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    prefix: str = ""


def L(key: str, prefix: str = "", **params: Any) -> Label:
    return Label(key=key, params=tuple(sorted(params.items())), prefix=prefix)


def T(text: str) -> Label:
    return Label(text=text)


@dataclass(frozen=True)
class Action:
    """What a button does. ``entry`` actions stay valid on old screens (menus, cards, a stop button); the
    others answer the current screen only and are refused as stale once the conversation moved on."""

    flow: str
    name: str
    args: tuple[str, ...] = ()
    entry: bool = False


@dataclass(frozen=True)
class Choice:
    label: Label
    action: Action


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes | None = None
    path: Path | None = None
    channel_id: str | None = None  # the channel already has it (Telegram file_id)
    mime: str = "application/octet-stream"


def stored_pdf(filename: str, path: str | None, channel_id: str | None) -> list[Attachment]:
    """A PDF a person sent earlier (a deck, an appeal's evidence): from our disk, else by the channel's own
    file id; nothing when neither is left (a purged file)."""
    on_disk = Path(path) if path and Path(path).exists() else None
    if on_disk is None and not channel_id:
        return []
    return [Attachment(filename, path=on_disk, channel_id=channel_id, mime="application/pdf")]


class Expect(enum.StrEnum):
    NOTHING = "nothing"
    TEXT = "text"
    CHOICE = "choice"
    FILE = "file"


@dataclass
class Screen:
    """One message to show: a template and its data, choices, files, what input it waits for."""

    template: str
    data: dict[str, Any] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)  # paged by the engine when a channel has fewer
    nav: list[Choice] = field(default_factory=list)  # always shown (back, skip, cancel)
    columns: int = 1  # a layout hint for channels with keyboards
    attachments: list[Attachment] = field(default_factory=list)
    expects: Expect = Expect.NOTHING
    error: UserError | None = None  # shown above the body
    toast: str | None = None  # a template key: a short notice where a channel has one (Telegram's alert)
    toast_only: bool = False  # where a channel has toasts, the toast is the whole answer
    replace: bool = False  # edit the message the pressed button was on, where a channel can
    live: tuple[str, int] | None = None  # a message the channel keeps up to date (a broadcast's progress)
    # At most this many choices a page on every channel, however many the channel could show (the menu pages
    # alike everywhere: its first page is a role's daily work). None: as many as the channel holds.
    max_choices: int | None = None
    # Typed words are this screen's own (a search of its list, a selection typed whole): a part of a button's
    # words is never taken for a press of it here.
    reads_words: bool = False
    # A form's question asking to choose: a word of one of its choices picks it before a command of that word
    # (never on a confirmation, where a command's word must not say yes: 「선정」 at 「예, 선정에 추가합니다」).
    question: bool = False
    # A list in ``data`` that is paged with the choices (the same items, in the same order) or, without
    # choices, on its own: its page goes to the template as that key, and ``offset`` says where it starts.
    paged: str | None = None


@dataclass(frozen=True)
class Capabilities:
    channel: str
    markup: str  # "html" or "plain"
    max_text: int
    max_outputs: int  # messages in one answer (0: no limit)
    max_choices: int  # buttons or quick replies on one screen
    uploads: bool  # people can send files in chat
    edits: bool  # earlier messages can be edited
    slash_commands: bool
    max_token_bytes: int = 64
    files: bool = True  # the bot can send a file in chat; elsewhere it sends an expiring link


TELEGRAM = Capabilities("telegram", "html", 4096, 0, 48, uploads=True, edits=True, slash_commands=True)
# A plain-text channel as KakaoTalk is: 1,000 characters, 3 outputs, 10 quick replies, no uploads in chat.
PLAIN = Capabilities(
    "kakao", "plain", 1000, 3, 10, uploads=False, edits=False, slash_commands=False, max_token_bytes=200, files=False
)

"""Every command in one list: its flow, who may use it, and (in the label catalog) its description and the
words that call it by typing, for channels without slash commands. Menus and /help are built from it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.dialogue.interpret import normalize
from bot.services import policies
from bot.texts import LANGUAGES, Texts


@dataclass(frozen=True)
class Command:
    name: str
    flow: str
    policy: policies.Policy = policies.anyone
    # Its typed words work even while a question waits for a typed answer (leaving a question must
    # always be possible where there is no slash command).
    interrupts: bool = False
    menu: bool = True  # listed in the channel's command menu and in /help, for those it is allowed to


COMMANDS: tuple[Command, ...] = (
    Command("start", "menu", interrupts=True),
    Command("apply", "apply"),
    Command("status", "status"),
    Command("profile", "apply"),
    Command("schedule", "menu"),
    Command("subscribe", "news"),
    Command("unsubscribe", "news"),
    Command("expo", "news"),
    Command("language", "menu", interrupts=True),  # alone, also while a question waits for text
    Command("help", "menu", interrupts=True),
    Command("link", "link"),
    Command("mydata", "privacy"),
    Command("appeal", "appeal"),
    Command("cancel", "", interrupts=True),
    Command("back", "", interrupts=True),
    Command("review", "review", policies.reviewer),
    Command("decisions", "decisions", policies.official_or_organizer),
    Command("selection", "selection", policies.organizer),
    Command("reviewers", "reviewers", policies.organizer),
    Command("programme", "programme", policies.organizer),
    Command("invite", "invite", policies.organizer),
    Command("departments", "departments", policies.organizer),
    Command("broadcast", "broadcast", policies.organizer),
    Command("broadcasts", "news", policies.organizer),
    Command("expo_edit", "news", policies.organizer),
    Command("export", "export", policies.organizer),
    Command("appeals", "appeals", policies.organizer),
)
BY_NAME = {c.name: c for c in COMMANDS}


def allowed(roles: policies.Roles) -> list[Command]:
    return [c for c in COMMANDS if c.menu and c.policy(roles)]


def signature(roles: policies.Roles) -> str:
    """Names the command menu a person should have; it changes only when their roles do."""
    return ",".join(sorted(r.value for r in roles))


# What people add to a command word when they write it as a sentence (「신청할게요」, 「도움말좀」, 「현황
# 알려주세요」, 「취소할래요」): taken off, once or twice, from a message of a few words that is nothing else.
POLITE_ENDINGS = tuple(sorted((
    "하고싶어요", "하고싶습니다", "하고싶은데요", "할게요", "할래요", "하겠습니다", "하려고요",
    "해주세요", "해주십시오", "해줘", "하기", "알려주세요", "알려주십시오", "알려줘",
    "보여주세요", "보여주십시오", "보여줘", "부탁드립니다", "부탁합니다", "좀", "요",
), key=len, reverse=True))  # fmt: skip
POLITE_WORDS = 4


def polite_core(text: str) -> str:
    core = normalize(text)
    for _ in range(2):
        ending = next((e for e in POLITE_ENDINGS if core.endswith(e) and len(core) > len(e)), None)
        if ending is None:
            break
        core = core[: -len(ending)]
    return core


class Aliases:
    """Typed words for commands, in both languages, from the label catalog (``aliases.<command>``)."""

    def __init__(self, texts: Texts) -> None:
        self._words: dict[str, str] = {}
        self.longest = 1
        for lang in LANGUAGES:
            for name, words in (texts.catalog[lang].get("aliases") or {}).items():
                for word in [*words, name]:
                    self._words.setdefault(normalize(word), name)
                    self.longest = max(self.longest, len(word.split()))

    def find(self, text: str) -> tuple[Command, tuple[str, ...]] | None:
        """``/name args`` on any channel, or typed words naming a command followed by its arguments."""
        stripped = text.strip()
        if stripped.startswith("/"):
            name, *args = stripped[1:].split()
            command = BY_NAME.get(name.split("@")[0].lower()) if name else None
            return (command, tuple(args)) if command else None
        words = stripped.split()
        for n in range(min(len(words), self.longest), 0, -1):
            name = self._words.get(normalize(" ".join(words[:n])))
            if name in BY_NAME:
                return BY_NAME[name], tuple(words[n:])
        name = self._words.get(polite_core(stripped)) if len(words) <= POLITE_WORDS else None
        return (BY_NAME[name], ()) if name in BY_NAME else None

"""Every word a user reads comes from ``templates/``: Jinja2 messages and a label catalog per language.
Messages render to Telegram HTML (user input escaped) or to plain text for channels without markup."""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from babel.dates import format_date, format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from bot import validators
from bot.calendar import Month

LANGUAGES = ("ko", "en")
_LOCALES = {"ko": "ko_KR", "en": "en_GB"}


class Texts:
    def __init__(self, templates_dir: Path, tz: ZoneInfo) -> None:
        self.dir = templates_dir
        self.tz = tz
        self.env = Environment(
            loader=FileSystemLoader(str(templates_dir)),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,  # templates do not change while the bot runs: no stat() of the file per message
        )
        self.env.filters.update(
            date=self._date, datetime=self._datetime, time=self._time, day=self._day, deadline=self._deadline,
            brn=validators.format_brn,
            phone=self._phone_in_template, place=self._place_in_template, monthname=self._month_in_template,
        )  # fmt: skip
        self.env.globals["label"] = self._label_in_template
        self.env.globals["cmd"] = self._command_in_template
        self.env.filters["josa"] = josa
        self.env.filters["particle"] = particle_for
        self._labels: dict[tuple[str, str], str] = {}

    @cached_property
    def catalog(self) -> dict[str, dict[str, Any]]:
        out = {}
        for lang in LANGUAGES:
            with open(self.dir / lang / "labels.yaml", encoding="utf-8") as fh:
                # libyaml's loader where PyYAML was built with it: the pure-Python one took a tenth of a
                # second per start of the bot (each test's too) for the two catalogs, libyaml's 6 ms.
                out[lang] = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        return out

    def template_keys(self, lang: str) -> list[str]:
        root = self.dir / lang
        return sorted(
            str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.j2") if not p.name.startswith("_")
        )

    def render(self, lang: str, key: str, channel: str = "telegram", **ctx: Any) -> str:
        """HTML (Telegram's subset); ``channel`` lets a template name commands the way that channel calls
        them (see :meth:`_command_in_template`)."""
        lang = lang if lang in LANGUAGES else "ko"
        template = self.env.get_template(f"{lang}/{key}.j2")
        return template.render(lang=lang, channel=channel, **ctx).strip()

    def render_plain(self, lang: str, key: str, channel: str = "kakao", **ctx: Any) -> str:
        return to_plain(self.render(lang, key, channel=channel, **ctx))

    def label(self, lang: str, path: str, **params: Any) -> str:
        """A short plain-text label (buttons, field names); not HTML."""
        lang = lang if lang in LANGUAGES else "ko"
        text = self._labels.get((lang, path))
        if text is None:  # looked up once: a screen's buttons ask for their labels in every language
            node: Any = self.catalog[lang]
            for part in path.split("."):
                if not isinstance(node, dict) or part not in node:
                    raise KeyError(f"label {path!r} missing for {lang}")
                node = node[part]
            text = self._labels[(lang, path)] = str(node)
        return text.format(**params) if params else text

    def phone(self, lang: str, e164: str) -> str:
        """A stored number as people write it, an extension in the reader's words ("02-2133-1234 (내선 123)")."""
        number, extension = validators.phone_parts(e164)
        return self.label(lang, "values.phone_extension", phone=number, extension=extension) if extension else number

    def place(self, lang: str, name: str) -> str:
        """A place or an office named in Korean (the settings' venue, an organizer's typed one), in the reader's
        language where the catalogue knows it (``places``); otherwise as written."""
        return str((self.catalog[lang if lang in LANGUAGES else "ko"].get("places") or {}).get(name.strip(), name))

    @pass_context
    def _place_in_template(self, context: Context, name: str) -> str:
        return self.place(context["lang"], name)

    @pass_context
    def _phone_in_template(self, context: Context, e164: str) -> str:
        return self.phone(context["lang"], e164)

    @pass_context
    def _label_in_template(self, context: Context, path: str, **params: Any) -> str:
        return self.label(context["lang"], path, **params)

    @pass_context
    def _command_in_template(self, context: Context, name: str, args: str = "") -> str:
        """ "/status" where slash commands exist; elsewhere the words that call it, e.g. 「현황」."""
        suffix = f" {args}" if args else ""
        if context.get("channel", "telegram") == "telegram":
            return f"/{name}{suffix}"
        words = (self.catalog[context["lang"]].get("aliases") or {}).get(name) or [name]
        return f"「{words[0]}{suffix}」" if context["lang"] == "ko" else f"“{words[0]}{suffix}”"

    def _local(self, value: dt.datetime) -> dt.datetime:
        return value.astimezone(self.tz)

    def month_name(self, lang: str, value: object) -> str:
        """A programme month ("2026-12", or a month) as people write it: 「2026년 12월」, "December 2026"."""
        month = value if isinstance(value, Month) else Month.parse_or_none(str(value or ""))
        if month is None:
            return str(value or "")
        day = dt.date(month.year, month.month, 1)
        return f"{day.year}년 {day.month}월" if lang == "ko" else f"{day:%B} {day.year}"

    def _month_in_template(self, value: object, lang: str = "ko") -> str:
        return self.month_name(lang, value)

    def _date(self, value: dt.datetime | dt.date, lang: str = "ko") -> str:
        day = self._local(value).date() if isinstance(value, dt.datetime) else value
        return _long_date(day, lang)

    def _day(self, value: dt.datetime | dt.date, lang: str = "ko") -> str:
        """A day of the month named without its year: 12월 24일(목), Thu 24 December."""
        day = self._local(value).date() if isinstance(value, dt.datetime) else value
        return _short_date(day, lang)

    def _time(self, value: dt.datetime, lang: str = "ko") -> str:
        local = self._local(value)
        return _clock(dt.time(local.hour, local.minute), lang)

    def _datetime(self, value: dt.datetime, lang: str = "ko") -> str:
        return f"{self._date(value, lang)} {self._time(value, lang)}"

    def _deadline(self, value: dt.datetime, lang: str = "ko") -> str:
        """A deadline's day, and its hour where it is not the day's end (an organizer's 18:00 deadline was
        written as the day alone, while recording stopped at 18:00)."""
        local = self._local(value)
        return self._date(value, lang) if (local.hour, local.minute) == (23, 59) else self._datetime(value, lang)


def texts_for(templates_dir: Path, timezone: str) -> Texts:
    """The process's texts for these templates: built once, shared by the chat and the services that write
    files people receive (an .ics speaks its reader's language)."""
    return _texts(templates_dir.resolve(), timezone)


@lru_cache(maxsize=8)
def _texts(templates_dir: Path, timezone: str) -> Texts:
    return Texts(templates_dir, ZoneInfo(timezone))


# Dates and times as Babel writes them, kept: the same few days (a month's window, its Pitching Day) are
# written on nearly every screen, and Babel parses the locale and the pattern on each call.
@lru_cache(maxsize=1024)
def _long_date(day: dt.date, lang: str) -> str:
    locale = _LOCALES.get(lang, "ko_KR")
    long = format_date(day, format="long", locale=locale)
    weekday = format_date(day, format="EEE", locale=locale)
    return f"{long}({weekday})" if lang == "ko" else f"{weekday} {long}"


@lru_cache(maxsize=1024)
def _short_date(day: dt.date, lang: str) -> str:
    locale = _LOCALES.get(lang, "ko_KR")
    weekday = format_date(day, format="EEE", locale=locale)
    if lang == "ko":
        return f"{day.month}월 {day.day}일({weekday})"
    return f"{weekday} {format_date(day, format='d MMMM', locale=locale)}"


@lru_cache(maxsize=4096)
def _clock(at: dt.time, lang: str) -> str:
    return format_time(at, format="HH:mm", locale=_LOCALES.get(lang, "ko_KR"))


# Korean particles that change with the sound before them: (after a final consonant, after a vowel).
_PARTICLES = {
    "을": ("을", "를"), "를": ("을", "를"), "이": ("이", "가"), "가": ("이", "가"), "은": ("은", "는"),
    "는": ("은", "는"), "으로": ("으로", "로"), "로": ("으로", "로"), "과": ("과", "와"), "와": ("과", "와"),
    "이라고": ("이라고", "라고"), "라고": ("이라고", "라고"),
}  # fmt: skip
_RIEUL = 8  # the final ㄹ, after which 으로 is 로
_CLOSING = re.compile(r"[」”\"')\]>\s]+$")
# How a digit, a letter read by its name, or a sign ends when read in Korean: (final consonant, it is ㄹ).
# 영 일 이 삼 사 오 육 칠 팔 구; 엘 엠 엔 알; 하이픈 (언더바 and the other letters end in a vowel).
_DIGITS = {"0": (True, False), "1": (True, True), "3": (True, False), "6": (True, False), "7": (True, True),
           "8": (True, True)}  # fmt: skip
_SPELLED = {"l": (True, True), "m": (True, False), "n": (True, False), "r": (True, True), "-": (True, False)}
_LETTERS = re.compile(r"[A-Za-z]+$")
_SHORT_STOP = re.compile(r"(?:^|[^aeiou])[aeiou](?:ck|k|p|t)$")


def _ending(core: str, spelled: bool) -> tuple[bool, bool]:
    """Whether ``core`` read in Korean ends in a final consonant, and whether that is ㄹ."""
    last = core[-1:]
    if "가" <= last <= "힣":
        final = (ord(last) - 0xAC00) % 28
        return final != 0, final == _RIEUL
    if last.isdecimal():  # a number's last digit (10, 100, 1000: 십 백 천 end in a consonant too)
        return _DIGITS.get(unicodedata.normalize("NFKC", last), (False, False))
    run = _LETTERS.search(core)
    if spelled or not run or len(run.group()) == 1 or run.group().isupper():  # a code, a sign, an initialism
        return _SPELLED.get(last.lower(), (False, False))
    # A Latin word as read in Korean: 프로그램 and 캔슬 end in a consonant, 스테이터스 does not; -le is ㄹ
    # (스케줄, 프로필); a k, p or t after one short vowel is a final consonant (백, 에딧), after a long vowel or
    # another consonant it takes 으 (링크, 스타트).
    latin = run.group().lower()
    latin = latin.removesuffix("e") if latin.endswith(("me", "ne", "le")) else latin
    if _SHORT_STOP.search(latin):
        return True, False
    return latin.endswith(("m", "n", "l")), latin.endswith("l")


def josa(word: str, particle: str, spelled: bool = False) -> str:
    """``word`` with the right form of a Korean particle: 「신청」 → 「신청」으로, /apply → /apply로,
    PD-202612-0003 → PD-202612-0003을. ``spelled``: the word is a code read one character at a time
    (「시작 inv_x7Kr」 → …이라고, as 알 ends in ㄹ)."""
    return f"{word}{particle_for(word, particle, spelled)}"


def particle_for(word: str, particle: str, spelled: bool = False) -> str:
    """The particle alone, in the form ``word`` takes (for a word set apart by markup: <b>…</b>을)."""
    pair = _PARTICLES.get(particle)
    if pair is None:
        return particle
    core = _CLOSING.sub("", word)
    if not core:
        return pair[1]
    consonant, rieul = _ending(core, spelled)
    if pair[0] == "으로" and rieul:
        consonant = False
    return pair[0] if consonant else pair[1]


_TAG = re.compile(r"<[^>]+>")


def to_plain(text_html: str) -> str:
    """Telegram HTML to plain text (for KakaoTalk and for transcripts)."""
    text = re.sub(r"<br\s*/?>", "\n", text_html)
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"\2 (\1)", text)
    return html.unescape(_TAG.sub("", text))

"""Every word a user reads comes from ``templates/``: Jinja2 messages and a label catalog per language.
Messages render to Telegram HTML (user input escaped) or to plain text for channels without markup."""

from __future__ import annotations

import datetime as dt
import html
import re
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from babel.dates import format_date, format_time
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from bot import validators

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
        )
        self.env.filters.update(
            date=self._date, datetime=self._datetime, time=self._time, brn=validators.format_brn,
            phone=validators.format_phone,
        )  # fmt: skip
        self.env.globals["label"] = self._label_in_template

    @cached_property
    def catalog(self) -> dict[str, dict[str, Any]]:
        out = {}
        for lang in LANGUAGES:
            with open(self.dir / lang / "labels.yaml", encoding="utf-8") as fh:
                out[lang] = yaml.safe_load(fh)
        return out

    def template_keys(self, lang: str) -> list[str]:
        root = self.dir / lang
        return sorted(
            str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.j2") if not p.name.startswith("_")
        )

    def render(self, lang: str, key: str, **ctx: Any) -> str:
        lang = lang if lang in LANGUAGES else "ko"
        template = self.env.get_template(f"{lang}/{key}.j2")
        return template.render(lang=lang, **ctx).strip()

    def render_plain(self, lang: str, key: str, **ctx: Any) -> str:
        return to_plain(self.render(lang, key, **ctx))

    def label(self, lang: str, path: str, **params: Any) -> str:
        """A short plain-text label (buttons, field names); not HTML."""
        node: Any = self.catalog[lang if lang in LANGUAGES else "ko"]
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"label {path!r} missing for {lang}")
            node = node[part]
        text = str(node)
        return text.format(**params) if params else text

    @pass_context
    def _label_in_template(self, context: Context, path: str, **params: Any) -> str:
        return self.label(context["lang"], path, **params)

    def _local(self, value: dt.datetime) -> dt.datetime:
        return value.astimezone(self.tz)

    def _date(self, value: dt.datetime | dt.date, lang: str = "ko") -> str:
        day = self._local(value).date() if isinstance(value, dt.datetime) else value
        locale = _LOCALES.get(lang, "ko_KR")
        long = format_date(day, format="long", locale=locale)
        weekday = format_date(day, format="EEE", locale=locale)
        return f"{long}({weekday})" if lang == "ko" else f"{weekday} {long}"

    def _time(self, value: dt.datetime, lang: str = "ko") -> str:
        return format_time(self._local(value), format="HH:mm", locale=_LOCALES.get(lang, "ko_KR"))

    def _datetime(self, value: dt.datetime, lang: str = "ko") -> str:
        return f"{self._date(value, lang)} {self._time(value, lang)}"


_TAG = re.compile(r"<[^>]+>")


def to_plain(text_html: str) -> str:
    """Telegram HTML to plain text (for KakaoTalk and for transcripts)."""
    text = re.sub(r"<br\s*/?>", "\n", text_html)
    text = re.sub(r'<a href="([^"]*)">([^<]*)</a>', r"\2 (\1)", text)
    return html.unescape(_TAG.sub("", text))

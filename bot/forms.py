"""Declarative forms: each question is a field, a kind of input, a validator and its choices.
The Telegram conversation walks these; the KakaoTalk channel will walk the same definitions.

Templates: the prompt of a question is ``ask/<form>_<field>``, its short label ``fields.<field>`` and a
choice's label ``choices.<field>.<choice>`` in the label catalog."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from bot import validators as v
from bot.settings import Settings


class InputKind(enum.StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    MULTI_CHOICE = "multi"
    FILE = "file"
    CONSENT = "consent"


@dataclass(frozen=True)
class Question:
    field: str
    kind: InputKind
    validate: Callable[[Any], Any]
    choices: tuple[str, ...] = ()
    optional: bool = False
    # Choices may also be typed: e.g. a TRL level as a number.
    typed_choices: bool = False


@dataclass(frozen=True)
class Form:
    key: str
    questions: tuple[Question, ...]

    def question(self, field: str) -> Question:
        for q in self.questions:
            if q.field == field:
                return q
        raise KeyError(field)

    def fields(self) -> list[str]:
        return [q.field for q in self.questions]

    def index(self, field: str) -> int:
        return self.fields().index(field)

    def prompt_template(self, q: Question) -> str:
        return f"ask/{self.key}_{q.field}"


PROFILE = "profile"
APPLICATION = "application"

# Consent comes first: the law requires it before a contact's name, phone or e-mail is collected.
_PROFILE_FORM = Form(
    PROFILE,
    (
        Question("consent", InputKind.CONSENT, v.consent, choices=("agree", "refuse")),
        Question("name", InputKind.TEXT, v.text(200, 2)),
        Question("brn", InputKind.TEXT, v.brn),
        Question("representative", InputKind.TEXT, v.text(100, 2)),
        Question("size", InputKind.CHOICE, v.company_size, choices=("sme", "midsize", "large")),
        Question("address", InputKind.TEXT, v.seoul_address),
        Question("contact_name", InputKind.TEXT, v.text(100, 2)),
        Question("phone", InputKind.TEXT, v.phone),
        Question("email", InputKind.TEXT, v.email),
    ),
)


def profile_form() -> Form:
    return _PROFILE_FORM


@cache
def _application_form(summary_max: int, deck_max: int) -> Form:
    return Form(
        APPLICATION,
        (
            Question("product_name", InputKind.TEXT, v.text(200, 2)),
            Question("tech_fields", InputKind.MULTI_CHOICE, v.tech_fields, choices=v.TECH_FIELDS),
            Question(
                "trl",
                InputKind.CHOICE,
                v.trl,
                choices=tuple(str(n) for n in range(1, 10)),
                typed_choices=True,
            ),
            Question("summary", InputKind.TEXT, v.text(summary_max, 20)),
            Question("city_use", InputKind.TEXT, v.text(1000, 10)),
            Question("departments", InputKind.TEXT, v.text(500, 2)),
            Question("price", InputKind.TEXT, v.text(200, 1), optional=True),
            Question("deck", InputKind.FILE, v.pdf(deck_max), optional=True),
        ),
    )


def application_form(settings: Settings) -> Form:
    return _application_form(settings.summary_max_chars, settings.deck_max_bytes)


def form_by_key(key: str, settings: Settings) -> Form:
    return profile_form() if key == PROFILE else application_form(settings)

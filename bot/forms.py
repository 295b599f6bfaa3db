"""Declarative forms: each question is a field, a kind of input, a validator, its choices and a condition.
One generic flow (``bot/dialogue/flows/form.py``) walks every form on every channel.

Templates: a question's prompt is ``ask/<form>_<field>`` (or its ``prompt``), its short label
``fields.<field>``, and a choice's label ``<labels>.<choice>`` (``choices.<field>`` by default) in the label
catalog."""

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


Condition = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class Question:
    field: str
    kind: InputKind
    validate: Callable[[Any], Any]
    choices: tuple[str, ...] = ()
    optional: bool = False
    # Choices may also be typed as free text the validator reads (a TRL level as a number).
    typed_choices: bool = False
    # Asked only when the answers so far call for it (the reason of a decision not to buy).
    when: Condition | None = None
    columns: int = 0  # buttons per row; 0: one per row for few choices, three for many
    labels: str | None = None  # catalog prefix of the choice labels; default choices.<field>
    prompt: str | None = None  # template of the question; default ask/<form>_<field>
    wrong_kind: str | None = None  # the error for an answer of the wrong kind (default by input kind)
    # The choices are a list kept in the database ("departments"), not fixed: shown as their names,
    # found by typing part of a name.
    source: str | None = None

    def applies(self, data: dict[str, Any]) -> bool:
        return self.when is None or self.when(data)

    def choice_label(self, choice: str) -> str:
        return f"{self.labels or 'choices.' + self.field}.{choice}"


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

    def asked(self, data: dict[str, Any]) -> list[Question]:
        """The questions that apply given the answers so far, in order."""
        return [q for q in self.questions if q.applies(data)]

    def prompt_template(self, q: Question) -> str:
        return q.prompt or f"ask/{self.key}_{q.field}"


PROFILE = "profile"
APPLICATION = "application"
DECISION = "decision"
BROADCAST = "broadcast"
REVIEW = "review"
PROGRAMME_VENUE = "programme_venue"
PROGRAMME_START = "programme_start"
PROGRAMME_SLOT = "programme_slot"
SELECTION_FEEDBACK = "selection_feedback"
SELECTION_DEPARTMENTS = "selection_departments"
SELECTION_WITHDRAW = "selection_withdraw"
EXPO = "expo"
AFFILIATION = "affiliation"
INVITEE_NAME = "invitee_name"
INVITE_OFFICIAL = "invite_official"
DEPARTMENT_ADD = "department_add"
DEPARTMENT_NAME = "department_name"
DEPARTMENTS_MAX = 10  # buying departments one company may name
PLEDGE = "pledge"
APPEAL = "appeal"
APPEAL_DECISION = "appeal_decision"

# Consent comes first: the law requires it before a contact's name, phone or e-mail is collected.
_PROFILE_FORM = Form(
    PROFILE,
    (
        Question("consent", InputKind.CONSENT, v.consent, choices=("agree", "refuse")),
        Question("name", InputKind.TEXT, v.line(200, 2)),
        Question("brn", InputKind.TEXT, v.brn),
        Question("representative", InputKind.TEXT, v.line(100, 2)),
        Question("size", InputKind.CHOICE, v.company_size, choices=("sme", "midsize", "large")),
        Question("address", InputKind.TEXT, v.seoul_address),
        Question("contact_name", InputKind.TEXT, v.line(100, 2)),
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
            Question("product_name", InputKind.TEXT, v.line(200, 2)),
            Question("tech_fields", InputKind.MULTI_CHOICE, v.tech_fields, choices=v.TECH_FIELDS, columns=3),
            Question(
                "trl",
                InputKind.CHOICE,
                v.trl,
                choices=tuple(str(n) for n in range(1, 10)),
                typed_choices=True,
                columns=3,
            ),
            Question("summary", InputKind.TEXT, v.text(summary_max, 20)),
            Question("city_use", InputKind.TEXT, v.text(1000, 10)),
            Question("departments", InputKind.MULTI_CHOICE, v.entries(DEPARTMENTS_MAX), source="departments"),
            Question("price", InputKind.TEXT, v.text(200, 1), optional=True),
            Question("deck", InputKind.FILE, v.pdf(deck_max), optional=True),
        ),
    )


def application_form(settings: Settings) -> Form:
    return _application_form(settings.summary_max_chars, settings.deck_max_bytes)


def buying(data: dict[str, Any]) -> bool:
    return data.get("status") == "buy"


def reason_required(data: dict[str, Any]) -> bool:
    """The one place of the rule: a decision other than buying needs its reason."""
    return data.get("status") in ("no_buy", "review")


DECISION_FORM = Form(
    DECISION,
    (
        Question("status", InputKind.CHOICE, v.one_of("buy", "no_buy", "review"), choices=("buy", "no_buy", "review"),
                 columns=3, labels="decision_buttons", prompt="decisions/choose"),
        Question("amount", InputKind.TEXT, v.text(200, 1), optional=True, when=buying, prompt="decisions/amount_ask"),
        Question("timing", InputKind.TEXT, v.text(200, 1), optional=True, when=buying, prompt="decisions/timing_ask"),
        Question("reason", InputKind.TEXT, v.required_text(2000), when=reason_required,
                 prompt="decisions/reason_ask"),
    ),
)  # fmt: skip

AUDIENCES = ("subscribers", "companies", "officials", "reviewers", "applicants", "selected")
MAX_BROADCAST_TEXT = 3500
BROADCAST_FORM = Form(
    BROADCAST,
    (
        Question("audience", InputKind.CHOICE, v.one_of(*AUDIENCES), choices=AUDIENCES, labels="audiences",
                 prompt="broadcast/audience_ask"),
        Question("kind", InputKind.CHOICE, v.one_of("text", "expo"), choices=("text", "expo"), columns=2,
                 labels="broadcast_kinds", prompt="broadcast/content_ask"),
        Question("text", InputKind.TEXT, v.text(MAX_BROADCAST_TEXT, 1), when=lambda d: d.get("kind") == "text",
                 prompt="broadcast/text_ask"),
    ),
)  # fmt: skip

CRITERIA = ("innovation", "safety", "applicability", "economy")
SCALE = ("1", "2", "3", "4", "5")
REVIEW_FORM = Form(
    REVIEW,
    (
        *(Question(c, InputKind.CHOICE, v.score, choices=SCALE, columns=5, labels="scale", prompt=f"review/ask_{c}",
                   wrong_kind="score_range")
          for c in CRITERIA),
        Question("comment", InputKind.TEXT, v.text(2000, 1), optional=True, prompt="review/comment_ask"),
    ),
)  # fmt: skip

PROGRAMME_VENUE_FORM = Form(
    PROGRAMME_VENUE, (Question("venue", InputKind.TEXT, v.line(300, 2), prompt="programme/venue_ask"),)
)
PROGRAMME_START_FORM = Form(
    PROGRAMME_START, (Question("start", InputKind.TEXT, v.clock_time, prompt="programme/start_ask"),)
)
PROGRAMME_SLOT_FORM = Form(
    PROGRAMME_SLOT, (Question("slot", InputKind.TEXT, v.minutes(5, 120), prompt="programme/slot_ask"),)
)
SELECTION_FEEDBACK_FORM = Form(
    SELECTION_FEEDBACK, (Question("feedback", InputKind.TEXT, v.text(1500, 1), prompt="selection/feedback_ask"),)
)
SELECTION_DEPARTMENTS_FORM = Form(
    SELECTION_DEPARTMENTS,
    (Question("responsible_departments", InputKind.MULTI_CHOICE, v.entries(DEPARTMENTS_MAX), source="departments",
              prompt="selection/departments_ask"),),
)  # fmt: skip
# The department an official is invited for, picked from the list.
INVITE_OFFICIAL_FORM = Form(
    INVITE_OFFICIAL,
    (Question("department", InputKind.CHOICE, v.entry, source="departments", prompt="invite/department_ask"),),
)
SELECTION_WITHDRAW_FORM = Form(
    SELECTION_WITHDRAW, (Question("reason", InputKind.TEXT, v.text(500, 2), prompt="selection/withdraw_ask"),)
)
EXPO_FORM = Form(EXPO, (Question("file", InputKind.FILE, v.expo_file, prompt="expo/edit_ask", wrong_kind="expo_file"),))

# A reviewer's employer, asked on joining: conflicts of interest are checked against it.
AFFILIATION_FORM = Form(
    AFFILIATION, (Question("brn", InputKind.TEXT, v.brn, optional=True, prompt="invite/affiliation_ask"),)
)
# Asked on joining where the channel gives no name (KakaoTalk): how organizers and the records name them.
INVITEE_NAME_FORM = Form(
    INVITEE_NAME, (Question("display_name", InputKind.TEXT, v.line(100, 2), prompt="invite/name_ask"),)
)

# An organizer's edits of the department list.
DEPARTMENT_KINDS = ("bureau", "office", "agency", "district", "education", "other")
DEPARTMENT_ADD_FORM = Form(
    DEPARTMENT_ADD,
    (
        Question("department_name", InputKind.TEXT, v.line(200, 2), prompt="departments/name_ask"),
        Question("department_kind", InputKind.CHOICE, v.one_of(*DEPARTMENT_KINDS), choices=DEPARTMENT_KINDS,
                 columns=2, labels="department_kinds", prompt="departments/kind_ask"),
    ),
)  # fmt: skip
DEPARTMENT_NAME_FORM = Form(
    DEPARTMENT_NAME,
    (Question("department_name", InputKind.TEXT, v.line(200, 2), prompt="departments/rename_ask"),),
)
# A reviewer's conflict-of-interest pledge, accepted before any application is opened.
PLEDGE_FORM = Form(
    PLEDGE,
    (Question("pledge", InputKind.CONSENT, v.consent, choices=("agree", "refuse"), labels="pledge_choices",
              prompt="review/pledge_ask"),),
)  # fmt: skip

# An appeal (이의신청) on the grounds of the national evaluation standard, with an optional PDF of evidence.
APPEAL_GROUNDS = ("fact_error", "misreading", "administrative")


@cache
def _appeal_form(file_max: int) -> Form:
    return Form(
        APPEAL,
        (
            Question("ground", InputKind.CHOICE, v.one_of(*APPEAL_GROUNDS), choices=APPEAL_GROUNDS,
                     labels="appeal_grounds", prompt="appeal/ground_ask"),
            Question("details", InputKind.TEXT, v.text(2000, 10), prompt="appeal/details_ask"),
            Question("evidence", InputKind.FILE, v.evidence_pdf(file_max), optional=True, prompt="appeal/evidence_ask",
                     wrong_kind="evidence_expected"),
        ),
    )  # fmt: skip


def appeal_form(settings: Settings) -> Form:
    return _appeal_form(settings.deck_max_bytes)


APPEAL_DECISION_FORM = Form(
    APPEAL_DECISION,
    (
        Question("verdict", InputKind.CHOICE, v.one_of("accept", "reject"), choices=("accept", "reject"), columns=2,
                 labels="appeal_verdicts", prompt="appeal/verdict_ask"),
        Question("reason", InputKind.TEXT, v.required_text(2000, "appeal_reason_required"), prompt="appeal/reason_ask"),
    ),
)  # fmt: skip


def form_by_key(key: str, settings: Settings) -> Form:
    forms = {
        PROFILE: _PROFILE_FORM, DECISION: DECISION_FORM, BROADCAST: BROADCAST_FORM, REVIEW: REVIEW_FORM,
        PROGRAMME_VENUE: PROGRAMME_VENUE_FORM, PROGRAMME_START: PROGRAMME_START_FORM,
        PROGRAMME_SLOT: PROGRAMME_SLOT_FORM, SELECTION_FEEDBACK: SELECTION_FEEDBACK_FORM,
        SELECTION_DEPARTMENTS: SELECTION_DEPARTMENTS_FORM, SELECTION_WITHDRAW: SELECTION_WITHDRAW_FORM,
        EXPO: EXPO_FORM, AFFILIATION: AFFILIATION_FORM, INVITEE_NAME: INVITEE_NAME_FORM, PLEDGE: PLEDGE_FORM,
        APPEAL: appeal_form(settings), APPEAL_DECISION: APPEAL_DECISION_FORM,
        INVITE_OFFICIAL: INVITE_OFFICIAL_FORM, DEPARTMENT_ADD: DEPARTMENT_ADD_FORM,
        DEPARTMENT_NAME: DEPARTMENT_NAME_FORM,
    }  # fmt: skip
    return forms.get(key) or application_form(settings)

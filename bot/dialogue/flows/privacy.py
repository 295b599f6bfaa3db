"""/mydata: what is kept about me, as a file I can read; withdrawing consent and deleting my data, after a
confirmation that says what is deleted, what the city's records keep and why."""

from __future__ import annotations

from typing import Any

from bot.dialogue.flow import Flow
from bot.dialogue.model import Action, Attachment, Choice, Expect, L
from bot.dialogue.turn import Turn
from bot.display import formatted
from bot.forms import InputKind, Question, form_by_key
from bot.services import departments, pledge, privacy, users
from bot.services.companies import PROFILE_FIELDS

TEXT = "text/plain; charset=utf-8"
_APPLICATION_FIELDS = ("product_name", "tech_fields", "trl", "summary", "city_use", "departments", "price")


class PrivacyFlow(Flow):
    name = "privacy"

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        self.menu(t)

    def menu(self, t: Turn) -> None:
        t.end()
        plan = privacy.erasure_plan(t.session, t.user)
        choices = [
            Choice(L("privacy_buttons.file"), self.act("file", entry=True)),
            Choice(L("privacy_buttons.withdraw"), self.act("ask", entry=True)),
        ]
        t.show("privacy/menu", {"plan": plan, "years": _years(t)}, choices=choices)

    def on_action(self, t: Turn, action: Action) -> None:
        if action.name == "file":
            self.file(t)
        elif action.name == "ask":
            self.ask(t)
        elif action.name == "yes" and t.step == "confirm":
            self.withdraw(t)
        elif action.name == "no" and t.step == "confirm":
            t.end()
            t.say("privacy/kept")
        else:
            t.engine.stale(t)

    def resume(self, t: Turn) -> None:
        if t.step == "confirm":
            self.ask(t)
        else:
            super().resume(t)

    def file(self, t: Turn) -> None:
        held = privacy.holding(t.session, t.user)
        data = {
            "now": t.now,
            "accounts": [
                {"channel": a.channel, "name": a.display_name, "language": users.language_of(a), "since": a.created_at}
                for a in held.accounts
            ],
            "roles": held.roles,
            "pledge": pledge.latest(t.session, t.user),
            "company": _rows(t, "profile", PROFILE_FIELDS, _values(held.company, PROFILE_FIELDS))
            if held.company is not None
            else None,
            "consent_at": held.company.consent_at if held.company is not None else None,
            "applications": [
                {"app": a, "rows": _rows(t, "application", _APPLICATION_FIELDS, _values(a, _APPLICATION_FIELDS))}
                for a in held.applications
            ],
            "drafts": [{"form": d.form, "rows": _rows(t, d.form, tuple(d.data), d.data)} for d in held.drafts],
            "subscriptions": held.subscriptions,
            "years": _years(t),
        }
        content = t.texts.render_plain(t.lang, "privacy/file", channel=t.caps.channel, **data)
        t.show("privacy/file_caption", {}, attachments=[Attachment("my-data.txt", content.encode(), mime=TEXT)])

    def ask(self, t: Turn) -> None:
        plan = privacy.erasure_plan(t.session, t.user)
        t.go(self.name, "confirm")
        yes = Choice(L("privacy_buttons.erase"), self.act("yes"))
        no = Choice(L("privacy_buttons.keep"), self.act("no"))
        t.show("privacy/confirm", {"plan": plan}, choices=[yes, no], columns=2, expects=Expect.CHOICE)

    def withdraw(self, t: Turn) -> None:
        t.end()
        plan = privacy.withdraw(t.session, t.user, t.settings, t.now)
        t.say("privacy/withdrawn", plan=plan)


def _years(t: Turn) -> int:
    return max(1, round(t.settings.retention_days / 365))


def _values(row: object, fields: tuple[str, ...]) -> dict[str, Any]:
    # An application keeps its departments as ids of the list, under another name than the form's.
    return {f: getattr(row, "department_ids" if f == "departments" else f) for f in fields}


def _rows(t: Turn, form_key: str, fields: tuple[str, ...], data: dict[str, Any]) -> list[tuple[str, str]]:
    """(field label, value as the person reads it) in the person's language: choices by their labels, never
    the stored codes."""
    form = form_by_key(form_key, t.settings)
    out = []
    for field in fields:
        if field not in data or field == "consent":
            continue
        question = _question(form.questions, field)
        out.append((t.label(f"fields.{field}"), _readable(t, question, data[field])))
    return out


def _question(questions: tuple[Question, ...], field: str) -> Question | None:
    return next((q for q in questions if q.field == field), None)


def _readable(t: Turn, q: Question | None, value: Any) -> str:
    if value in (None, "", []):
        return t.label("values.empty")
    if q is not None and q.field in ("brn", "phone"):
        return formatted(t.texts, t.lang, q.field, value)
    if isinstance(value, dict):  # a file: its name
        return str(value.get("name") or t.label("buttons.file"))
    if q is not None and q.source is not None:
        return departments.names(t.session, [int(v) for v in (value if isinstance(value, list) else [value])])
    if q is not None and q.kind in (InputKind.CHOICE, InputKind.MULTI_CHOICE):
        values = value if isinstance(value, list) else [value]
        return ", ".join(t.label(q.choice_label(str(v))) for v in values)
    return str(value)


FLOW = PrivacyFlow()

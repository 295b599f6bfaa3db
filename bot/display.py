"""How form answers and questions read, for any channel (Telegram now, KakaoTalk later)."""

from __future__ import annotations

from typing import Any

from bot import validators
from bot.calendar import Cycle
from bot.errors import UserError
from bot.forms import Form, InputKind
from bot.models import FormDraft
from bot.services import drafts
from bot.settings import Settings
from bot.texts import Texts


def display_value(texts: Texts, lang: str, form: Form, field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return texts.label(lang, "values.empty")
    q = form.question(field)
    if q.kind in (InputKind.CHOICE, InputKind.CONSENT):
        return texts.label(lang, f"choices.{field}.{value}")
    if q.kind is InputKind.MULTI_CHOICE:
        return ", ".join(texts.label(lang, f"choices.{field}.{v}") for v in value)
    if q.kind is InputKind.FILE:
        size = value.get("size") or 0
        shown = f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(1, round(size / 1024))} KB"
        return f"{value.get('file_name', 'deck.pdf')} ({shown})"
    if field == "brn":
        return validators.format_brn(str(value))
    if field == "phone":
        return validators.format_phone(str(value))
    return str(value)


def review_rows(texts: Texts, lang: str, form: Form, data: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for q in form.questions:
        if q.kind is InputKind.CONSENT:
            continue
        value = (
            display_value(texts, lang, form, q.field, data[q.field])
            if q.field in data
            else texts.label(lang, "values.missing")
        )
        rows.append({"label": texts.label(lang, f"fields.{q.field}"), "value": value})
    return rows


def question_text(
    texts: Texts, lang: str, form: Form, draft: FormDraft, settings: Settings, error: UserError | None = None
) -> str:
    step = drafts.current_step(form, draft)
    assert step.question is not None
    q = step.question
    current = display_value(texts, lang, form, q.field, draft.data[q.field]) if q.field in draft.data else None
    if q.kind is InputKind.MULTI_CHOICE:
        current = None
    selected = drafts.selection(draft, q) if q.kind is InputKind.MULTI_CHOICE else []
    body = texts.render(
        lang, "form/question",
        field=q.field, prompt=form.prompt_template(q), step=form.index(q.field) + 1, total=len(form.questions),
        current=current, optional=q.optional,
        selected=", ".join(texts.label(lang, f"choices.{q.field}.{c}") for c in selected),
        summary_max=settings.summary_max_chars, deck_max_mb=settings.deck_max_bytes // 1048576,
    )  # fmt: skip
    if error is None:
        return body
    return texts.render(lang, error.template, **error.params) + "\n\n" + body


def review_text(
    texts: Texts, lang: str, form: Form, draft: FormDraft, cycle: Cycle | None, error: UserError | None = None
) -> str:
    body = texts.render(
        lang, "form/review", form=form.key, rows=review_rows(texts, lang, form, draft.data), cycle=cycle,
        editing=draft.application_id is not None,
    )  # fmt: skip
    if error is None:
        return body
    return texts.render(lang, error.template, **error.params) + "\n\n" + body

"""How form answers read, for any channel."""

from __future__ import annotations

from typing import Any

from bot import validators
from bot.forms import Form, InputKind
from bot.texts import Texts


def display_value(
    texts: Texts,
    lang: str,
    form: Form,
    field: str,
    value: Any,
    params: dict[str, Any] | None = None,
    sources: dict[str, dict[str, str]] | None = None,
) -> str:
    """``sources``: the names of the entries of questions whose choices are a list in the database."""
    if value is None or value == "" or value == []:
        return texts.label(lang, "values.empty")
    q = form.question(field)
    if q.source is not None:
        names = (sources or {}).get(field, {})
        values = value if isinstance(value, list) else [value]
        return ", ".join(names.get(str(v), str(v)) for v in values)
    if q.kind in (InputKind.CHOICE, InputKind.CONSENT) and q.choices:
        return texts.label(lang, q.choice_label(str(value)), **(params or {}))
    if q.kind is InputKind.MULTI_CHOICE:
        return ", ".join(texts.label(lang, q.choice_label(v), **(params or {})) for v in value)
    if q.kind is InputKind.FILE:
        size = value.get("size") or 0
        shown = f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(1, round(size / 1024))} KB"
        return f"{value.get('file_name', 'deck.pdf')} ({shown})"
    return formatted(texts, lang, field, value)


def formatted(texts: Texts, lang: str, field: str, value: Any) -> str:
    """A stored value as people write it: a registration number with its hyphens, a phone number with its
    extension in the reader's words; any other as it is."""
    if field == "brn":
        return validators.format_brn(str(value))
    if field == "phone":
        return texts.phone(lang, str(value))
    return str(value)


def review_rows(
    texts: Texts,
    lang: str,
    form: Form,
    data: dict[str, Any],
    params: dict[str, Any] | None = None,
    sources: dict[str, dict[str, str]] | None = None,
) -> list[dict[str, str]]:
    rows = []
    for q in form.asked(data):
        if q.kind is InputKind.CONSENT:
            continue
        value = (
            display_value(texts, lang, form, q.field, data[q.field], params, sources)
            if q.field in data
            else texts.label(lang, "values.missing")
        )
        rows.append({"field": q.field, "label": texts.label(lang, f"fields.{q.field}"), "value": value})
    return rows

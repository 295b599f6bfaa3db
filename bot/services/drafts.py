"""Walking a form: answers are saved to the draft as the user goes, one transaction per answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlmodel import Session, select

from bot.errors import UserError
from bot.forms import Form, InputKind, Question
from bot.models import FormDraft
from bot.validators import FileInput, Invalid

StepKind = Literal["ask", "invalid", "review", "refused"]

# A check that needs the database (e.g. a registration number used by another account).
DbCheck = Callable[[Session, FormDraft, str, Any], None]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    question: Question | None = None
    error: UserError | None = None


def get_draft(session: Session, user_id: int, form_key: str) -> FormDraft | None:
    return session.exec(select(FormDraft).where(FormDraft.user_id == user_id, FormDraft.form == form_key)).first()


def open_draft(
    session: Session,
    user_id: int,
    form: Form,
    now: dt.datetime,
    *,
    month: str | None = None,
    data: dict[str, Any] | None = None,
    application_id: int | None = None,
    next_step: str | None = None,
    reviewing: bool = False,
    found: FormDraft | Literal["look"] | None = "look",
) -> FormDraft:
    """Replaces any draft of this form for the user (``found``: the caller looked it up already)."""
    draft = get_draft(session, user_id, form.key) if isinstance(found, str) else found
    if draft is None:
        draft = FormDraft(user_id=user_id, form=form.key, created_at=now)
    draft.month = month
    draft.data = dict(data or {})
    draft.pending = {}
    draft.application_id = application_id
    draft.next_step = next_step
    draft.reviewing = reviewing
    draft.current = None if reviewing else first_unanswered(form, draft.data)
    draft.updated_at = now
    session.add(draft)
    session.flush()
    return draft


def delete_draft(session: Session, draft: FormDraft) -> None:
    session.delete(draft)
    session.flush()


def answered(form: Form, draft: FormDraft) -> int:
    return sum(1 for q in form.asked(draft.data) if q.field in draft.data)


def position(form: Form, draft: FormDraft, field: str) -> tuple[int, int]:
    """(n, of): the question's place among those asked, given the answers so far; ``of`` counts the questions
    a choice not made yet may still bring (「결정 (1/3)」, then 「사유 (2/2)」), so that it never grows."""
    asked = form.asked(draft.data)
    of = len(asked)
    for q in asked:
        if q.field not in draft.data and q.choices:
            of = max([of, *(len(form.asked({**draft.data, q.field: c})) for c in q.choices)])
    fields = [q.field for q in asked]
    return (fields.index(field) + 1 if field in fields else len(fields)), of


def current_step(form: Form, draft: FormDraft) -> Step:
    if draft.current is None:
        return Step("review")
    return Step("ask", form.question(draft.current))


def first_unanswered(form: Form, data: dict[str, Any], after: str | None = None) -> str | None:
    asked = form.asked(data)
    start = next((i + 1 for i, q in enumerate(asked) if q.field == after), 0) if after else 0
    for q in asked[start:]:
        if q.field not in data:
            return q.field
    return None


def _prune(form: Form, data: dict[str, Any]) -> dict[str, Any]:
    """Drops answers to questions that no longer apply (a decision changed from buying to not buying)."""
    asked = {q.field for q in form.asked(data)}
    return {k: v for k, v in data.items() if k in asked or k not in form.fields()}


def _advance(form: Form, draft: FormDraft, field: str) -> None:
    draft.data = _prune(form, draft.data)
    if draft.reviewing:
        # An edit may call for a question not asked before; the review page comes once it is answered.
        draft.current = first_unanswered(form, draft.data)
    else:
        draft.current = first_unanswered(form, draft.data, field) or first_unanswered(form, draft.data)
        if draft.current is None:
            draft.reviewing = True


def _save(session: Session, draft: FormDraft, now: dt.datetime) -> None:
    draft.updated_at = now
    session.add(draft)


def answer(
    session: Session,
    form: Form,
    draft: FormDraft,
    raw: Any,
    now: dt.datetime,
    db_check: DbCheck | None = None,
    store_file: Callable[[FileInput], str] | None = None,
) -> Step:
    """Validates ``raw`` against the current question; a valid answer moves the form on."""
    if draft.current is None:
        return Step("review")
    q = form.question(draft.current)
    try:
        value = q.validate(raw)
        if db_check is not None:
            db_check(session, draft, q.field, value)
    except Invalid as err:
        pending = dict(draft.pending)
        if not isinstance(raw, FileInput):
            pending[q.field] = raw
        draft.pending = pending
        _save(session, draft, now)
        return Step("invalid", q, err)
    except UserError as err:
        return Step("invalid", q, err)
    if isinstance(raw, FileInput) and (raw.content is not None or raw.path is not None) and store_file is not None:
        value = {**value, "path": store_file(raw)}
    if q.kind is InputKind.CONSENT and value == "refuse":
        delete_draft(session, draft)
        return Step("refused", q)
    draft.data = {**draft.data, q.field: value}
    draft.pending = {k: v for k, v in draft.pending.items() if k != q.field}
    _advance(form, draft, q.field)
    _save(session, draft, now)
    return current_step(form, draft)


def skip(session: Session, form: Form, draft: FormDraft, now: dt.datetime, clear: bool = False) -> Step:
    """Leaves an optional question empty, or keeps an answer given before; ``clear``: empties an optional
    question's answer given before."""
    if draft.current is None:
        return Step("review")
    q = form.question(draft.current)
    if clear and q.optional:
        draft.data = {**draft.data, q.field: None}
    elif q.field not in draft.data:
        if not q.optional:
            return Step("invalid", q, Invalid("required"))
        draft.data = {**draft.data, q.field: None}
    _advance(form, draft, q.field)
    _save(session, draft, now)
    return current_step(form, draft)


def back(session: Session, form: Form, draft: FormDraft, now: dt.datetime) -> Step:
    """One question back; from the first question there is nowhere further back."""
    asked = [q.field for q in form.asked(draft.data)]
    if draft.current is None:
        draft.current = asked[-1]
    else:
        idx = asked.index(draft.current) if draft.current in asked else 0
        if idx == 0:
            return Step("invalid", form.question(asked[0]), Invalid("no_back"))
        draft.current = asked[idx - 1]
    draft.reviewing = False
    _save(session, draft, now)
    return current_step(form, draft)


def edit(session: Session, form: Form, draft: FormDraft, field: str, now: dt.datetime) -> Step:
    """From the review page: ask one question again, then come back to the review."""
    if field not in [q.field for q in form.asked(draft.data)]:
        return Step("review")
    draft.current = field
    draft.reviewing = True
    _save(session, draft, now)
    return current_step(form, draft)


def toggle(
    session: Session, form: Form, draft: FormDraft, choice: str, now: dt.datetime, choices: list[str] | None = None
) -> list[str]:
    """Flips one choice of a multi-choice question; the selection is kept until confirmed. ``choices``: the
    question's choices now, where they come from a list in the database (kept in the order picked)."""
    if draft.current is None:
        return []
    q = form.question(draft.current)
    allowed = q.choices if choices is None else choices
    if q.kind is not InputKind.MULTI_CHOICE or choice not in allowed:
        return selection(draft, q)
    picked = selection(draft, q)
    if choices is not None:
        flipped = [c for c in picked if c != choice] + ([] if choice in picked else [choice])
    else:
        flipped = [c for c in q.choices if c in set(picked) ^ {choice}]
    draft.pending = {**draft.pending, q.field: flipped}
    _save(session, draft, now)
    return draft.pending[q.field]


def selection(draft: FormDraft, q: Question) -> list[str]:
    """The current multi-choice selection: in progress, else the saved answer. A copy: the draft's own list
    changed in place would not be saved (the JSON column sees no new value)."""
    pending = draft.pending.get(q.field)
    if isinstance(pending, list):
        return list(pending)
    saved = draft.data.get(q.field)
    return list(saved) if isinstance(saved, list) else []


WAITING = "_waiting_for_list"  # in ``pending``: the question whose list was empty when it was asked


def wait_for_list(session: Session, draft: FormDraft, field: str | None, now: dt.datetime) -> None:
    """Marks (``field``) or unmarks (None) a draft stopped at a question whose list is empty, so that its
    owner is told once the list is there."""
    if draft.pending.get(WAITING) == field:
        return
    pending = {k: v for k, v in draft.pending.items() if k != WAITING}
    draft.pending = pending | ({WAITING: field} if field else {})  # a new dict: the JSON column sees it
    session.add(draft)


def hold_input(session: Session, user_id: int, key: str, data: dict[str, Any], now: dt.datetime) -> None:
    """Remembers what a free-text answer will be for (a comment, feedback...), across restarts."""
    draft = get_draft(session, user_id, key) or FormDraft(user_id=user_id, form=key, created_at=now)
    draft.data, draft.pending, draft.current, draft.updated_at = dict(data), {}, None, now
    session.add(draft)
    session.flush()


def take_input(session: Session, user_id: int, key: str) -> dict[str, Any] | None:
    """What :func:`hold_input` remembered, forgotten as it is taken."""
    draft = get_draft(session, user_id, key)
    if draft is None:
        return None
    data = dict(draft.data)
    delete_draft(session, draft)
    return data

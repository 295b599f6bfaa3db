"""The one flow that walks every form: questions one at a time (buttons, typed text, a file), conditions,
back and keep and skip, a review page with an edit button per answer, and the form's own submit.

Which form, and what it is about, is in the form's draft (``form_drafts``): the answers survive leaving
the conversation, a restart, or a change of channel. The conversation row only says the form is active."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import display
from bot.calendar import Month
from bot.dialogue.flow import Flow
from bot.dialogue.interpret import normalize
from bot.dialogue.model import Action, Choice, Expect, FileRef, L, Label
from bot.dialogue.tokens import str_arg
from bot.dialogue.turn import Turn
from bot.errors import UserError
from bot.forms import APPLICATION, Form, InputKind, Question, form_by_key
from bot.models import FormDraft
from bot.services import cycles, departments, drafts, files
from bot.services.drafts import DbCheck, Step
from bot.settings import Settings
from bot.texts import LANGUAGES, Texts
from bot.validators import FileInput, Invalid, line

Hook = Callable[[Turn, FormDraft], None]


@dataclass(frozen=True)
class FormSpec:
    """What a form does around its questions. The questions themselves are data in ``bot/forms.py``."""

    key: str
    submit: Hook  # calls the service; a UserError it raises is shown and the person tries again
    review: bool = True  # a review page before submitting; without one, the last answer submits
    review_template: str = "form/review"
    confirm_label: Callable[[FormDraft], str] = lambda draft: "buttons.submit"
    cancel_label: str = "buttons.cancel"
    edit_buttons: bool = True  # the review page offers to change each answer
    # Extra template data for the questions and the review page (what the form is about), and data only
    # the review page needs (kept apart: a question is asked far more often than the page is shown).
    context: Callable[[Turn, FormDraft], dict[str, Any]] | None = None
    review_context: Callable[[Turn, FormDraft], dict[str, Any]] | None = None
    # Parameters of choice labels (an audience "{month} 신청 기업").
    label_params: Callable[[Turn, FormDraft], dict[str, Any]] | None = None
    show_review: Callable[[Turn, FormDraft, UserError | None], None] | None = None  # instead of the page
    cancelled: Hook | None = None  # default: the draft goes, "input cancelled"
    refused: Hook | None = None  # a refused consent
    db_check: DbCheck | None = None
    store_file: Callable[[Settings], Callable[[FileInput], str]] | None = None
    # A form that may only be filled in for a while (the application, in its window): True when it may no
    # longer be, once it has told the person so; checked at each step, not only at the submit.
    closed: Callable[[Turn, FormDraft], bool] | None = None


SPECS: dict[str, FormSpec] = {}


def register(spec: FormSpec) -> FormSpec:
    SPECS[spec.key] = spec
    return spec


class FormFlow(Flow):
    name = "form"

    # ---- opening -------------------------------------------------------------------------------
    def open(
        self,
        t: Turn,
        key: str,
        *,
        data: dict[str, Any] | None = None,
        ref: dict[str, Any] | None = None,
        month: str | None = None,
        application_id: int | None = None,
        reviewing: bool = False,
        next_step: str | None = None,
        error: UserError | None = None,
        pending: dict[str, Any] | None = None,
    ) -> FormDraft:
        """A fresh draft of the form (replacing any), made active and shown. ``pending``: a selection to start
        from, or the words a list question starts narrowed to (see :func:`search_start`)."""
        form = form_by_key(key, t.settings)
        draft = drafts.open_draft(
            t.session, t.user.id or 0, form, t.now, month=month, data=data, application_id=application_id,
            next_step=next_step, reviewing=reviewing,
        )  # fmt: skip
        draft.ref = dict(ref or {})
        draft.pending = dict(pending or {})
        t.session.add(draft)
        self.continue_draft(t, draft, error)
        return draft

    def continue_draft(self, t: Turn, draft: FormDraft, error: UserError | None = None) -> None:
        """Makes an existing draft the active form and shows where it stands. The step names the form too: the
        next turn loads its draft in the same query as the conversation."""
        t.go(self.name, draft.form, form=draft.form)
        self.show(t, SPECS[draft.form], form_by_key(draft.form, t.settings), draft, error)

    # ---- the engine's calls --------------------------------------------------------------------
    def on_action(self, t: Turn, action: Action) -> None:
        found = self._load(t)
        if found is None:
            return
        spec, form, draft = found
        name, field = action.name, str_arg(action, 0)
        current = draft.current
        if name == "x":
            self.cancel(t)
        elif name == "bk":
            self.show(t, spec, form, draft, step=drafts.back(t.session, form, draft, t.now))
        elif name == "ok" and current is None:
            self._submit(t, spec, form, draft)
        elif name == "e" and current is None and field:
            self.show(t, spec, form, draft, step=drafts.edit(t.session, form, draft, field, t.now))
        elif field is None or field != current:
            t.notice(Invalid("stale_button"))
            self.show(t, spec, form, draft)
        elif name == "a":
            self._answer(t, spec, form, draft, str_arg(action, 1) or "")
        elif name == "t":
            q = form.question(field)
            values = [v for v, _ in _options(t, q)] if q.source else None
            drafts.toggle(t.session, form, draft, str_arg(action, 1) or "", t.now, choices=values)
            t.keep_page()  # a pick on the second page leaves the second page shown
            self.show(t, spec, form, draft, replace=True)
        elif name == "d":
            self._answer(t, spec, form, draft, drafts.selection(draft, form.question(field)))
        elif name in ("sk", "cl"):
            step = drafts.skip(t.session, form, draft, t.now, clear=name == "cl")
            self.show(t, spec, form, draft, step=step)
        elif name == "all":
            _set_search(t, draft, field, None)
            self.show(t, spec, form, draft)
        else:
            t.notice(Invalid("stale_button"))
            self.show(t, spec, form, draft)

    def on_text(self, t: Turn, text: str) -> None:
        found = self._load(t)
        if found is None:
            return
        spec, form, draft = found
        q = drafts.current_step(form, draft).question
        if q is None and spec.show_review is not None:  # a page of the form's own: its buttons are its own
            self.show(t, spec, form, draft, Invalid("expected_button"))
        elif q is None:  # the review page: typed text is no answer here, and the way to change one is named
            confirm = t.label(spec.confirm_label(draft))
            self.show(t, spec, form, draft, Invalid("typed_on_review", confirm=confirm, edits=spec.edit_buttons))
        elif q.source is not None:
            self._search(t, spec, form, draft, q, text)
        elif q.kind is InputKind.TEXT or (q.kind is InputKind.CHOICE and q.typed_choices):
            self._answer(t, spec, form, draft, text)
        elif q.kind is InputKind.MULTI_CHOICE:
            typed = self._typed_selection(t, q, draft, text)
            if typed is None:
                self.show(t, spec, form, draft, Invalid("expected_button"))
            elif len(typed[1]) == 1:  # one name: picked as its button is, and more may follow (「인공지능」
                # answered the question at once, and the 「로봇」 typed next was refused as a readiness level)
                if typed[1][0] not in drafts.selection(draft, q):
                    drafts.toggle(t.session, form, draft, typed[1][0], t.now)
                self.show(t, spec, form, draft, replace=True)
            else:
                self._answer(t, spec, form, draft, typed[0])
        elif q.kind is InputKind.CONSENT and (said := _consent_typed(t, text)) is not None:
            self._answer(t, spec, form, draft, said)  # 「네」, 「동의합니다」 to a pledge worded 「서약합니다」
        else:
            self.show(t, spec, form, draft, Invalid(_wanted(q)))

    def on_file(self, t: Turn, file: FileRef) -> None:
        found = self._load(t)
        if found is None:
            return
        spec, form, draft = found
        q = drafts.current_step(form, draft).question
        if q is None or q.kind is not InputKind.FILE:
            self.show(t, spec, form, draft, Invalid(_wanted(q)))
            return
        upload = FileInput(file.channel_id or "", file.name, file.mime, file.size)
        try:
            q.validate(upload)  # type and size first: nothing is fetched that cannot pass
        except Invalid as err:
            self.show(t, spec, form, draft, err)
            return
        if t.incoming.profile.get("fetch_failed"):
            self.show(t, spec, form, draft, Invalid("file_download"))
            return
        t.need_file_content()
        self._answer(t, spec, form, draft, FileInput(file.channel_id or "", file.name, file.mime, file.size,
                                                     path=file.path))  # fmt: skip

    def on_other(self, t: Turn) -> None:
        found = self._load(t)
        if found is None:
            return
        spec, form, draft = found
        q = drafts.current_step(form, draft).question
        self.show(t, spec, form, draft, Invalid(_wanted(q)))

    def resume(self, t: Turn) -> None:
        found = self._load(t)
        if found is not None:
            self.show(t, *found)

    def back(self, t: Turn) -> None:
        found = self._load(t)
        if found is not None:
            spec, form, draft = found
            self.show(t, spec, form, draft, step=drafts.back(t.session, form, draft, t.now))

    def cancel(self, t: Turn) -> None:
        key = t.ref.get("form", "")
        draft = drafts.get_draft(t.session, t.user.id or 0, key)
        spec = SPECS.get(key)
        t.end()
        if spec is not None and spec.cancelled is not None and draft is not None:
            shown = len(t.screens)
            try:
                with t.session.begin_nested():
                    spec.cancelled(t, draft)
                return
            except UserError as err:  # where it leads back to is no longer theirs (a role taken back): the
                del t.screens[shown:]  # cancel was refused with it, and the typed answers stayed
                t.notice(err)
        if draft is not None:
            drafts.delete_draft(t.session, draft)
        t.say("menu/input_cancelled")

    # ---- showing -------------------------------------------------------------------------------
    def show(
        self,
        t: Turn,
        spec: FormSpec,
        form: Form,
        draft: FormDraft,
        error: UserError | None = None,
        *,
        step: Step | None = None,
        replace: bool = False,
    ) -> None:
        """What comes after a step: the (re-)asked question, the review page, a refusal, or the submit."""
        step = step or drafts.current_step(form, draft)
        error = error or step.error
        if step.kind == "refused":
            t.end()
            if spec.refused is not None:
                spec.refused(t, draft)
            return
        if step.kind == "review" or draft.current is None:
            if spec.review or error is not None:
                self.review(t, spec, form, draft, error)
            else:
                self._submit(t, spec, form, draft)
            return
        self.ask(t, spec, form, draft, error, replace=replace)

    def _source_empty(
        self, t: Turn, spec: FormSpec, form: Form, draft: FormDraft, q: Question, n: int, of: int
    ) -> None:
        """A question to pick from a list nobody has loaded yet: nobody is left stuck at it. A company is told
        the list is being prepared, that its answers are kept and that it will be told here once the list is
        there (the draft is marked; the tick tells it, see ``drafts.tell_list_ready``); an organizer is told
        how to fill it."""
        closes_at = None
        if form.key == APPLICATION and draft.month:
            drafts.wait_for_list(t.session, draft, q.field, t.now)
            closes_at = cycles.get_cycle(t.session, Month.parse(draft.month), t.settings).window_closes_at
        nav = [self.choice(L("buttons.back"), "bk")] if n > 1 else []
        nav.append(self.choice(L(spec.cancel_label), "x"))
        data = {"field": q.field, "step": n, "total": of, "form": form.key, "closes_at": closes_at}
        t.show("form/source_empty", data, nav=nav, columns=2, expects=Expect.CHOICE)

    def ask(
        self, t: Turn, spec: FormSpec, form: Form, draft: FormDraft, error: UserError | None, replace: bool = False
    ) -> None:
        q = form.question(draft.current or form.questions[0].field)
        params = spec.label_params(t, draft) if spec.label_params else {}
        n, of = drafts.position(form, draft, q.field)
        if q.source and not _options(t, q):
            self._source_empty(t, spec, form, draft, q, n, of)
            return
        drafts.wait_for_list(t.session, draft, None, t.now)  # the list is there: nothing left to tell
        multi = q.kind is InputKind.MULTI_CHOICE
        picked = drafts.selection(draft, q) if multi else []
        current = None
        names = dict(_options(t, q)) if q.source else {}
        if q.field in draft.data and not multi:
            current = display.display_value(t.texts, t.lang, form, q.field, draft.data[q.field], params,
                                            departments.form_sources(t.session, form))  # fmt: skip
        upload_link, upload_expires = self._upload_link(t, form, q, draft)
        data = {
            "field": q.field, "prompt": form.prompt_template(q), "step": n, "total": of, "current": current,
            "optional": q.optional,
            "selected": ", ".join(names.get(c, "") if q.source else t.label(q.choice_label(c), **params)
                                  for c in picked),
            "summary_max": t.settings.summary_max_chars, "deck_max_mb": t.settings.deck_max_bytes // 1048576,
            "channel_uploads": t.caps.uploads, "upload_link": upload_link, "upload_expires": upload_expires,
            **(spec.context(t, draft) if spec.context else {}),
        }  # fmt: skip
        choices: list[Choice] = []
        searching = draft.pending.get(_search_field(q.field)) if q.source else None
        if q.source:
            # What is picked comes first, so that taking one off is always on the first page.
            shown = _found(t, q, str(searching)) if searching else (
                [(c, names[c]) for c in picked if c in names] + [(v, n) for v, n in names.items() if v not in picked]
            )  # fmt: skip
            data |= {"searching": searching, "matches": len(shown), "source": q.source}
            choices = [
                self.choice(Label(text=name, prefix="✅ " if value in picked else ""), "t" if multi else "a", q.field,
                            value)
                for value, name in shown
            ]  # fmt: skip
        elif q.kind in (InputKind.CHOICE, InputKind.CONSENT):
            choices = [self.choice(L(q.choice_label(c), **params), "a", q.field, c) for c in q.choices]
        elif multi:
            choices = [
                self.choice(L(q.choice_label(c), prefix="✅ " if c in picked else "", **params), "t", q.field, c)
                for c in q.choices
            ]
        nav = [self.choice(L("buttons.done"), "d", q.field)] if multi else []
        if searching:
            nav.append(self.choice(L("buttons.whole_list"), "all", q.field))
        if n > 1:
            nav.append(self.choice(L("buttons.back"), "bk"))
        if q.field in draft.data and not multi and not (q.optional and draft.data[q.field] is None):
            nav.append(self.choice(L("buttons.keep"), "sk", q.field))
            if q.optional:  # an optional answer given before can be taken back, as the question says
                nav.append(self.choice(L("buttons.skip"), "cl", q.field))
        elif q.optional:
            nav.append(self.choice(L("buttons.skip"), "sk", q.field))
        nav.append(self.choice(L(spec.cancel_label), "x"))
        columns = q.columns or (3 if q.source or len(choices) > 4 else 1)
        expects = {InputKind.TEXT: Expect.TEXT, InputKind.FILE: Expect.FILE}.get(q.kind, Expect.CHOICE)
        if q.kind is InputKind.CHOICE and q.typed_choices:
            expects = Expect.CHOICE
        t.show("form/question", data, choices=choices, nav=nav, columns=columns, expects=expects, error=error,
               replace=replace, reads_words=q.source is not None or multi, question=True)  # fmt: skip

    @staticmethod
    def _upload_link(t: Turn, form: Form, q: Question, draft: FormDraft) -> tuple[str | None, Any]:
        """A file question where people cannot send files in chat: a single-use upload page of their own, no
        longer than the application window lasts (at 23:50 on the 10th it said "until 00:50")."""
        public = t.settings.public_url
        if q.kind is not InputKind.FILE or t.caps.uploads or public is None:
            return None, None
        until = None
        if form.key == APPLICATION and draft.month:
            until = cycles.get_cycle(t.session, Month.parse(draft.month), t.settings).window_closes_at
            if until <= t.now:  # an organizer closed it early: the submit says so (a link dead on arrival did not)
                until = None
        link = files.offer_upload(t.session, t.user, form.key, q.field, t.settings, t.now, until=until)
        return f"{public.rstrip('/')}/files/upload/{link.token}", link.expires_at

    def review(self, t: Turn, spec: FormSpec, form: Form, draft: FormDraft, error: UserError | None = None) -> None:
        if spec.show_review is not None:
            spec.show_review(t, draft, error)
            return
        params = spec.label_params(t, draft) if spec.label_params else {}
        rows = display.review_rows(t.texts, t.lang, form, draft.data, params, departments.form_sources(t.session, form))
        data = {"form": form.key, "rows": rows, "editing": draft.application_id is not None,
                **(spec.context(t, draft) if spec.context else {}),
                **(spec.review_context(t, draft) if spec.review_context else {})}  # fmt: skip
        edits = []
        if spec.edit_buttons:
            edits = [
                self.choice(L("buttons.edit_field", name=edit_name(t.texts, t.lang, r["field"])), "e", r["field"])
                for r in rows
            ]
        nav = [self.choice(L(spec.confirm_label(draft)), "ok"), self.choice(L(spec.cancel_label), "x")]
        t.show(spec.review_template, data, choices=edits, nav=nav, columns=2, expects=Expect.CHOICE, error=error)

    # ---- the steps -----------------------------------------------------------------------------
    def _load(self, t: Turn) -> tuple[FormSpec, Form, FormDraft] | None:
        key = t.ref.get("form", "")
        spec = SPECS.get(key)
        draft = t.draft if t.draft is not None and t.draft.form == key else None
        if draft is None and spec is not None:
            draft = drafts.get_draft(t.session, t.user.id or 0, key)
        if spec is None or draft is None:  # the draft was submitted or dropped elsewhere
            t.end()
            t.engine.flows["menu"].home(t)  # type: ignore[attr-defined]
            return None
        if spec.closed is not None and spec.closed(t, draft):
            return None
        return spec, form_by_key(key, t.settings), draft

    def _answer(self, t: Turn, spec: FormSpec, form: Form, draft: FormDraft, raw: Any) -> None:
        q = form.question(draft.current) if draft.current else None
        if q is not None and q.source is not None:
            # Only entries still on the list count (one may have been deactivated since it was picked).
            values = {v for v, _ in _options(t, q)}
            raw = [v for v in raw if v in values] if isinstance(raw, list) else raw if raw in values else ""
            _set_search(t, draft, q.field, None)
        store = spec.store_file(t.settings) if spec.store_file else None
        step = drafts.answer(t.session, form, draft, raw, t.now, db_check=spec.db_check, store_file=store)
        self.show(t, spec, form, draft, step=step)

    def _submit(self, t: Turn, spec: FormSpec, form: Form, draft: FormDraft) -> None:
        shown = len(t.screens)
        try:
            with t.session.begin_nested():  # a refused submit leaves nothing half-done in the turn
                spec.submit(t, draft)
        except UserError as err:
            del t.screens[shown:]
            if draft.current is None and not spec.review:
                drafts.back(t.session, form, draft, t.now)  # the last question again, with the reason
                if draft.current and form.question(draft.current).kind is InputKind.FILE:
                    # The file refused is no answer to keep (the expo's was read once and removed, and
                    # 「현재 답변 유지」 then failed again): a new one is asked for.
                    draft.data = {k: v for k, v in draft.data.items() if k != draft.current}
                    t.session.add(draft)
            self.show(t, spec, form, draft, err)

    def _search(self, t: Turn, spec: FormSpec, form: Form, draft: FormDraft, q: Question, text: str) -> None:
        """Typed words find entries of the list: a name that finds one entry (a whole name, or the only one
        holding the words) picks it (one answer) or adds it to the selection (several, finished with "done",
        as a pressed choice is); a name that finds several shows those to choose from; one that finds none
        is said so. Several names may come at once ("서울교통공사, 기후")."""
        try:
            text = line(200, 1)(text)  # what is typed is shown again: the same checks as a name
        except Invalid as err:
            self.show(t, spec, form, draft, err)
            return
        whole = _found(t, q, text)
        parts = [text] if len(whole) == 1 else [p for p in _LIST_SEPARATORS.split(text) if p.strip()]
        found = {p: (whole if p == text else _found(t, q, p)) for p in parts}
        missing = [p.strip() for p, hits in found.items() if not hits]
        unique = [hits[0][0] for hits in found.values() if len(hits) == 1]
        several = next((p.strip() for p, hits in found.items() if len(hits) > 1), None)
        multi = q.kind is InputKind.MULTI_CHOICE
        picked = drafts.selection(draft, q) if multi else []
        picked += [v for v in unique if v not in picked]
        if not multi and not missing and several is None and len(unique) == 1:
            self._answer(t, spec, form, draft, unique[0])
            return
        if multi:
            draft.pending = {**draft.pending, q.field: picked}
        _set_search(t, draft, q.field, several if several and not missing else None)
        if missing and len(missing) == len(parts):
            missing = [text.strip()]  # nothing of it was found: named as typed
        error = Invalid("department_unknown", text=", ".join(missing)) if missing else None
        if not multi and not several and not missing:
            error = Invalid("department_pick")  # several names where one is asked for
        self.show(t, spec, form, draft, error)

    @staticmethod
    def _typed_selection(t: Turn, q: Question, draft: FormDraft, text: str) -> tuple[list[str], list[str]] | None:
        """Choices typed ("로봇, 인공지능"), each by its label in either language, the label without its
        bracket ("인공지능" for "인공지능(AI)") or the bracket alone ("AI"): the selection with them added to
        what was picked with the buttons, and the ones typed."""
        names: dict[str, str] = {normalize(c): c for c in q.choices}
        for lang in LANGUAGES:
            for c in q.choices:
                label = t.texts.label(lang, q.choice_label(c))
                for variant in (label, _BRACKET.sub("", label), *_BRACKET.findall(label)):
                    names.setdefault(normalize(variant), c)
        whole = names.get(normalize(text))  # a label that holds a separator itself: "AR/VR"
        parts = [whole] if whole else [names.get(normalize(p)) for p in _SEPARATORS.split(text) if normalize(p)]
        if not parts or None in parts:
            return None
        typed = [p for p in parts if p]
        picked = set(drafts.selection(draft, q)) | set(typed)
        return [c for c in q.choices if c in picked], list(dict.fromkeys(typed))


_WANTED = {InputKind.TEXT: "expected_text", InputKind.FILE: "expected_file"}
_LIST_SEPARATORS = re.compile(r"[,、;\n]+")


def _options(t: Turn, q: Question) -> list[tuple[str, str]]:
    """A sourced question's choices now: (value, name) of each active entry of the list."""
    return [(str(d.id), d.name) for d in departments.listing(t.session, active_only=True)]


def _found(t: Turn, q: Question, text: str) -> list[tuple[str, str]]:
    return [(str(d.id), d.name) for d in departments.search(t.session, text)]


def search_start(field: str, text: str) -> dict[str, Any]:
    """A list question opened narrowed to what was typed with the command (「초대 official 교통」)."""
    return {_search_field(field): text} if text.strip() else {}


def _search_field(field: str) -> str:
    return f"{field}?"


def _set_search(t: Turn, draft: FormDraft, field: str, text: str | None) -> None:
    """What was typed to narrow a list question, kept with the draft until it is answered."""
    pending = {k: v for k, v in draft.pending.items() if k != _search_field(field)}
    if text:
        pending[_search_field(field)] = text
    draft.pending = pending
    t.session.add(draft)


_BRACKET = re.compile(r"\(([^)]*)\)")
_SEPARATORS = re.compile(r"[,、/;·]")


def _consent_typed(t: Turn, text: str) -> str | None:
    """ "agree" or "refuse" for a yes or a no typed in either language (the catalogue's ``consent_words``),
    else None."""
    typed = re.sub(r"[\s.!~,]", "", text).casefold()
    for lang in LANGUAGES:
        words = t.texts.catalog[lang].get("consent_words") or {}
        for answer in ("agree", "refuse"):
            if typed in {re.sub(r"\s", "", w).casefold() for w in words.get(answer, [])}:
                return answer
    return None


def _wanted(q: Question | None) -> str:
    """What to say to an answer of the wrong kind (a sticker for a question, text for a file...)."""
    if q is None:
        return "expected_button"
    return q.wrong_kind or _WANTED.get(q.kind, "expected_button")


FLOW = FormFlow()


def edit_name(texts: Texts, lang: str, field: str) -> str:
    """A field's name on its ✏️ button: the catalogue's shorter one where it has one (KakaoTalk shows 14
    characters: 「✏️ Company name」 and 「✏️ Company size」 were both cut to 「✏️ …mpany name」 and 「✏️ …mpany size」)."""
    try:
        return texts.label(lang, f"edit_names.{field}")
    except KeyError:
        return texts.label(lang, f"fields.{field}")

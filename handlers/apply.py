"""The application conversation: company profile (once), the month's application, review, submit,
edit after submit and withdrawal. Its states and graph are all in :func:`conversation`."""

from __future__ import annotations

import enum
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import col, select
from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import display
from bot.calendar import Month
from bot.database import Database
from bot.errors import Refused, UserError
from bot.forms import APPLICATION, PROFILE, Form, InputKind, form_by_key
from bot.models import FormDraft, User
from bot.services import applications, companies, cycles, drafts, users
from bot.services.drafts import Step
from bot.validators import FileInput, Invalid
from handlers import invite, menu, review, selection, status
from handlers.common import (
    CHANNEL,
    Keyboard,
    Who,
    app_ctx,
    callback_parts,
    keyboard,
    menu_rows,
    render,
    reply,
    settle_query,
    who,
    who_with_draft,
)

log = logging.getLogger(__name__)
END = ConversationHandler.END
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]


class S(enum.IntEnum):
    PROFILE_ASK = 1
    PROFILE_REVIEW = 2
    APP_ASK = 3
    APP_REVIEW = 4
    WITHDRAW = 5


ASK = {PROFILE: S.PROFILE_ASK, APPLICATION: S.APP_ASK}
REVIEW = {PROFILE: S.PROFILE_REVIEW, APPLICATION: S.APP_REVIEW}


# ---- rendering -----------------------------------------------------------------------------------
def _nav_row(context: ContextTypes.DEFAULT_TYPE, lang: str, form: Form, draft: FormDraft) -> list[tuple[str, str]]:
    label = app_ctx(context).texts.label
    q = form.question(draft.current or form.questions[0].field)
    row = [(label(lang, "buttons.back"), "nav:back")]
    if q.field in draft.data and q.kind is not InputKind.MULTI_CHOICE:
        row.append((label(lang, "buttons.keep"), f"nav:keep:{q.field}"))
    elif q.optional:
        row.append((label(lang, "buttons.skip"), f"nav:skip:{q.field}"))
    row.append((label(lang, "buttons.cancel"), "nav:cancel"))
    return row


def _question_rows(context: ContextTypes.DEFAULT_TYPE, lang: str, form: Form, draft: FormDraft) -> Keyboard:
    label = app_ctx(context).texts.label
    q = form.question(draft.current or form.questions[0].field)
    rows: Keyboard = []
    if q.kind in (InputKind.CHOICE, InputKind.CONSENT):
        buttons = [(label(lang, f"choices.{q.field}.{c}"), f"c:{q.field}:{c}") for c in q.choices]
        per_row = 3 if len(buttons) > 4 else 1
        rows += [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    elif q.kind is InputKind.MULTI_CHOICE:
        picked = set(drafts.selection(draft, q))
        buttons = [
            (("✅ " if c in picked else "") + label(lang, f"choices.{q.field}.{c}"), f"t:{q.field}:{c}")
            for c in q.choices
        ]
        rows += [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        rows.append([(label(lang, "buttons.done"), f"d:{q.field}")])
    rows.append(_nav_row(context, lang, form, draft))
    return rows


def _review_rows(context: ContextTypes.DEFAULT_TYPE, lang: str, form: Form, draft: FormDraft) -> Keyboard:
    label = app_ctx(context).texts.label
    edits = [
        (label(lang, "buttons.edit_field", name=label(lang, f"fields.{q.field}")), f"rv:e:{q.field}")
        for q in form.questions
        if q.kind is not InputKind.CONSENT
    ]
    rows: Keyboard = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    confirm = "save" if form.key == PROFILE else ("save_changes" if draft.application_id else "submit")
    rows.append([(label(lang, f"buttons.{confirm}"), "rv:ok")])
    rows.append([(label(lang, "buttons.cancel"), "rv:x")])
    return rows


async def _show(
    update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, form: Form, draft: FormDraft, step: Step
) -> int:
    """Sends what comes after a step: the (re-)asked question, the review page, or the end."""
    ctx = app_ctx(context)
    if step.kind == "refused":
        await reply(update, context, render(context, w.lang, "apply/consent_refused"), menu_rows(ctx, w.lang))
        return END
    if step.kind == "review":
        return await _show_review(update, context, w, form, draft, step.error)
    html = display.question_text(ctx.texts, w.lang, form, draft, ctx.settings, step.error)
    await reply(update, context, html, _question_rows(context, w.lang, form, draft))
    return ASK[form.key]


async def _show_review(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    w: Who,
    form: Form,
    draft: FormDraft,
    error: UserError | None = None,
) -> int:
    ctx = app_ctx(context)
    cycle = None
    if form.key == APPLICATION and draft.month:
        with ctx.db.session() as session:
            cycle = cycles.get_cycle(session, Month.parse(draft.month), ctx.settings)
    html = display.review_text(ctx.texts, w.lang, form, draft, cycle, error)
    await reply(update, context, html, _review_rows(context, w.lang, form, draft))
    return REVIEW[form.key]


def _load(context: ContextTypes.DEFAULT_TYPE, w: Who, form_key: str) -> tuple[Form, FormDraft | None]:
    ctx = app_ctx(context)
    form = form_by_key(form_key, ctx.settings)
    with ctx.db.session() as session:
        return form, drafts.get_draft(session, w.user.id, form.key)


# ---- entry points --------------------------------------------------------------------------------
async def _route_start(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who) -> int:
    ctx = app_ctx(context)
    label = ctx.texts.label
    with ctx.db.session() as session:
        start = applications.start(session, w.user, ctx.settings, ctx.clock.now())
    if start.kind == "closed":
        rows = [[(label(w.lang, "buttons.notify"), "sub:window")]]
        await reply(update, context, render(context, w.lang, "apply/closed", next_cycle=start.cycle), rows)
        return END
    if start.kind == "submitted":
        app = start.application
        assert app is not None
        rows = [
            [
                (label(w.lang, "buttons.edit"), f"app:edit:{app.id}"),
                (label(w.lang, "buttons.withdraw"), f"app:wd:{app.id}"),
            ]
        ]
        await reply(
            update, context, render(context, w.lang, "apply/already_submitted", app=app, cycle=start.cycle), rows
        )
        return END
    draft = start.draft
    assert draft is not None
    with ctx.db.session() as session:
        session.add(draft)
        drafts.unpause(session, draft, ctx.clock.now())
    form = form_by_key(draft.form, ctx.settings)
    if not draft.data and draft.current == form.questions[0].field:
        intro = "apply/profile_intro" if start.kind == "profile" else "apply/form_intro"
        await reply(update, context, render(context, w.lang, intro, cycle=start.cycle))
    return await _show(update, context, w, form, draft, drafts.current_step(form, draft))


class WaitingDraft(filters.MessageFilter):
    """Matches text from someone whose profile or application draft waits for an answer."""

    def __init__(self, db: Database) -> None:
        super().__init__(name="WaitingDraft")
        self.db = db

    def filter(self, message: Message) -> bool:
        if message.from_user is None:
            return False
        with self.db.session() as session:
            found = session.exec(
                select(FormDraft.id)
                .join(User, col(User.id) == col(FormDraft.user_id))
                .where(
                    User.channel == CHANNEL, User.external_id == str(message.from_user.id),
                    col(FormDraft.form).in_((PROFILE, APPLICATION)), col(FormDraft.current).is_not(None),
                    FormDraft.paused == False,  # noqa: E712
                )
            ).first()  # fmt: skip
        return found is not None


async def resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Text from someone whose draft waits for an answer. Outside the conversation this means the process
    died before their conversation state was saved; the draft says which question they were on. (It is
    also the last fallback inside the conversation, so it picks the draft answered most recently.)"""
    w = who(update, context)
    waiting = []
    for key in (APPLICATION, PROFILE):
        form, draft = _load(context, w, key)
        if draft is not None and draft.current is not None and not draft.paused:
            waiting.append((draft.updated_at, form, draft))
    if not waiting:  # answered elsewhere meanwhile
        await menu.unknown(update, context)
        return END
    _, form, draft = max(waiting, key=lambda item: item[0])
    return await _on_text(update, context, w, form, draft)


async def start_apply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query, drop_keyboard=False)
    return await _route_start(update, context, who(update, context))


async def start_profile(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    with ctx.db.session() as session:
        draft = companies.start_profile(session, w.user, ctx.clock.now(), next_step="end")
        drafts.unpause(session, draft, ctx.clock.now())
    form = form_by_key(PROFILE, ctx.settings)
    if not draft.data:
        await reply(update, context, render(context, w.lang, "apply/profile_intro"))
    return await _show(update, context, w, form, draft, drafts.current_step(form, draft))


async def start_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    app_id = _int_arg(update, 2)
    try:
        with ctx.db.session() as session:
            draft = applications.begin_edit(session, w.user, app_id or 0, ctx.settings, ctx.clock.now())
    except Refused as err:
        await reply(update, context, render(context, w.lang, err.template, **err.params))
        return END
    return await _show_review(update, context, w, form_by_key(APPLICATION, ctx.settings), draft)


async def ask_withdraw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    app_id = _int_arg(update, 2) or 0
    with ctx.db.session() as session:
        rows = applications.list_for_user(session, w.user, ctx.settings, ctx.clock.now())
    mine = next((r for r in rows if r.application.id == app_id and r.can_change), None)
    if mine is None:
        await reply(update, context, render(context, w.lang, "errors/not_yours"))
        return END
    label = ctx.texts.label
    buttons = [
        [(label(w.lang, "buttons.withdraw_yes"), f"wd:y:{app_id}"), (label(w.lang, "buttons.withdraw_no"), "wd:n")]
    ]
    await reply(update, context, render(context, w.lang, "apply/withdraw_confirm", app=mine.application), buttons)
    return S.WITHDRAW


async def on_withdraw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    if parts[:2] != ["wd", "y"]:
        await reply(update, context, render(context, w.lang, "apply/withdraw_kept"))
        return END
    try:
        with ctx.db.session() as session:
            app = applications.withdraw(session, w.user, _int_arg(update, 2) or 0, ctx.settings, ctx.clock.now())
            cycle = cycles.get_cycle(session, Month.parse(app.month), ctx.settings)
    except Refused as err:
        await reply(update, context, render(context, w.lang, err.template, **err.params))
        return END
    await reply(update, context, render(context, w.lang, "apply/withdrawn", app=app, cycle=cycle))
    return END


def _int_arg(update: Update, index: int) -> int | None:
    parts = callback_parts(update)
    try:
        return int(parts[index])
    except (IndexError, ValueError):
        return None


# ---- answering -----------------------------------------------------------------------------------
def _answer(context: ContextTypes.DEFAULT_TYPE, form: Form, draft: FormDraft, raw: Any) -> Step:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        session.add(draft)
        return drafts.answer(
            session, form, draft, raw, ctx.clock.now(),
            db_check=companies.brn_check if form.key == PROFILE else None,
            store_file=applications.deck_store(ctx.settings),
        )  # fmt: skip


def _match_choice(context: ContextTypes.DEFAULT_TYPE, w: Who, form: Form, field: str, text: str) -> str | None:
    label = app_ctx(context).texts.label
    wanted = text.strip().casefold()
    for choice in form.question(field).choices:
        names = {choice.casefold()} | {label(lang, f"choices.{field}.{choice}").casefold() for lang in users.LANGUAGES}
        if wanted in names:
            return choice
    return None


Ctx = ContextTypes.DEFAULT_TYPE
DraftHandler = Callable[[Update, Ctx, Who, Form, FormDraft], Awaitable[int | None]]


def _with_draft(form_key: str, fn: DraftHandler) -> Handler:
    """Loads the user and the form's draft; a vanished draft sends the user back to /apply's start."""

    async def handle(update: Update, context: Ctx) -> int | None:
        w, draft = who_with_draft(update, context, form_key)
        form = form_by_key(form_key, app_ctx(context).settings)
        if draft is None:
            await settle_query(update.callback_query)
            return await _route_start(update, context, w)
        return await fn(update, context, w, form, draft)

    return handle


async def _reask(update: Update, context: Ctx, w: Who, form: Form, draft: FormDraft, code: str) -> int:
    """The answer was of the wrong kind: say which kind is wanted and ask the same again."""
    step = drafts.current_step(form, draft)
    if step.question is None:
        return await _show_review(update, context, w, form, draft, Invalid("expected_button"))
    return await _show(update, context, w, form, draft, Step("invalid", step.question, Invalid(code)))


_WANTED = {InputKind.TEXT: "expected_text", InputKind.FILE: "expected_file"}


def _wanted(form: Form, draft: FormDraft) -> str:
    step = drafts.current_step(form, draft)
    return _WANTED.get(step.question.kind, "expected_button") if step.question else "expected_button"


async def _on_text(update: Update, context: Ctx, w: Who, form: Form, draft: FormDraft) -> int:
    q = drafts.current_step(form, draft).question
    if q is None or q.kind in (InputKind.MULTI_CHOICE, InputKind.FILE):
        return await _reask(update, context, w, form, draft, _wanted(form, draft))
    raw: Any = update.effective_message.text if update.effective_message else ""
    if q.kind in (InputKind.CHOICE, InputKind.CONSENT) and not q.typed_choices:
        raw = _match_choice(context, w, form, q.field, raw or "")
        if raw is None:
            return await _reask(update, context, w, form, draft, "expected_button")
    return await _show(update, context, w, form, draft, _answer(context, form, draft, raw or ""))


async def _on_document(update: Update, context: Ctx, w: Who, form: Form, draft: FormDraft) -> int:
    q = drafts.current_step(form, draft).question
    msg = update.effective_message
    doc = msg.document if msg else None
    if q is None or doc is None or q.kind is not InputKind.FILE:
        return await _reask(update, context, w, form, draft, _wanted(form, draft))
    upload = FileInput(doc.file_id, doc.file_name or "", doc.mime_type, doc.file_size)
    try:
        q.validate(upload)  # type and size first: no download of a file that cannot pass
        tg_file = await context.bot.get_file(doc.file_id)
        content = bytes(await tg_file.download_as_bytearray())
    except Invalid as err:
        return await _show(update, context, w, form, draft, Step("invalid", q, err))
    except TelegramError as err:
        log.warning("download of %s failed: %s", doc.file_id, err)
        return await _reask(update, context, w, form, draft, "file_download")
    upload = FileInput(doc.file_id, doc.file_name or "", doc.mime_type, len(content), content)
    return await _show(update, context, w, form, draft, _answer(context, form, draft, upload))


async def _on_other(update: Update, context: Ctx, w: Who, form: Form, draft: FormDraft) -> int:
    """Stickers, photos, voice...: say what kind of answer is wanted and ask again."""
    return await _reask(update, context, w, form, draft, _wanted(form, draft))


async def _on_button(update: Update, context: Ctx, w: Who, form: Form, draft: FormDraft) -> int | None:
    ctx = app_ctx(context)
    parts = callback_parts(update)
    now = ctx.clock.now()
    op = parts[0] if parts else ""
    if op == "nav" and parts[1:2] == ["cancel"]:
        await settle_query(update.callback_query)
        return await _cancel(update, context, w)
    if op == "nav" and parts[1:2] == ["back"]:
        await settle_query(update.callback_query)
        return await _on_back(update, context, w, form, draft)
    field = (parts[2] if op == "nav" else parts[1]) if len(parts) > 2 or op == "d" else ""
    if field != draft.current:
        await settle_query(update.callback_query)
        step = drafts.current_step(form, draft)
        return await _show(update, context, w, form, draft, Step(step.kind, step.question, Invalid("stale_button")))
    if op == "t" and len(parts) == 3:
        query = update.callback_query
        assert query is not None
        with ctx.db.session() as session:
            session.add(draft)
            drafts.toggle(session, form, draft, parts[2], now)
        try:
            await query.edit_message_reply_markup(reply_markup=keyboard(_question_rows(context, w.lang, form, draft)))
        except TelegramError as err:
            log.debug("toggle markup unchanged: %s", err)
        await query.answer()  # after the edit, so the user sees the new ticks when the spinner stops
        return None
    await settle_query(update.callback_query)
    if op == "c" and len(parts) == 3:
        step = _answer(context, form, draft, parts[2])
    elif op == "d":
        step = _answer(context, form, draft, drafts.selection(draft, form.question(field)))
    elif op == "nav" and parts[1:2] in (["skip"], ["keep"]):
        with ctx.db.session() as session:
            session.add(draft)
            step = drafts.skip(session, form, draft, now)
    else:
        step = Step("invalid", form.question(field), Invalid("stale_button"))
    return await _show(update, context, w, form, draft, step)


async def _on_back(update: Update, context: Ctx, w: Who, form: Form, draft: FormDraft) -> int:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        session.add(draft)
        step = drafts.back(session, form, draft, ctx.clock.now())
    return await _show(update, context, w, form, draft, step)


# ---- review --------------------------------------------------------------------------------------
async def _on_review(update: Update, context: Ctx, w: Who, form: Form, draft: FormDraft) -> int:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    parts = callback_parts(update)
    if parts[1:2] == ["x"]:
        return await _cancel(update, context, w)
    if parts[1:2] == ["e"] and len(parts) == 3 and parts[2] in form.fields():
        with ctx.db.session() as session:
            session.add(draft)
            step = drafts.edit(session, form, draft, parts[2], ctx.clock.now())
        return await _show(update, context, w, form, draft, step)
    if parts[1:2] == ["ok"]:
        return await (_save_profile if form.key == PROFILE else _submit)(update, context, w, form, draft)
    return await _show_review(update, context, w, form, draft, Invalid("stale_button"))


async def _on_review_text(update: Update, context: Ctx, w: Who, form: Form, draft: FormDraft) -> int:
    if draft.current is not None:  # the draft moved on elsewhere (another device, a restart)
        return await _show(update, context, w, form, draft, drafts.current_step(form, draft))
    return await _show_review(update, context, w, form, draft, Invalid("expected_button"))


async def _save_profile(
    update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, form: Form, draft: FormDraft
) -> int:
    ctx = app_ctx(context)
    then = draft.next_step
    try:
        with ctx.db.session() as session:
            session.add(draft)
            company = companies.save_profile(session, w.user, draft, ctx.clock.now())
    except UserError as err:
        with ctx.db.session() as session:
            draft = drafts.get_draft(session, w.user.id, PROFILE) or draft
        step = drafts.current_step(form, draft)
        if err.code == "brn_taken":
            with ctx.db.session() as session:
                session.add(draft)
                step = drafts.edit(session, form, draft, "brn", ctx.clock.now())
        return await _show(update, context, w, form, draft, Step(step.kind, step.question, err))
    await reply(update, context, render(context, w.lang, "apply/profile_saved", company=company))
    if then == "apply":
        return await _route_start(update, context, w)
    return END


async def _submit(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, form: Form, draft: FormDraft) -> int:
    ctx = app_ctx(context)
    try:
        with ctx.db.session() as session:
            session.add(draft)
            app, is_new = applications.submit(session, w.user, draft, ctx.settings, ctx.clock.now())
            cycle = cycles.get_cycle(session, Month.parse(app.month), ctx.settings)
    except Refused as err:
        if err.code == "form_incomplete":
            with ctx.db.session() as session:
                session.add(draft)
                step = drafts.back(session, form, draft, ctx.clock.now()) if draft.current is None else None
            return await _show(update, context, w, form, draft, Step("ask", step.question if step else None, err))
        await reply(update, context, render(context, w.lang, err.template, **err.params), menu_rows(ctx, w.lang))
        return END
    key = "apply/submitted" if is_new else "apply/edited"
    await reply(update, context, render(context, w.lang, key, app=app, cycle=cycle), menu_rows(ctx, w.lang))
    return END


# ---- leaving -------------------------------------------------------------------------------------
async def _cancel(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who) -> int:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        drafts.pause(session, w.user.id or 0, (PROFILE, APPLICATION), ctx.clock.now())
    await reply(update, context, render(context, w.lang, "apply/cancelled"), menu_rows(app_ctx(context), w.lang))
    return END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    return await _cancel(update, context, who(update, context))


def _ending(fn: Handler) -> Handler:
    """A menu action that also leaves the conversation; the draft keeps every answer."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        ctx = app_ctx(context)
        user = who(update, context).user
        with ctx.db.session() as session:
            drafts.pause(session, user.id or 0, (PROFILE, APPLICATION), ctx.clock.now())
        await fn(update, context)
        return END

    return handle


async def stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button from an older screen while a conversation is in progress: say so, stay."""
    w = who(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer(render(context, w.lang, "errors/stale_button")[:200])


# ---- the graph -----------------------------------------------------------------------------------
def _organizer_commands() -> dict[str, Handler]:
    from handlers import broadcast, decisions, export, news, programme

    return {
        "programme": programme.show, "decisions": decisions.show, "export": export.send, "expo": news.show_expo,
        "subscribe": news.subscribe, "unsubscribe": news.unsubscribe, "broadcasts": news.history,
        "broadcast": broadcast.begin, "expo_edit": news.edit_expo,
    }  # fmt: skip


def conversation(db: Database) -> ConversationHandler:  # type: ignore[type-arg]
    def asking(key: str) -> list[Any]:
        return [
            CommandHandler("back", _with_draft(key, _on_back)),
            CallbackQueryHandler(_with_draft(key, _on_button), pattern=r"^(c|t|d|nav):"),
            MessageHandler(filters.TEXT & ~filters.COMMAND, _with_draft(key, _on_text)),
            MessageHandler(filters.Document.ALL, _with_draft(key, _on_document)),
            MessageHandler(~filters.COMMAND, _with_draft(key, _on_other)),
        ]

    def reviewing(key: str) -> list[Any]:
        return [
            CallbackQueryHandler(_with_draft(key, _on_review), pattern=r"^rv:"),
            CommandHandler("back", _with_draft(key, _on_back)),
            MessageHandler(~filters.COMMAND, _with_draft(key, _on_review_text)),
        ]

    leave = [CommandHandler(name, _ending(fn)) for name, fn in menu.MENU_COMMANDS.items()]
    leave += [CommandHandler("status", _ending(status.show)), CommandHandler("review", _ending(review.show_list))]
    leave += [CommandHandler("selection", _ending(selection.show)), CommandHandler("invite", _ending(invite.create))]
    leave += [CommandHandler(name, _ending(fn)) for name, fn in _organizer_commands().items()]
    leave += [CallbackQueryHandler(_ending(fn), pattern=f"^{data}$") for data, fn in menu.MENU_BUTTONS.items()]
    leave += [CallbackQueryHandler(_ending(status.show), pattern=r"^m:status$")]

    start = [
        CommandHandler("apply", start_apply),
        CallbackQueryHandler(start_apply, pattern=r"^m:apply$"),
        CommandHandler("profile", start_profile),
        CallbackQueryHandler(start_profile, pattern=r"^m:profile$"),
        CallbackQueryHandler(start_edit, pattern=r"^app:edit:\d+$"),
        CallbackQueryHandler(ask_withdraw, pattern=r"^app:wd:\d+$"),
    ]
    # Only text no state took: a draft's database lookup on every answer would cost each update a query.
    resumed = MessageHandler(filters.TEXT & ~filters.COMMAND & WaitingDraft(db), resume)

    with warnings.catch_warnings():
        # per_message=False is intended: the conversation follows the user, not one message.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[*start, resumed],
            states={
                S.PROFILE_ASK: asking(PROFILE),
                S.PROFILE_REVIEW: reviewing(PROFILE),
                S.APP_ASK: asking(APPLICATION),
                S.APP_REVIEW: reviewing(APPLICATION),
                S.WITHDRAW: [CallbackQueryHandler(on_withdraw, pattern=r"^wd:")],
            },
            # Re-entry through the fallbacks, after the state's own handlers: answers never pay for it.
            fallbacks=[
                CommandHandler("cancel", cancel),
                *start,
                *leave,
                CallbackQueryHandler(stale),
                MessageHandler(filters.COMMAND, _ending(menu.unknown)),
                resumed,
            ],
            name="apply",
            persistent=True,
        )

"""/review for the expert committee: the assigned applications, a card per application with the pitch
deck, scores on a labelled 1–5 scale with buttons, a comment, or a declared conflict of interest."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
)

from bot import display
from bot.calendar import Month
from bot.errors import Refused
from bot.forms import application_form
from bot.models import Application, Review, Role
from bot.services import cycles, drafts, review, users
from handlers import text_input
from handlers.common import (
    Keyboard,
    Who,
    app_ctx,
    callback_parts,
    has_role,
    keyboard,
    refuse,
    render,
    reply,
    settle_query,
    who,
)

log = logging.getLogger(__name__)
END = ConversationHandler.END
COMMENT_FORM = "review_comment"


async def show_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    if not has_role(context, w, Role.REVIEWER):
        await refuse(update, context, w)
        return
    with ctx.db.session() as session:
        mine = review.my_reviews(session, w.user)
        if not mine:
            await reply(update, context, render(context, w.lang, "review/empty"))
            return
        month = mine[0].application.month
        mine = [m for m in mine if m.application.month == month]
        cycle = cycles.get_cycle(session, Month.parse(month), ctx.settings)
        confirmed = review.confirmed(session, month)
    label = ctx.texts.label
    rows: Keyboard = [
        [(f"{label(w.lang, 'review_buttons.done' if m.complete else 'review_buttons.todo')} "
          f"{m.application.receipt_no} {m.application.product_name[:30]}", f"rw:o:{m.review.id}")]
        for m in mine
    ]  # fmt: skip
    html = render(
        context, w.lang, "review/list", month=month, done=sum(m.complete for m in mine), total=len(mine),
        deadline=review.review_deadline(cycle, ctx.settings), confirmed=confirmed,
    )  # fmt: skip
    await reply(update, context, html, rows)


def _card(
    context: ContextTypes.DEFAULT_TYPE, w: Who, rv: Review, app: Application, confirmed: bool
) -> tuple[str, Keyboard]:
    ctx = app_ctx(context)
    form = application_form(ctx.settings)
    answers = {f: getattr(app, f) for f in form.fields() if f != "deck"}
    deck_label = ctx.texts.label(w.lang, "fields.deck")
    rows = [r for r in display.review_rows(ctx.texts, w.lang, form, answers) if r["label"] != deck_label]
    criteria = [{"key": c, "value": getattr(rv, c)} for c in review.CRITERIA]
    html = render(context, w.lang, "review/card", app=app, rows=rows, criteria=criteria, comment=rv.comment,
                  confirmed=confirmed)  # fmt: skip
    label = ctx.texts.label
    buttons: Keyboard = []
    if not confirmed:
        for i, c in enumerate(review.CRITERIA):
            chosen = getattr(rv, c)
            buttons.append([(label(w.lang, f"criteria.{c}")[:14], f"rw:n:{rv.id}")])
            buttons.append([(("✅" if chosen == v else "") + str(v), f"rw:s:{rv.id}:{i}:{v}") for v in review.SCALE])
        buttons.append([(label(w.lang, "review_buttons.comment"), f"rw:c:{rv.id}"),
                        (label(w.lang, "review_buttons.conflict"), f"rw:x:{rv.id}")])  # fmt: skip
    buttons.append([(label(w.lang, "review_buttons.list"), "rw:l")])
    return html, buttons


def _load(context: ContextTypes.DEFAULT_TYPE, w: Who, review_id: int) -> tuple[Review, Application, bool] | None:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        rv = session.get(Review, review_id)
        if rv is None or rv.reviewer_user_id != w.user.id or rv.conflict:
            return None
        if not users.has_role(session, w.user, Role.REVIEWER, ctx.settings):
            return None
        app = session.get(Application, rv.application_id)
        assert app is not None
        return rv, app, review.confirmed(session, app.month)


async def open_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    w = who(update, context)
    parts = callback_parts(update)
    found = _load(context, w, int(parts[2])) if len(parts) == 3 and parts[2].isdigit() else None
    if found is None:
        await refuse(update, context, w)
        return
    rv, app, confirmed = found
    if app.deck_file_id and update.effective_chat is not None:
        try:
            await context.bot.send_document(update.effective_chat.id, app.deck_file_id)
        except TelegramError as err:  # a lost file must not hide the card
            log.warning("deck of application %s not sent: %s", app.id, err)
    html, buttons = _card(context, w, rv, app, confirmed)
    await reply(update, context, html, buttons)


async def on_score(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    try:
        review_id, index, value = int(parts[2]), int(parts[3]), int(parts[4])
        criterion = review.CRITERIA[index]
    except (IndexError, ValueError):
        await query.answer()
        await refuse(update, context, w)
        return
    try:
        with ctx.db.session() as session:
            rv = review.score(session, w.user, review_id, criterion, value, ctx.settings, ctx.clock.now())
            app = session.get(Application, rv.application_id)
    except Refused as err:
        await query.answer()
        await refuse(update, context, w, err.code)
        return
    assert app is not None
    html, buttons = _card(context, w, rv, app, False)
    try:
        await query.edit_message_text(html, parse_mode="HTML", reply_markup=keyboard(buttons))
    except TelegramError as err:
        log.debug("score card unchanged: %s", err)
    await query.answer(render(context, w.lang, "review/saved"))


async def ask_conflict(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    w = who(update, context)
    parts = callback_parts(update)
    found = _load(context, w, int(parts[2])) if len(parts) == 3 and parts[2].isdigit() else None
    if found is None or found[2]:
        await refuse(update, context, w, "selection_confirmed" if found else "not_allowed")
        return
    rv, app, _ = found
    label = app_ctx(context).texts.label
    rows = [
        [
            (label(w.lang, "review_buttons.conflict_yes"), f"rw:xy:{rv.id}"),
            (label(w.lang, "buttons.withdraw_no"), f"rw:o:{rv.id}"),
        ]
    ]
    await reply(update, context, render(context, w.lang, "review/conflict_ask", app=app), rows)


async def on_conflict(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    try:
        with ctx.db.session() as session:
            rv = review.declare_conflict(session, w.user, int(parts[2]), ctx.settings, ctx.clock.now())
            app = session.get(Application, rv.application_id)
    except (Refused, IndexError, ValueError) as err:
        await refuse(update, context, w, err.code if isinstance(err, Refused) else "not_allowed")
        return
    await reply(update, context, render(context, w.lang, "review/conflict_done", app=app))


async def ask_comment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    found = _load(context, w, int(parts[2])) if len(parts) == 3 and parts[2].isdigit() else None
    if found is None or found[2]:
        await refuse(update, context, w, "selection_confirmed" if found else "not_allowed")
        return END
    with ctx.db.session() as session:
        drafts.hold_input(session, w.user.id or 0, COMMENT_FORM, {"review_id": found[0].id}, ctx.clock.now())
    await reply(update, context, render(context, w.lang, "review/comment_ask"))
    return text_input.WAITING


async def on_comment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ctx = app_ctx(context)
    w = who(update, context)
    text = update.effective_message.text if update.effective_message else ""
    with ctx.db.session() as session:
        pending = drafts.take_input(session, w.user.id or 0, COMMENT_FORM)
        if pending is None:
            return END
        try:
            rv = review.comment(session, w.user, int(pending["review_id"]), text or "", ctx.settings, ctx.clock.now())
        except Refused as err:
            await refuse(update, context, w, err.code)
            return END
        app = session.get(Application, rv.application_id)
    assert app is not None
    await reply(update, context, render(context, w.lang, "review/comment_saved"))
    html, buttons = _card(context, w, rv, app, False)
    await reply(update, context, html, buttons)
    return END


async def ignore_label(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The criterion's name is a button only to label its row."""
    if update.callback_query is not None:
        await update.callback_query.answer()


def handlers() -> list[object]:
    comment = text_input.conversation(
        "review_comment", COMMENT_FORM, r"^rw:c:\d+$", ask_comment, on_comment, "review/comment_cancelled"
    )
    return [
        comment,
        CommandHandler("review", show_list),
        CallbackQueryHandler(show_list, pattern=r"^rw:l$"),
        CallbackQueryHandler(open_card, pattern=r"^rw:o:"),
        CallbackQueryHandler(on_score, pattern=r"^rw:s:"),
        CallbackQueryHandler(ask_conflict, pattern=r"^rw:x:"),
        CallbackQueryHandler(on_conflict, pattern=r"^rw:xy:"),
        CallbackQueryHandler(ignore_label, pattern=r"^rw:n:"),
    ]

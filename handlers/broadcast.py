"""/broadcast for organizers: audience, message or the expo announcement, a preview exactly as recipients
will see it, confirmation; then one message shows live progress and carries a button to stop the rest."""

from __future__ import annotations

import asyncio
import enum
import logging
import warnings

from sqlmodel import func, select
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import AppContext
from bot.errors import Refused
from bot.models import Application as ApplicationRow
from bot.models import Broadcast, Role, User
from bot.services import broadcasts, drafts, users
from handlers.common import (
    Keyboard,
    Who,
    app_ctx,
    callback_parts,
    held_input,
    keep_input,
    keyboard,
    refuse,
    render,
    reply,
    settle_query,
    who,
)

log = logging.getLogger(__name__)
END = ConversationHandler.END
HELD = "broadcast"


class S(enum.IntEnum):
    AUDIENCE = 1
    CONTENT = 2
    TEXT = 3
    CONFIRM = 4


async def begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ctx = app_ctx(context)
    w = who(update, context)
    with ctx.db.session() as session:
        if not users.has_role(session, w.user, Role.ORGANIZER, ctx.settings):
            await refuse(update, context, w)
            return END
        month = session.exec(select(func.max(ApplicationRow.month))).one()
        drafts.hold_input(session, w.user.id or 0, HELD, {"month": month}, ctx.clock.now())
    label = ctx.texts.label
    rows: Keyboard = [
        [(label(w.lang, f"audiences.{a}", month=month or "-"), f"bc:a:{a}")] for a in broadcasts.AUDIENCES
    ]
    rows.append([(label(w.lang, "broadcast_buttons.cancel"), "bc:x")])
    await reply(update, context, render(context, w.lang, "broadcast/audience_ask"), rows)
    return S.AUDIENCE


async def on_audience(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    w = who(update, context)
    parts = callback_parts(update)
    if len(parts) != 3 or parts[2] not in broadcasts.AUDIENCES:
        await refuse(update, context, w)
        return END
    keep_input(context, w, HELD, {**(held_input(context, w, HELD) or {}), "audience": parts[2]})
    label = app_ctx(context).texts.label
    b = "broadcast_buttons"
    rows: Keyboard = [
        [(label(w.lang, f"{b}.write"), "bc:k:text"), (label(w.lang, f"{b}.expo"), "bc:k:expo")],
        [(label(w.lang, f"{b}.cancel"), "bc:x")],
    ]
    await reply(update, context, render(context, w.lang, "broadcast/content_ask"), rows)
    return S.CONTENT


async def on_content(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    w = who(update, context)
    kind = callback_parts(update)[-1]
    held = {**(held_input(context, w, HELD) or {}), "kind": kind}
    keep_input(context, w, HELD, held)
    if kind == "text":
        await reply(update, context, render(context, w.lang, "broadcast/text_ask", max=broadcasts.MAX_TEXT))
        return S.TEXT
    return await _preview(update, context, w, held)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    w = who(update, context)
    text = (update.effective_message.text if update.effective_message else "") or ""
    held = {**(held_input(context, w, HELD) or {}), "text": text}
    keep_input(context, w, HELD, held)  # kept even when too long: nothing typed is lost
    return await _preview(update, context, w, held)


async def _preview(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, held: dict[str, object]) -> int:
    ctx = app_ctx(context)
    try:
        with ctx.db.session() as session:
            template, data = broadcasts.message(session, str(held.get("kind")), held.get("text"))  # type: ignore[arg-type]
            people = broadcasts.audience(session, str(held.get("audience")), held.get("month"))  # type: ignore[arg-type]
    except Refused as err:
        await reply(update, context, render(context, w.lang, err.template, **err.params))
        return S.TEXT if held.get("kind") == "text" else END
    await reply(update, context, ctx.texts.render(w.lang, template, **data))
    label = ctx.texts.label
    rows: Keyboard = [
        [(label(w.lang, "broadcast_buttons.send"), "bc:go"), (label(w.lang, "broadcast_buttons.cancel"), "bc:x")]
    ]
    audience = label(w.lang, f"audiences.{held.get('audience')}", month=held.get("month") or "-")
    await reply(
        update, context, render(context, w.lang, "broadcast/confirm", count=len(people), audience=audience), rows
    )
    return S.CONFIRM


async def on_send(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    chat = update.effective_chat
    assert chat is not None
    with ctx.db.session() as session:
        held = drafts.take_input(session, w.user.id or 0, HELD) or {}
        try:
            row = broadcasts.start(
                session, w.user, str(held.get("audience")), held.get("month"), str(held.get("kind")),
                held.get("text"), ctx.settings, ctx.clock.now(),
            )  # fmt: skip
        except Refused as err:
            await refuse(update, context, w, err)
            return END
        progress = broadcasts.progress(session, row.id or 0, ctx.clock.now())
    markup = keyboard([[(ctx.texts.label(w.lang, "broadcast_buttons.stop"), f"bc:stop:{row.id}")]])
    sent = await context.bot.send_message(
        chat.id, render(context, w.lang, "broadcast/progress", b=row, p=progress), parse_mode=ParseMode.HTML,
        reply_markup=markup,
    )  # fmt: skip
    with ctx.db.session() as session:
        broadcasts.set_progress_message(session, row.id or 0, str(chat.id), sent.message_id)
    dispatcher = context.application.bot_data.get("dispatcher")
    if dispatcher is not None:
        dispatcher.wake()
    follow(context.application, row.id or 0)
    return END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    with ctx.db.session() as session:
        drafts.take_input(session, w.user.id or 0, HELD)
    await reply(update, context, render(context, w.lang, "menu/input_cancelled"))
    return END


async def on_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    try:
        with ctx.db.session() as session:
            stopped = broadcasts.cancel(session, w.user, int(parts[2]), ctx.settings, ctx.clock.now())
    except (Refused, IndexError, ValueError) as err:
        await query.answer()
        await refuse(update, context, w, err if isinstance(err, Refused) else None)
        return
    await query.answer(render(context, w.lang, "broadcast/stopped", stopped=stopped)[:200])


# ---- live progress -------------------------------------------------------------------------------
def follow(application: Application, broadcast_id: int) -> None:  # type: ignore[type-arg]
    """Keeps the organizer's progress message up to date until the broadcast ends (also after a restart)."""
    trackers: dict[int, asyncio.Task[None]] = application.bot_data.setdefault("trackers", {})
    if broadcast_id not in trackers or trackers[broadcast_id].done():
        trackers[broadcast_id] = asyncio.create_task(
            _track(application, broadcast_id), name=f"broadcast-{broadcast_id}"
        )


async def _track(application: Application, broadcast_id: int, interval: float = 1.0) -> None:  # type: ignore[type-arg]
    ctx: AppContext = application.bot_data["app"]
    shown = ""
    while True:
        try:
            with ctx.db.session() as session:
                progress = broadcasts.progress(session, broadcast_id, ctx.clock.now())
                row = session.get(Broadcast, broadcast_id)
                owner = session.get(User, row.created_by) if row else None
            if row is None or row.progress_message_id is None or owner is None:
                return
            lang = users.language_of(owner)
            text = ctx.texts.render(lang, "broadcast/progress", b=row, p=progress)
            live = progress.status == "sending"
            if text != shown:
                markup = (
                    keyboard([[(ctx.texts.label(lang, "broadcast_buttons.stop"), f"bc:stop:{row.id}")]])
                    if live
                    else None
                )
                await application.bot.edit_message_text(
                    text, chat_id=int(row.progress_chat_id or 0), message_id=row.progress_message_id,
                    parse_mode=ParseMode.HTML, reply_markup=markup,
                )  # fmt: skip
                shown = text
            if not live:
                return
        except BadRequest as err:
            if "not modified" not in str(err):
                log.warning("progress of broadcast %s: %s", broadcast_id, err)
                return
        except TelegramError as err:
            log.info("progress of broadcast %s not updated now: %s", broadcast_id, err)
        await asyncio.sleep(interval)


def resume(application: Application) -> None:  # type: ignore[type-arg]
    ctx: AppContext = application.bot_data["app"]
    with ctx.db.session() as session:
        for row in broadcasts.in_progress(session):
            follow(application, row.id or 0)


async def stop_trackers(application: Application) -> None:  # type: ignore[type-arg]
    for task in application.bot_data.pop("trackers", {}).values():
        task.cancel()


def handlers() -> list[object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        flow = ConversationHandler(
            entry_points=[CommandHandler("broadcast", begin)],
            states={
                S.AUDIENCE: [CallbackQueryHandler(on_audience, pattern=r"^bc:a:")],
                S.CONTENT: [CallbackQueryHandler(on_content, pattern=r"^bc:k:(text|expo)$")],
                S.TEXT: [MessageHandler(filters.TEXT & ~filters.COMMAND, on_text)],
                S.CONFIRM: [CallbackQueryHandler(on_send, pattern=r"^bc:go$")],
            },
            fallbacks=[CommandHandler("cancel", cancel), CallbackQueryHandler(cancel, pattern=r"^bc:x$")],
            name="broadcast",
            persistent=True,
            allow_reentry=True,
        )
    return [flow, CallbackQueryHandler(on_stop, pattern=r"^bc:stop:\d+$")]

"""/programme for organizers: venue, start, slot length and running order of Pitching Day; publish."""

from __future__ import annotations

import datetime as dt
import re

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
)

from bot.calendar import Month
from bot.errors import Refused
from bot.models import Role
from bot.services import cycles, drafts, programme
from handlers import text_input as text_input_conv
from handlers.common import Keyboard, Who, app_ctx, callback_parts, has_role, refuse, render, reply, settle_query, who

END = ConversationHandler.END
TEXT_INPUT = "programme_text"


async def _board(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, month: str) -> None:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        prog = programme.get(session, month, ctx.settings, ctx.clock.now())
        slots = programme.slots(session, prog)
    label = ctx.texts.label
    b = "programme_buttons"
    buttons: Keyboard = []
    if slots:
        buttons.append([(label(w.lang, f"{b}.venue"), f"pg:v:{month}"), (label(w.lang, f"{b}.start"), f"pg:s:{month}"),
                        (label(w.lang, f"{b}.slot"), f"pg:l:{month}")])  # fmt: skip
        ups = [(label(w.lang, f"{b}.up", n=s.position), f"pg:u:{month}:{s.application.id}") for s in slots[1:]]
        buttons += [ups[i : i + 4] for i in range(0, len(ups), 4)]
        buttons.append([(label(w.lang, f"{b}.publish"), f"pg:p:{month}")])
    html = render(context, w.lang, "programme/board", month=month, version=prog.version, venue=prog.venue,
                  starts_at=prog.starts_at, slot_minutes=prog.slot_minutes, slots=slots)  # fmt: skip
    await reply(update, context, html, buttons)


def _default_month(context: ContextTypes.DEFAULT_TYPE) -> str:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        found = programme.month_with_selection(session, ctx.clock.now())
    return found or str(Month.of(ctx.clock.now(), ctx.settings.tz))


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    w = who(update, context)
    if not has_role(context, w, Role.ORGANIZER):
        await refuse(update, context, w)
        return
    month = (
        context.args[0] if context.args and re.fullmatch(r"\d{4}-\d{2}", context.args[0]) else _default_month(context)
    )
    await _board(update, context, w, month)


async def on_up(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    try:
        with ctx.db.session() as session:
            programme.move_up(session, w.user, parts[2], int(parts[3]), ctx.settings, ctx.clock.now())
    except (Refused, IndexError, ValueError) as err:
        await refuse(update, context, w, err if isinstance(err, Refused) else None)
        return
    await _board(update, context, w, parts[2])


async def on_publish(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    try:
        with ctx.db.session() as session:
            sent = programme.publish(session, w.user, parts[2], ctx.settings, ctx.clock.now())
            version = programme.get(session, parts[2], ctx.settings, ctx.clock.now()).version
    except (Refused, IndexError) as err:
        await refuse(update, context, w, err if isinstance(err, Refused) else None)
        return
    dispatcher = context.application.bot_data.get("dispatcher")
    if dispatcher is not None:
        dispatcher.wake()
    await reply(update, context, render(context, w.lang, "programme/published", version=version, sent=sent))


_ASK = {"v": "venue", "s": "start", "l": "slot"}


async def ask_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    if not has_role(context, w, Role.ORGANIZER) or len(parts) != 3 or parts[1] not in _ASK:
        await refuse(update, context, w)
        return END
    what, month = _ASK[parts[1]], parts[2]
    with ctx.db.session() as session:
        drafts.hold_input(session, w.user.id or 0, TEXT_INPUT, {"month": month, "what": what}, ctx.clock.now())
        cycle = cycles.get_cycle(session, Month.parse(month), ctx.settings)
    await reply(update, context, render(context, w.lang, f"programme/{what}_ask", pitch_at=cycle.pitch_at))
    return text_input_conv.WAITING


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ctx = app_ctx(context)
    w = who(update, context)
    text = (update.effective_message.text if update.effective_message else "") or ""
    now = ctx.clock.now()
    with ctx.db.session() as session:
        held = drafts.get_draft(session, w.user.id or 0, TEXT_INPUT)
        if held is None:
            return END
        month, what = held.data["month"], held.data["what"]
        try:
            if what == "venue":
                programme.set_venue(session, w.user, month, text, ctx.settings, now)
            elif what == "start":
                match = re.fullmatch(r"\s*(\d{1,2})[:시]\s*(\d{2})\s*분?\s*", text)
                if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
                    raise Refused("time_format")
                day = cycles.get_cycle(session, Month.parse(month), ctx.settings).pitch_at.astimezone(ctx.settings.tz)
                when = dt.datetime.combine(day.date(), dt.time(int(match.group(1)), int(match.group(2))),
                                           tzinfo=ctx.settings.tz)  # fmt: skip
                programme.set_start(session, w.user, month, when, ctx.settings, now)
            else:
                if not text.strip().isdigit():
                    raise Refused("number_format")
                programme.set_slot_minutes(session, w.user, month, int(text.strip()), ctx.settings, now)
        except Refused as err:
            # A second chance: the question stands until a good answer or /cancel.
            await refuse(update, context, w, err)
            return text_input_conv.WAITING
        drafts.take_input(session, w.user.id or 0, TEXT_INPUT)
    await _board(update, context, w, month)
    return END


def handlers() -> list[object]:
    text_input = text_input_conv.conversation(
        "programme_text", TEXT_INPUT, r"^pg:[vsl]:", ask_text, on_text, "menu/input_cancelled"
    )
    return [
        text_input,
        CommandHandler("programme", show),
        CallbackQueryHandler(on_up, pattern=r"^pg:u:"),
        CallbackQueryHandler(on_publish, pattern=r"^pg:p:"),
    ]

"""Shared plumbing of the Telegram adapters: the app context, the user, replies and keyboards."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.context import AppContext
from bot.errors import Refused
from bot.models import FormDraft, Role, User
from bot.services import drafts, users
from bot.split import split_html

log = logging.getLogger(__name__)
CHANNEL = "telegram"


def app_ctx(context: ContextTypes.DEFAULT_TYPE) -> AppContext:
    return context.application.bot_data["app"]  # type: ignore[no-any-return]


@dataclass
class Who:
    user: User
    lang: str


def who(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Who:
    return who_with_draft(update, context, None)[0]


def who_with_draft(
    update: Update, context: ContextTypes.DEFAULT_TYPE, form_key: str | None
) -> tuple[Who, FormDraft | None]:
    """The user who sent the update and, with a form's key, their draft of that form, in one query."""
    ctx = app_ctx(context)
    tg = update.effective_user
    assert tg is not None
    with ctx.db.session() as session:
        user, draft = users.ensure_user_with_draft(
            session, CHANNEL, str(tg.id), form_key, ctx.clock.now(), display_name=tg.full_name,
            client_language=tg.language_code,
        )  # fmt: skip
    return Who(user, users.language_of(user)), draft


Keyboard = list[list[tuple[str, str]]]


def keyboard(rows: Keyboard) -> InlineKeyboardMarkup | None:
    rows = [row for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, html: str, rows: Keyboard | None = None) -> None:
    """Sends one message, or several parts when it is too long for Telegram (the keyboard on the last)."""
    chat = update.effective_chat
    assert chat is not None
    parts = split_html(html, MessageLimit.MAX_TEXT_LENGTH)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await context.bot.send_message(
            chat.id, part, parse_mode=ParseMode.HTML, reply_markup=keyboard(rows or []) if last else None,
            disable_web_page_preview=True,
        )  # fmt: skip


async def settle_query(query: CallbackQuery | None, drop_keyboard: bool = True) -> None:
    """Answers a pressed button and, usually, takes the keyboard off the message it was on."""
    if query is None:
        return
    await query.answer()
    if drop_keyboard and query.message is not None and getattr(query.message, "reply_markup", None):
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except BadRequest as err:
            log.debug("keyboard already gone: %s", err)


def menu_rows(ctx: AppContext, lang: str) -> Keyboard:
    label = ctx.texts.label
    return [
        [(label(lang, "buttons.apply"), "m:apply")],
        [(label(lang, "buttons.status"), "m:status"), (label(lang, "buttons.schedule"), "m:schedule")],
        [(label(lang, "buttons.profile"), "m:profile"), (label(lang, "buttons.help"), "m:help")],
        [(label(lang, "buttons.language"), "m:lang")],
    ]


def callback_parts(update: Update) -> list[str]:
    query = update.callback_query
    return (query.data or "").split(":") if query is not None and isinstance(query.data, str) else []


def as_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def render(context: ContextTypes.DEFAULT_TYPE, lang: str, key: str, **data: Any) -> str:
    return app_ctx(context).texts.render(lang, key, **data)


def has_role(context: ContextTypes.DEFAULT_TYPE, w: Who, role: Role) -> bool:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        return users.has_role(session, w.user, role, ctx.settings)


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, err: Refused | str | None = None) -> None:
    """Tells the user why not: a service's refusal, an error code, or by default "not allowed"."""
    if not isinstance(err, Refused):
        err = Refused(err or "not_allowed")
    await reply(update, context, render(context, w.lang, err.template, **err.params))


def held_input(context: ContextTypes.DEFAULT_TYPE, w: Who, key: str) -> dict[str, Any] | None:
    """What a multi-step input holds so far (see drafts.hold_input), or None."""
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        found = drafts.get_draft(session, w.user.id or 0, key)
        return dict(found.data) if found else None


def keep_input(context: ContextTypes.DEFAULT_TYPE, w: Who, key: str, data: dict[str, Any]) -> None:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        drafts.hold_input(session, w.user.id or 0, key, data, ctx.clock.now())

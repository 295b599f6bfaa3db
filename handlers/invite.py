"""/invite for organizers: a single-use, expiring link that makes its opener a reviewer or an official."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.errors import Refused
from bot.models import Role
from bot.services import invitations
from handlers.common import Who, app_ctx, render, reply, who


async def create(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    w = who(update, context)
    args = context.args or []
    try:
        role = Role(args[0]) if args else None
    except ValueError:
        role = None
    if role not in (Role.REVIEWER, Role.OFFICIAL):
        await reply(update, context, render(context, w.lang, "invite/usage"))
        return
    department = " ".join(args[1:]).strip() or None
    try:
        with ctx.db.session() as session:
            inv = invitations.create(session, w.user, role, ctx.settings, ctx.clock.now(), department)
    except Refused as err:
        await reply(update, context, render(context, w.lang, err.template, **err.params))
        return
    link = f"https://t.me/{context.bot.username}?start={invitations.payload(inv)}"
    html = render(context, w.lang, "invite/created", role=inv.role, department=inv.department,
                  expires_at=inv.expires_at, link=link)  # fmt: skip
    await reply(update, context, html)


async def accept(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, payload: str) -> None:
    """Called by /start when its payload is an invitation."""
    ctx = app_ctx(context)
    try:
        with ctx.db.session() as session:
            inv = invitations.accept(session, w.user, payload, ctx.clock.now())
    except Refused as err:
        await reply(update, context, render(context, w.lang, err.template, **err.params))
        return
    await reply(update, context, render(context, w.lang, "invite/accepted", role=inv.role, department=inv.department))


def handlers() -> list[object]:
    return [CommandHandler("invite", create)]

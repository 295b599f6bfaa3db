"""/status: the company's applications and the stage of each, with edit and withdraw while open."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.forms import APPLICATION, application_form
from bot.services import applications, companies, drafts
from handlers.common import Keyboard, app_ctx, reply, settle_query, who


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    now = ctx.clock.now()
    label = ctx.texts.label
    with ctx.db.session() as session:
        company = companies.company_of(session, w.user)
        if company is None:
            await reply(update, context, ctx.texts.render(w.lang, "status/no_company"))
            return
        rows = applications.list_for_user(session, w.user, ctx.settings, now)
        draft = drafts.get_draft(session, w.user.id, APPLICATION)
    draft_info = None
    if draft is not None and draft.application_id is None:
        form = application_form(ctx.settings)
        draft_info = {"month": draft.month, "answered": drafts.answered(form, draft), "total": len(form.questions)}
    if not rows and draft_info is None:
        await reply(update, context, ctx.texts.render(w.lang, "status/empty"))
        return
    buttons: Keyboard = []
    for row in rows:
        if row.can_change:
            app = row.application
            buttons.append(
                [
                    (f"{label(w.lang, 'buttons.edit')} {app.receipt_no}", f"app:edit:{app.id}"),
                    (f"{label(w.lang, 'buttons.withdraw')} {app.receipt_no}", f"app:wd:{app.id}"),
                ]
            )
    html = ctx.texts.render(w.lang, "status/list", company=company, rows=rows, draft=draft_info)
    await reply(update, context, html, buttons)


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    return [CommandHandler("status", show), CallbackQueryHandler(show, pattern=r"^m:status$")]

"""A month's records as an Excel workbook: applications, scores, selection, programme and decisions.

Every code (a status, a company size, a technology field) is written in the reader's language, the selection
as it was confirmed, and every text as text: a company named ``=HYPERLINK(...)`` must not become a live
formula in the organizers' file."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, col, select

from bot import validators
from bot.models import Application, Company, Programme, Review, Selection, User
from bot.services import decisions, departments, export_results, policies, programme, review, selection, sheets
from bot.settings import Settings
from bot.texts import Texts


def workbook(
    session: Session,
    month: str,
    settings: Settings,
    now: dt.datetime,
    texts: Texts,
    lang: str,
    actor: User | None = None,
) -> bytes:
    """The month's workbook; ``actor`` (a person asking in chat) must be an organizer. The command line, run
    by whoever operates the server, passes none."""
    if actor is not None:
        policies.require(session, actor, policies.organizer, settings)
    words = texts.catalog[lang]["export"]
    yes = words["yes"]
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]

    def local(value: dt.datetime | None) -> str:
        return value.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M") if value else ""

    def label(prefix: str, code: str | None) -> str:
        try:
            return texts.label(lang, f"{prefix}.{code}") if code else ""
        except KeyError:  # a code no longer offered (an old size, a retired field) still shows, as it is
            return str(code)

    def sheet(index: int, rows: list[list[Any]]) -> None:
        kind = ("applications", "scores", "selection", "programme", "decisions")[index]
        sheets.write(wb, words["sheets"][index], words[kind], rows)

    apps = session.exec(
        select(Application, Company).join(Company).where(Application.month == month).order_by(col(Application.id))
    ).all()
    sheet(
        0,
        [
            [
                a.receipt_no,
                c.name,
                validators.format_brn(c.brn),
                c.representative,
                label("choices.size", c.size),
                c.contact_name,
                texts.phone(lang, c.phone),
                c.email,
                a.product_name,
                ", ".join(label("choices.tech_fields", f) for f in a.tech_fields),
                a.trl,
                a.summary,
                a.city_use,
                departments.names(session, a.department_ids),
                a.price or "",
                a.deck_file_name or "",
                local(a.submitted_at),
                label("status", a.status),
            ]
            for a, c in apps
        ],
    )

    reviews = session.exec(
        select(Review, Application, User)
        .join(Application, col(Review.application_id) == col(Application.id))
        .join(User, col(Review.reviewer_user_id) == col(User.id))
        .where(Application.month == month)
        .order_by(col(Application.id), col(Review.id))
    ).all()
    sheet(
        1,
        [
            [
                a.receipt_no,
                u.display_name or f"{texts.label(lang, 'roles.reviewer')} #{u.id}",  # as the reviewers' board
                r.innovation,
                r.safety,
                r.applicability,
                r.economy,
                round(review.weighted(r, settings.score_weights), 2) if review.is_complete(r) else None,
                r.comment or "",
                yes if r.conflict else "",
            ]
            for r, a, u in reviews
        ],
    )

    confirmed = session.get(Selection, month)
    result = _confirmed(confirmed, lambda key: label("status", key))
    ranked = review.ranking(session, month, settings, confirmed)
    sheet(
        2,
        [
            [
                i,
                r.application.receipt_no,
                r.company.name,
                r.mean,
                r.reviews,
                r.spread,
                result.get(r.application.id, ""),
                label("placements", r.application.placement),
                r.application.feedback or "",
                departments.names(session, r.application.responsible_department_ids),
                local(confirmed.confirmed_at) if confirmed else "",
                local(confirmed.released_at) if confirmed else "",
            ]
            for i, r in enumerate(ranked, start=1)
        ],
    )

    stored = session.get(Programme, month)
    slots = programme.slots(session, stored) if stored else []
    sheet(
        3,
        [
            [
                s.position,
                local(s.starts_at),
                local(s.ends_at),
                s.company.name,
                s.application.product_name,
                texts.place(lang, stored.venue) if stored else "",
                stored.version if stored else 0,
            ]
            for s in slots
        ],
    )

    rows = decisions.board(session, month, settings, now)
    sheet(
        4,
        [
            [
                r.application.receipt_no,
                r.company.name,
                r.decision.department,
                texts.label(lang, f"decision_status.{r.decision.status}"),
                r.decision.amount or "",
                r.decision.timing or "",
                r.decision.reason or "",
                local(r.decision.decided_at),
                r.decision.corrections,
                local(r.cycle.decision_deadline_at),
                yes if r.overdue else "",
            ]
            for r in rows
        ],
    )

    export_results.add_sheet(wb, session, month, texts, lang, settings, local)

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _confirmed(confirmed: Selection | None, name: Callable[[str], str]) -> dict[int, str]:
    """Each application's result as the organizers confirmed it; nothing before they have. (Recomputing it
    from today's settings would call a waitlisted company selected.)"""
    return {app_id: name(key) for app_id, key in selection.results_by_application(confirmed).items()}

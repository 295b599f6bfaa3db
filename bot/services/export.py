"""A month's records as an Excel workbook: applications, scores, selection, programme and decisions."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session, col, select

from bot import validators
from bot.models import Application, Company, Programme, Review, User
from bot.services import decisions, departments, policies, programme, review, selection
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

    def sheet(index: int, rows: list[list[Any]]) -> None:
        ws = wb.create_sheet(words["sheets"][index])
        ws.append(words[("applications", "scores", "selection", "programme", "decisions")[index]])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)

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
                c.contact_name,
                validators.format_phone(c.phone),
                c.email,
                a.product_name,
                ", ".join(a.tech_fields),
                a.trl,
                a.summary,
                a.city_use,
                departments.names(session, a.department_ids),
                a.price or "",
                a.deck_file_name or "",
                local(a.submitted_at),
                a.status,
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
                u.display_name or u.external_id,
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

    prop = selection.proposal(session, month, settings)
    groups = (("selected", prop.selected), ("waitlisted", prop.waitlisted), ("not_selected", prop.not_selected))
    result = {r.application.id: texts.label(lang, f"results.{key}") for key, group in groups for r in group}
    ranked = review.ranking(session, month, settings)
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
                r.application.placement or "",
                r.application.feedback or "",
                departments.names(session, r.application.responsible_department_ids),
                local(prop.confirmed.confirmed_at) if prop.confirmed else "",
                local(prop.confirmed.released_at) if prop.confirmed else "",
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
                stored.venue if stored else "",
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

    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

"""The export's sheet of results with their reasons and the appeals (이의신청): one row per application
ranked, kept apart from the other sheets so that it adds to the workbook without changing them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from sqlmodel import Session, col, select

from bot.models import Appeal, Selection
from bot.services import results, selection, sheets
from bot.settings import Settings
from bot.texts import Texts


def rows(
    session: Session, month: str, texts: Texts, lang: str, settings: Settings, local: Callable[[Any], str]
) -> list[list[Any]]:
    chosen = session.get(Selection, month)
    explained = results.explain(session, month, settings, chosen)
    placed = selection.results_by_application(chosen)
    found = select(Appeal).where(col(Appeal.application_id).in_(list(explained)))
    appeals = {a.application_id: a for a in session.exec(found).all()}

    def label(path: str) -> str:
        return texts.label(lang, path)

    def appeal(a: Appeal | None) -> list[Any]:
        if a is None:
            return [""] * 8
        return [label(f"appeal_grounds.{a.ground}"), a.details, a.file_name or "", local(a.filed_at),
                label(f"appeal_status.{a.status}"), a.reason or "", local(a.decided_at),
                local(a.promoted_at)]  # fmt: skip

    out = []
    for app_id, e in explained.items():
        result = placed.get(app_id)
        means = [e.criteria.get(c) for c in results.review.CRITERIA]
        out.append([
            e.ranked.application.receipt_no, e.ranked.company.name, label(f"results.{result}") if result else "",
            label(f"bands.{e.band}"), "" if e.ranked.mean is None else e.ranked.mean,
            *("" if m is None else m for m in means), e.ranked.application.feedback or "", *appeal(appeals.get(app_id)),
        ])  # fmt: skip
    return out


def add_sheet(
    wb: Workbook,
    session: Session,
    month: str,
    texts: Texts,
    lang: str,
    settings: Settings,
    local: Callable[[dt.datetime | None], str],
) -> None:
    words = texts.catalog[lang]["appeal_export"]
    sheets.write(wb, words["sheet"], words["columns"], rows(session, month, texts, lang, settings, local))

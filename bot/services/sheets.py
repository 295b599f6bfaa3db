"""One worksheet of an export, written the same way everywhere: a bold header, frozen, sized columns, and
every text stored as text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font


def write(wb: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                # openpyxl reads a leading "=" as a formula (and Excel "+", "-", "@" too): what people typed
                # is text, never a formula in the organizers' file.
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    for column in ws.columns:
        width = max(len(str(c.value or "")) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)

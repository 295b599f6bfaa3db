"""/export for organizers: the month's records as an Excel file."""

from __future__ import annotations

from bot.calendar import Month
from bot.dialogue.flow import Flow
from bot.dialogue.model import Attachment
from bot.dialogue.tokens import month_typed
from bot.dialogue.turn import Turn
from bot.services import export, policies, programme

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportFlow(Flow):
    name = "export"
    policy = staticmethod(policies.organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        t.end()
        wanted = month_typed(args)
        month = str(wanted) if wanted else None
        month = month or programme.month_with_selection(t.session, t.now) or str(Month.of(t.now, t.settings.tz))
        content = export.workbook(t.session, month, t.settings, t.now, t.texts, t.lang, actor=t.user)
        t.show("export/caption", {"month": month},
               attachments=[Attachment(f"pitchday-{month}.xlsx", content, mime=XLSX)])  # fmt: skip


FLOW = ExportFlow()

"""/export for organizers: the month's records as an Excel file."""

from __future__ import annotations

from bot.dialogue.flow import Flow
from bot.dialogue.flows.programme import month_asked
from bot.dialogue.model import Attachment
from bot.dialogue.turn import Turn
from bot.services import export, files, policies


class ExportFlow(Flow):
    name = "export"
    policy = staticmethod(policies.organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        t.end()
        month = month_asked(t, args)
        content = export.workbook(t.session, month, t.settings, t.now, t.texts, t.lang, actor=t.user)
        t.show("export/caption", {"month": month},
               attachments=[Attachment(f"pitchday-{month}.xlsx", content, mime=files.SPREADSHEET)])  # fmt: skip


FLOW = ExportFlow()

"""/link: one person on two channels. Without a code it gives one (valid ten minutes) to type on the other
channel; with a code it joins this account to the one that made it, and the company follows."""

from __future__ import annotations

from bot.dialogue.flow import Flow
from bot.dialogue.turn import Turn
from bot.errors import Refused
from bot.services import accounts, companies


class LinkFlow(Flow):
    name = "link"

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        t.end()
        if not args:
            code = accounts.new_code(t.session, t.user, t.now)
            t.say("link/code", code=f"{code.code[:4]}-{code.code[4:]}", expires_at=code.expires_at,
                  here=t.account.channel)  # fmt: skip
            return
        try:
            main = accounts.join(t.session, t.account, "".join(args), t.now)
        except Refused as err:
            t.refuse(err)
            return
        company = companies.company_of(t.session, main)
        t.say("link/joined", company=company.name if company else None, other=main.channel)


FLOW = LinkFlow()

"""/invite for organizers: a single-use, expiring invitation that makes its opener a reviewer or an
official; opened with /start and the invitation's payload."""

from __future__ import annotations

from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.turn import Turn
from bot.errors import Refused, UserError
from bot.forms import AFFILIATION, PLEDGE
from bot.models import FormDraft, Role
from bot.services import invitations, pledge, policies
from bot.validators import format_brn


class InviteFlow(Flow):
    name = "invite"
    policy = staticmethod(policies.anyone)  # accepting is for anyone; creating is checked below

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        role = {"reviewer": Role.REVIEWER, "official": Role.OFFICIAL}.get(args[0] if args else "")
        if role is None:
            t.say("invite/usage")
            return
        department = " ".join(args[1:]).strip() or None
        try:
            inv = invitations.create(t.session, t.user, role, t.settings, t.now, department)
        except UserError as err:
            t.refuse(err)
            return
        # Telegram opens an invitation from a link; elsewhere it is typed, as a code.
        telegram = t.engine.links.get("telegram")
        link = telegram(invitations.payload(inv)) if telegram is not None else None
        t.say("invite/created", role=inv.role, department=inv.department, expires_at=inv.expires_at, link=link,
              code=invitations.payload(inv))  # fmt: skip

    def accept(self, t: Turn, payload: str) -> None:
        try:
            inv = invitations.accept(t.session, t.user, payload, t.now, t.settings)
        except Refused as err:
            t.refuse(err)
            return
        t.end()
        t.say("invite/accepted", role=inv.role, department=inv.department)
        if inv.role != Role.REVIEWER.value:
            return
        if pledge.accepted(t.session, t.user):  # whom they work for, so that company is never theirs to review
            FORM.open(t, AFFILIATION)
        else:  # the pledge first, like a company's consent; the affiliation follows it
            FORM.open(t, PLEDGE, ref={"then": AFFILIATION})


FLOW = InviteFlow()


def _affiliation(t: Turn, draft: FormDraft) -> None:
    brn = draft.data.get("brn") or None
    invitations.set_affiliation(t.session, t.user, brn, t.now)
    t.session.delete(draft)
    t.say("invite/affiliation_saved", brn=format_brn(brn) if brn else None)


register(FormSpec(AFFILIATION, _affiliation, review=False, cancelled=_affiliation))

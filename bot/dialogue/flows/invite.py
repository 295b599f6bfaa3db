"""/invite for organizers: a single-use, expiring invitation that makes its opener a reviewer or an
official; opened with /start and the invitation's payload."""

from __future__ import annotations

from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register, search_start
from bot.dialogue.model import Action, L
from bot.dialogue.tokens import str_arg
from bot.dialogue.turn import Turn
from bot.errors import Refused, UserError
from bot.forms import AFFILIATION, INVITE_OFFICIAL, INVITEE_NAME, PLEDGE
from bot.models import Department, FormDraft, Role
from bot.services import decisions, departments, invitations, pledge, policies
from bot.texts import LANGUAGES
from bot.validators import Invalid, format_brn, line


class InviteFlow(Flow):
    name = "invite"
    policy = staticmethod(policies.anyone)  # accepting is for anyone; creating is checked below

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        role, words = _role_typed(t, " ".join(args))
        if role is None:
            if policies.organizer(policies.roles_of(t.session, t.user, t.settings)):
                t.show("invite/usage", choices=[self.choice(L(f"roles.{r.value}"), "new", r.value, entry=True)
                                                for r in (Role.REVIEWER, Role.OFFICIAL)], columns=2)  # fmt: skip
            else:
                t.say("invite/usage")
            return
        if role is Role.OFFICIAL:
            if not policies.organizer(policies.roles_of(t.session, t.user, t.settings)):
                t.refuse("not_allowed")
                return
            try:
                words = line(200, 1)(words) if words else ""  # what is typed is shown again: the same checks
            except Invalid as err:
                t.refuse(err)
                return
            found = departments.search(t.session, words) if words else []
            if len(found) == 1:
                self.create(t, role, found[0].id)
            elif found:  # several: picked from those
                FORM.open(t, INVITE_OFFICIAL, pending=search_start("department", words))
            else:  # picked from the whole list
                FORM.open(t, INVITE_OFFICIAL, error=Invalid("department_unknown", text=words) if words else None)
            return
        self.create(t, role, None)

    def create(self, t: Turn, role: Role, department_id: int | None) -> None:
        try:
            inv = invitations.create(t.session, t.user, role, t.settings, t.now, department_id)
        except UserError as err:
            t.refuse(err)
            return
        department = t.session.get(Department, inv.department_id) if inv.department_id else None
        # A channel that opens a chat from a link (Telegram) gives one; on every channel the code can be typed.
        code = invitations.payload(inv)
        links = {channel: make(code) for channel, make in t.engine.links.items()}
        t.say("invite/created", role=inv.role, department=department.name if department else None,
              expires_at=inv.expires_at, deep_links=links, code=invitations.shown(inv))  # fmt: skip

    def on_action(self, t: Turn, action: Action) -> None:
        if action.name == "new":
            self.command(t, "invite", (str_arg(action, 0) or "",))
        else:
            t.engine.stale(t)

    def accept(self, t: Turn, payload: str) -> None:
        before = decisions.official_departments(t.session, t.user)
        try:
            inv = invitations.accept(t.session, t.user, payload, t.now, t.settings)
        except Refused as err:
            t.refuse(err)
            return
        t.end()
        department = t.session.get(Department, inv.department_id) if inv.department_id else None
        # An official serves one department: a second invitation moves them, which is said (it was silent, and
        # the first department's decisions left their list).
        left = [d.name for d in departments.by_ids(t.session, sorted(before - {inv.department_id}))]
        t.say("invite/accepted", role=inv.role, department=department.name if department else None,
              left=", ".join(left) if inv.role == Role.OFFICIAL.value else "")  # fmt: skip
        if not t.user.display_name:  # KakaoTalk gives no name: organizers and the records would show a number
            FORM.open(t, INVITEE_NAME, ref={"role": inv.role})
        else:
            self.joined(t, inv.role)

    def joined(self, t: Turn, role: str) -> None:
        """What a reviewer answers on joining; an official has nothing more to answer."""
        if role != Role.REVIEWER.value:
            return
        if pledge.accepted(t.session, t.user):  # whom they work for, so that company is never theirs to review
            FORM.open(t, AFFILIATION)
        else:  # the pledge first, like a company's consent; the affiliation follows it
            FORM.open(t, PLEDGE, ref={"then": AFFILIATION})


FLOW = InviteFlow()


def _role_typed(t: Turn, text: str) -> tuple[Role | None, str]:
    """(the role, the words after it): 「심사위원」, 「수요처 담당자 교통공사」, "official 교통"; (None, ""). The
    role as an organizer types it after 「초대」, in either language (the catalogue's ``role_words``); what
    follows is a department's name."""
    known = {"".join(word.split()).casefold(): Role(role)
             for lang in LANGUAGES for role, typed in (t.texts.catalog[lang].get("role_words") or {}).items()
             for word in typed}  # fmt: skip
    words = text.split()
    for taken in (2, 1):  # 「수요처 담당자」 is two words
        role = known.get("".join(words[:taken]).casefold()) if len(words) >= taken else None
        if role is not None:
            return role, " ".join(words[taken:]).strip()
    return None, ""


def _affiliation(t: Turn, draft: FormDraft) -> None:
    brn = draft.data.get("brn") or None
    invitations.set_affiliation(t.session, t.user, brn, t.now)
    t.session.delete(draft)
    t.say("invite/affiliation_saved", brn=format_brn(brn) if brn else None)


def _named(t: Turn, draft: FormDraft) -> None:
    name = str(draft.data.get("display_name") or "")
    invitations.set_name(t.session, t.user, name, t.settings, t.now)
    t.session.delete(draft)
    t.say("invite/name_saved", name=name)
    FLOW.joined(t, str(draft.ref.get("role") or ""))


def _not_named(t: Turn, draft: FormDraft) -> None:
    """Left unanswered: the joining goes on without it (organizers then see a number)."""
    t.session.delete(draft)
    FLOW.joined(t, str(draft.ref.get("role") or ""))


def _invite_official(t: Turn, draft: FormDraft) -> None:
    t.session.delete(draft)
    t.end()
    FLOW.create(t, Role.OFFICIAL, int(draft.data.get("department") or 0))


register(FormSpec(AFFILIATION, _affiliation, review=False, cancelled=_affiliation))
register(FormSpec(INVITEE_NAME, _named, review=False, cancelled=_not_named))
register(FormSpec(INVITE_OFFICIAL, _invite_official, review=False))

"""/departments for organizers: the list of buying departments (수요처 목록), found by typing part of a
name; an entry's card renames it or takes it off the list (deactivates); a new entry is added with its
name and kind. The whole list is loaded from a file with `pitchbot departments load`."""

from __future__ import annotations

from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.model import Action, Choice, Expect, L, T
from bot.dialogue.tokens import int_arg
from bot.dialogue.turn import Turn
from bot.errors import Refused
from bot.forms import DEPARTMENT_ADD, DEPARTMENT_NAME
from bot.models import Department, FormDraft
from bot.services import departments, policies


class DepartmentsFlow(Flow):
    name = "departments"
    policy = staticmethod(policies.organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        self.board(t, " ".join(args).strip() or None)

    def board(self, t: Turn, query: str | None = None) -> None:
        found = departments.search(t.session, query, active_only=False) if query else None
        rows = found if found is not None else departments.listing(t.session)
        staffed = departments.with_officials(t.session)
        items = [{"name": d.name, "kind": d.kind, "active": d.active, "officials": staffed.get(d.id or 0, 0)}
                 for d in rows]  # fmt: skip
        choices = [Choice(T(d.name if d.active else f"({d.name})"), self.act("open", d.id, entry=True)) for d in rows]
        nav = [Choice(L("department_buttons.add"), self.act("add", entry=True))]
        if query:
            nav.append(Choice(L("buttons.whole_list"), self.act("all", entry=True)))
        t.go(self.name, "board", q=query)
        t.show("departments/board", {"rows": items, "offset": 0, "searching": query, "total": len(rows)},
               choices=choices, nav=nav, columns=2, paged="rows", expects=Expect.CHOICE, reads_words=True)  # fmt: skip

    def entry(self, t: Turn, department_id: int) -> None:
        department = t.session.get(Department, department_id)
        if department is None:
            t.refuse("not_found")
            return
        b = "department_buttons"
        toggle = "deactivate" if department.active else "activate"
        choices = [
            Choice(L(f"{b}.rename"), self.act("rename", department.id, entry=True)),
            Choice(L(f"{b}.{toggle}"), self.act(toggle, department.id, entry=True)),
        ]
        back = [Choice(L(f"{b}.list"), self.act("all", entry=True))]
        t.go(self.name, "entry", department=department.id)
        officials = departments.with_officials(t.session).get(department.id or 0, 0)
        t.show("departments/entry", {"department": department, "officials": officials}, choices=choices, nav=back,
               columns=2)  # fmt: skip

    def on_action(self, t: Turn, action: Action) -> None:
        department_id = int_arg(action, 0) or 0
        try:
            if action.name == "all":
                self.board(t)
            elif action.name == "open":
                self.entry(t, department_id)
            elif action.name == "add":
                FORM.open(t, DEPARTMENT_ADD)
            elif action.name == "rename":
                FORM.open(t, DEPARTMENT_NAME, ref={"department": department_id})
            elif action.name in ("deactivate", "activate"):
                departments.set_active(t.session, t.user, department_id, action.name == "activate", t.settings,
                                       t.now)  # fmt: skip
                self.entry(t, department_id)
            else:
                t.engine.stale(t)
        except Refused as err:
            t.refuse(err)

    def on_text(self, t: Turn, text: str) -> None:
        """On the list, typed words narrow it (「교통」)."""
        if t.step == "board" and text.strip():
            self.board(t, text.strip())
        else:
            super().on_text(t, text)

    def resume(self, t: Turn) -> None:
        if t.step == "entry":
            self.entry(t, int(t.ref.get("department", 0)))
        else:
            self.board(t, t.ref.get("q"))


FLOW = DepartmentsFlow()


def _added(t: Turn, draft: FormDraft) -> None:
    department = departments.add(t.session, t.user, str(draft.data.get("department_name", "")),
                                 str(draft.data.get("department_kind")),
                                 t.settings, t.now)  # fmt: skip
    t.session.delete(draft)
    t.say("departments/saved", name=department.name)
    FLOW.entry(t, department.id or 0)


def _renamed(t: Turn, draft: FormDraft) -> None:
    department_id = int(draft.ref.get("department", 0))
    name = str(draft.data.get("department_name", ""))
    department = departments.rename(t.session, t.user, department_id, name, t.settings, t.now)
    t.session.delete(draft)
    t.say("departments/saved", name=department.name)
    FLOW.entry(t, department_id)


def _cancelled(t: Turn, draft: FormDraft) -> None:
    t.session.delete(draft)
    t.say("menu/input_cancelled")
    department_id = int(draft.ref.get("department", 0))
    if department_id:
        FLOW.entry(t, department_id)
    else:
        FLOW.board(t)


def _context(t: Turn, draft: FormDraft) -> dict[str, object]:
    department_id = draft.ref.get("department")
    return {"department": t.session.get(Department, int(department_id)) if department_id else None}


register(FormSpec(DEPARTMENT_ADD, _added, review=False, cancelled=_cancelled))
register(FormSpec(DEPARTMENT_NAME, _renamed, review=False, cancelled=_cancelled, context=_context))

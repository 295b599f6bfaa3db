"""The list of buying departments (수요처) organizers keep. Companies pick from it, officials are invited
to an entry of it, and decisions are matched by an entry's id, never by a name typed twice.

The list is loaded from a CSV or YAML file (idempotent: loading the same file again changes nothing) and
edited in chat (add, rename, deactivate). An entry is never deleted: past months' records name it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, col, select

from bot.database import cached, forget, peek
from bot.errors import Refused
from bot.models import Department, DepartmentKind, PurchaseDecision, Role, RoleGrant, User
from bot.services import audit, policies
from bot.settings import Settings

NAME_MAX = 200
KINDS = tuple(k.value for k in DepartmentKind)
# The words organizers write in a file for a kind, besides its code.
_KIND_WORDS = {
    "본청": "bureau", "본청실국": "bureau", "실국": "bureau", "실본부국": "bureau", "본청실본부국": "bureau",
    "사업소": "office", "투자출연기관": "agency", "투자기관": "agency", "출연기관": "agency", "공사공단": "agency",
    "자치구": "district", "구청": "district", "교육청": "education", "기타": "other",
}  # fmt: skip
_YES = {"yes", "y", "true", "1", "예", "사용", "o", "on", "active"}
_NO = {"no", "n", "false", "0", "아니오", "아니요", "미사용", "x", "off", "inactive"}
_HEADERS = {"name": "name", "이름": "name", "수요처": "name", "수요처명": "name", "kind": "kind", "구분": "kind",
            "유형": "kind", "active": "active", "사용": "active", "사용여부": "active"}  # fmt: skip


@lru_cache(maxsize=4096)  # a search or a name looked up compares with every entry of the list
def key(name: str) -> str:
    """What makes two names the same entry: spaces, width and case do not count."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name)).casefold()


@lru_cache(maxsize=4096)
def _search_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if c.isalnum())


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry of the list as read for a unit of work: what turns show, search and match by. Reading it as
    plain values rather than ORM objects costs a tenth (no identity map, no per-row instance state, no
    timestamps decoded): the list of some 80 entries is read on every turn that offers or names it. A change
    goes through the entry's row (``session.get(Department, id)``), and the functions below that change rows
    forget what was read."""

    id: int
    name: str
    kind: str
    active: bool


_EVERY = select(Department.id, Department.name, Department.kind, Department.active)


def _entries(rows: Iterable[Any]) -> list[Entry]:
    return [Entry(*row) for row in rows]


_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def _every(session: Session) -> list[Entry]:
    """Every entry in the order people read it (by kind, then by name), read once in the unit of work (a
    turn that searches the list looks at it several times); the functions below that add or change entries
    forget it."""
    return cached(session, "departments", lambda: sorted(_entries(session.exec(_EVERY)), key=_reading_order))


def _reading_order(d: Entry) -> tuple[int, str]:
    return _KIND_ORDER.get(d.kind, len(_KIND_ORDER)), d.name


def listing(session: Session, active_only: bool = False) -> list[Entry]:
    """The list in the order people read it: by kind, then by name."""
    return [d for d in _every(session) if d.active or not active_only]


def any_active(session: Session) -> bool:
    """Whether the list has an entry to offer."""
    return session.exec(select(Department.id).where(Department.active == True).limit(1)).first() is not None  # noqa: E712


def by_ids(session: Session, ids: Iterable[int] | None) -> list[Entry]:
    """The entries of ``ids``, in that order (unknown ids left out)."""
    wanted = [int(i) for i in ids or []]
    if not wanted:
        return []
    every = peek(session, "departments")  # a turn that asks for two or three need not read the whole list
    if every is None:
        every = _entries(session.exec(_EVERY.where(col(Department.id).in_(wanted))))
    found = {d.id: d for d in every}
    return [found[i] for i in dict.fromkeys(wanted) if i in found]


def names(session: Session, ids: Iterable[int] | None) -> str:
    """The entries' names, as one line ("서울교통공사, 기후환경본부")."""
    return ", ".join(d.name for d in by_ids(session, ids))


def find(session: Session, name: str) -> Entry | None:
    """The entry of exactly this name (spaces and case aside), or of this id."""
    text = name.strip()
    if text.isdecimal():
        found = by_ids(session, [int(text)])
        if found:
            return found[0]
    return by_name(session, text)


def by_name(session: Session, name: str) -> Entry | None:
    wanted = key(name)
    return next((d for d in _every(session) if key(d.name) == wanted), None)


def search(session: Session, text: str, active_only: bool = True) -> list[Entry]:
    """Entries whose name holds what was typed ("교통" finds 도시교통실 and 서울교통공사); a whole name
    finds that entry alone."""
    wanted = _search_key(text)
    if not wanted:
        return []
    rows = listing(session, active_only)
    exact = [d for d in rows if _search_key(d.name) == wanted]
    return exact or [d for d in rows if wanted in _search_key(d.name)]


def ensure(session: Session, name: str, now: dt.datetime, kind: str = DepartmentKind.OTHER.value) -> Entry:
    """The entry of this name, made when there is none (for seeding and the sandbox)."""
    found = by_name(session, name)
    if found is not None:
        return found
    department = Department(name=name.strip(), kind=kind, active=True, created_at=now, updated_at=now)
    session.add(department)
    session.flush()
    forget(session)
    return Entry(department.id or 0, department.name, department.kind, department.active)


def form_sources(session: Session, form: Any) -> dict[str, dict[str, str]]:
    """How a form's answers from the list read: for each such question, every entry's name by its id
    (inactive ones too: an answer given before)."""
    fields = [q.field for q in form.questions if q.source == "departments"]
    if not fields:
        return {}
    names = {str(d.id): d.name for d in _every(session)}
    return {field: names for field in fields}


def with_officials(session: Session) -> dict[int, int]:
    """How many officials each entry has (entries without any are left out)."""
    grants = session.exec(
        select(RoleGrant.department_id, User.active)
        .join(User, col(User.id) == col(RoleGrant.user_id))
        .where(RoleGrant.role == Role.OFFICIAL.value, col(RoleGrant.department_id).is_not(None))
    ).all()
    out: dict[int, int] = {}
    for department_id, active in grants:
        if active and department_id is not None:
            out[department_id] = out.get(department_id, 0) + 1
    return out


def without_official(session: Session, ids: Iterable[int]) -> list[Entry]:
    """Of these entries, those nobody could decide for: no active official in the bot."""
    staffed = with_officials(session)
    return [d for d in by_ids(session, ids) if d.id not in staffed]


# ---- the file ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """A line of the file; a kind or active flag left empty (None) keeps an existing entry's."""

    line: int
    name: str
    kind: str | None
    active: bool | None


class FileError(ValueError):
    """A file organizers wrote that cannot be loaded: one line per fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_BAD = "?"  # a value given but not understood


def _kind(raw: Any) -> str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if text.lower() in KINDS:
        return text.lower()
    return _KIND_WORDS.get(re.sub(r"[\s·.,/ㆍ-]", "", text), _BAD)


def _active(raw: Any) -> bool | str | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    return True if text in _YES else False if text in _NO else _BAD


def parse(text: str, filename: str) -> list[Row]:
    """Rows of a CSV (header ``name,kind,active``; kind and active optional) or YAML file (a list of names
    or of ``{name, kind, active}``, alone or under ``departments:``). Every fault is named, with its line."""
    if text.startswith("%PDF") or "\x00" in text:  # a deck or a spreadsheet's binary file: its lines are no names
        raise FileError(["not a CSV or YAML file (save the list as CSV UTF-8 or write it in YAML)"])
    raw_rows = _yaml_rows(text) if filename.lower().endswith((".yaml", ".yml")) else _csv_rows(text)
    problems: list[str] = []
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for line, item in raw_rows:
        name = re.sub(r"\s+", " ", str(item.get("name") or "")).strip()
        kind, active = _kind(item.get("kind")), _active(item.get("active"))
        if not name:
            problems.append(f"line {line}: no name")
            continue
        if len(name) > NAME_MAX:
            problems.append(f"line {line}: the name is longer than {NAME_MAX} characters")
        if kind == _BAD:
            wrong = str(item.get("kind")).strip()
            problems.append(f"line {line}: unknown kind {wrong!r} (use one of {', '.join(KINDS)}, "
                            "or 본청 실·국, 사업소, 투자출연기관, 자치구, 교육청, 기타)")  # fmt: skip
        if active == _BAD:
            problems.append(f"line {line}: active must be yes or no, not {str(item.get('active')).strip()!r}")
        if key(name) in seen:
            problems.append(f"line {line}: {name!r} is already on line {seen[key(name)]}")
        seen.setdefault(key(name), line)
        if kind != _BAD and active != _BAD:
            rows.append(Row(line, name, kind, active))  # type: ignore[arg-type]
    if not raw_rows and not problems:
        problems.append("the file lists no department")
    if problems:
        raise FileError(problems)
    return rows


def _delimiter(text: str) -> str:
    """A comma, or the tab or semicolon a spreadsheet saved with (in some locales): read off the first line
    that is not a comment (its header loaded as a department "name kind active")."""
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    return max((",", "\t", ";"), key=first.count) if first.count(",") == 0 else ","


def _csv_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    out: list[tuple[int, dict[str, Any]]] = []
    columns: list[str] | None = None
    for number, cells in enumerate(reader, start=1):
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if columns is None:
            heads = [_HEADERS.get(c.strip().lower().replace(" ", "")) for c in cells]
            if "name" in heads:
                columns = [h or "" for h in heads]
                continue
            columns = ["name", "kind", "active"]  # no header: name first
        out.append((number, {columns[i]: c.strip() for i, c in enumerate(cells) if i < len(columns) and columns[i]}))
    return out


def _yaml_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise FileError([f"not YAML: {str(err).splitlines()[0]}"]) from err
    items_node = node
    if isinstance(data, dict) and "departments" in data:
        data = data["departments"]
        items_node = next(v for k, v in node.value if k.value == "departments")  # type: ignore[union-attr]
    if data is None:
        return []
    if not isinstance(data, list):
        raise FileError(["the file must be a list of departments (or have one under 'departments:')"])
    out: list[tuple[int, dict[str, Any]]] = []
    for item, item_node in zip(data, items_node.value, strict=True):  # type: ignore[union-attr]
        line = item_node.start_mark.line + 1
        if isinstance(item, str):
            out.append((line, {"name": item}))
        elif isinstance(item, dict):
            out.append((line, {k: item.get(k) for k in ("name", "kind", "active")}))
        else:
            out.append((line, {"name": ""}))
    return out


SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "departments.csv"


def load_path(session: Session, path: Path, now: dt.datetime) -> Loaded:
    """Loads a list file organizers keep (the sandbox and tests load ``samples/departments.csv``)."""
    return load(session, parse(path.read_text(encoding="utf-8"), path.name), now)


@dataclass(frozen=True)
class Loaded:
    added: list[str]
    changed: list[str]
    unchanged: int
    total: int


def load(session: Session, rows: Sequence[Row], now: dt.datetime, actor: int | None = None) -> Loaded:
    """Adds the entries of the file and brings the kind and active flag of existing ones (matched by name)
    into line with it (an empty one keeps the entry's). Entries the file does not name stay as they are.
    Does not commit."""
    existing = {key(d.name): d for d in session.exec(select(Department)).all()}
    added: list[str] = []
    changed: list[str] = []
    for row in rows:
        found = existing.get(key(row.name))
        if found is None:
            department = Department(
                name=row.name,
                kind=row.kind or DepartmentKind.OTHER.value,
                active=True if row.active is None else row.active,
                created_at=now,
                updated_at=now,
            )
            session.add(department)
            existing[key(row.name)] = department
            added.append(row.name)
            continue
        wanted = (row.kind or found.kind, found.active if row.active is None else row.active)
        if (found.kind, found.active) != wanted:
            found.kind, found.active, found.updated_at = *wanted, now
            session.add(found)
            changed.append(found.name)
    session.flush()
    forget(session)
    if added or changed:
        audit.record(session, now, actor, "departments_loaded", "departments", "list", added=added, changed=changed)
    return Loaded(added, changed, len(rows) - len(added) - len(changed), len(existing))


# ---- edits in chat -------------------------------------------------------------------------------------
def _clean_name(name: str) -> str:
    from bot import validators

    return validators.line(NAME_MAX, 2)(name)


def add(session: Session, organizer: User, name: str, kind: str, settings: Settings, now: dt.datetime) -> Department:
    policies.require(session, organizer, policies.organizer, settings)
    name = _clean_name(name)
    found = by_name(session, name)
    if found is not None:
        raise Refused("department_exists", name=found.name)
    if kind not in KINDS:
        raise Refused("not_allowed")
    department = Department(name=name, kind=kind, active=True, created_at=now, updated_at=now)
    session.add(department)
    session.flush()
    forget(session)
    audit.record(session, now, organizer.id, "department_added", "department", department.id, name=name, kind=kind)
    return department


def _entry_for(session: Session, organizer: User, department_id: int, settings: Settings) -> Department:
    """An entry an organizer changes."""
    policies.require(session, organizer, policies.organizer, settings)
    department = session.get(Department, department_id)
    if department is None:
        raise Refused("not_found")
    return department


def rename(
    session: Session, organizer: User, department_id: int, name: str, settings: Settings, now: dt.datetime
) -> Department:
    """A new name for an entry; its officials, applications and decisions follow (they hold its id)."""
    department = _entry_for(session, organizer, department_id, settings)
    name = _clean_name(name)
    other = by_name(session, name)
    if other is not None and other.id != department.id:
        raise Refused("department_exists", name=other.name)
    old, department.name, department.updated_at = department.name, name, now
    session.add(department)
    # Decisions show the name they were recorded under; they follow the rename so that one entry reads
    # one way everywhere.
    for decision in session.exec(select(PurchaseDecision).where(PurchaseDecision.department_id == department_id)):
        decision.department = name
        session.add(decision)
    audit.record(session, now, organizer.id, "department_renamed", "department", department.id, old=old, new=name)
    session.flush()
    forget(session)
    return department


def set_active(
    session: Session, organizer: User, department_id: int, active: bool, settings: Settings, now: dt.datetime
) -> Department:
    """An inactive entry is no longer offered to companies or for invitations; what names it stays."""
    department = _entry_for(session, organizer, department_id, settings)
    department.active, department.updated_at = active, now
    session.add(department)
    audit.record(session, now, organizer.id, "department_active", "department", department.id, active=active)
    session.flush()
    forget(session)
    return department


# ---- companies waiting for the list ----------------------------------------------------------------------
def tell_waiting(session: Session, settings: Settings, now: dt.datetime) -> int:
    """Companies whose application stopped at the departments question while the list was empty are told,
    once, that it is there, while their window is open (the tick calls this; a list loaded with ``pitchbot
    departments load`` in another process is seen at the next tick). Returns how many were planned."""
    from bot.calendar import Month, cycle_data
    from bot.forms import APPLICATION, form_by_key
    from bot.models import FormDraft
    from bot.services import cycles, drafts, outbox
    from bot.services.outbox import Planned

    sourced = [q.field for q in form_by_key(APPLICATION, settings).questions if q.source]
    at_list = select(FormDraft).where(FormDraft.form == APPLICATION, col(FormDraft.current).in_(sourced))
    marked = [d for d in session.exec(at_list) if d.pending.get(drafts.WAITING) == d.current]
    if not marked or not any_active(session):
        return 0
    planned = []
    for draft in marked:
        drafts.wait_for_list(session, draft, None, now)
        user = session.get(User, draft.user_id)
        if user is None or not draft.month:
            continue
        cycle = cycles.get_cycle(session, Month.parse(draft.month), settings)
        if now < cycle.window_closes_at:
            planned.append(Planned(user, "apply/departments_ready", {"cycle": cycle_data(cycle)},
                                   f"{draft.month}:departments_ready:{draft.user_id}", now))  # fmt: skip
    session.flush()
    return outbox.plan(session, planned, now)

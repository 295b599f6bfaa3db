"""One person, several channels: accounts joined by a one-time code. The account that is joined acts as the
other one (its company, roles and drafts); the conversation of each channel stays its own. Messages the
bot starts go to the channel the person used last."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.errors import Refused
from bot.forms import profile_form
from bot.models import Company, Conversation, FormDraft, LinkCode, RoleGrant, User
from bot.services import audit

CODE_MINUTES = 10
ALPHABET = "ACDEFGHJKLMNPQRTUVWXY3479"  # no look-alikes (0/O, 1/I/L, 2/Z, 5/S, 6/G, 8/B)
MAX_WRONG = 5  # wrong codes a person may type within CODE_MINUTES


def primary(session: Session, user: User) -> User:
    """The account this one acts as: itself, or the one it was joined to."""
    if user.linked_to is None:
        return user
    return session.get(User, user.linked_to) or user


def account_ids(session: Session, user: User) -> list[int]:
    """Every account of the person: the primary one and those joined to it."""
    main = primary(session, user)
    joined = session.exec(select(User.id).where(col(User.linked_to) == main.id)).all()
    return [main.id or 0, *(i for i in joined if i is not None)]


def new_code(session: Session, user: User, now: dt.datetime) -> LinkCode:
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    row = LinkCode(code=code, user_id=primary(session, user).id or 0, created_at=now,
                   expires_at=now + dt.timedelta(minutes=CODE_MINUTES))  # fmt: skip
    session.add(row)
    audit.record(session, now, user.id, "link_code_created", "user", user.id)
    return row


_SHOWN_CODE = re.compile(f"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")


def looks_like_code(text: str) -> bool:
    """A link code as the bot shows it (「ACDE-FGHJ」), pasted alone."""
    return _SHOWN_CODE.fullmatch(text.strip().upper()) is not None


def normalize_code(text: str) -> str:
    return "".join(c for c in text.upper() if c.isalnum())


def join(session: Session, user: User, typed: str, now: dt.datetime) -> User:
    """Joins the account that typed the code to the account that made it; returns the primary account."""
    window = dt.timedelta(minutes=CODE_MINUTES)
    if audit.blocked_until(session, user.id, "link_code_wrong", now, MAX_WRONG, window) is not None:
        raise Refused("link_too_many", minutes=CODE_MINUTES)
    found = session.get(LinkCode, normalize_code(typed)[:16]) if typed else None
    if found is None or found.used_at is not None or found.expires_at <= now:
        audit.record(session, now, user.id, "link_code_wrong", "user", user.id)
        raise Refused("link_code_unknown")
    owner = session.get(User, found.user_id)
    me = primary(session, user)
    if owner is None or owner.id == me.id:
        raise Refused("link_same_account")
    if owner.channel == me.channel:
        raise Refused("link_same_channel")
    mine, theirs = _has_company(session, me), _has_company(session, owner)
    if mine and theirs:
        raise Refused("link_two_companies")
    main, joined = (me, owner) if mine and not theirs else (owner, me)
    # Spent only if nobody spent it meanwhile: two accounts typing the one code at once were both joined.
    spent = session.execute(
        update(LinkCode)
        .where(col(LinkCode.code) == found.code, col(LinkCode.used_at).is_(None))
        .values(used_by=user.id, used_at=now)
        .returning(LinkCode.code),
        execution_options={"synchronize_session": False},
    ).first()
    if spent is None:
        raise Refused("link_code_unknown")
    # Whatever was joined to the joined account now follows the primary one too.
    session.execute(update(User).where(col(User.linked_to) == joined.id).values(linked_to=main.id))
    joined.linked_to = main.id
    session.add(joined)
    _carry_drafts(session, joined, main)
    _forget_menus(session, [main.id or 0, joined.id or 0])
    audit.record(session, now, user.id, "accounts_linked", "user", main.id, joined=joined.id, channel=joined.channel)
    return main


def _carry_drafts(session: Session, joined: User, main: User) -> None:
    """The joined account's forms left midway go on from the primary one, as the person's turns now act as it
    (a half-typed registration was out of reach, and its reminder kept coming). Where both have the same form
    open, the one further along stays (dropping the joined account's lost a registration typed nearly whole
    on KakaoTalk to one barely begun on Telegram); a profile is dropped once a company is registered."""
    theirs = {d.form: d for d in session.exec(select(FormDraft).where(FormDraft.user_id == main.id)).all()}
    registered = _has_company(session, main)
    for draft in session.exec(select(FormDraft).where(FormDraft.user_id == joined.id)).all():
        other = theirs.get(draft.form)
        if (draft.form == profile_form().key and registered) or (other is not None and not _further(draft, other)):
            session.delete(draft)
            continue
        if other is not None:
            session.delete(other)
            session.flush()  # one draft per person and form: the other goes before this one takes its place
        draft.user_id = main.id or 0
        session.add(draft)
    session.flush()


def _further(draft: FormDraft, other: FormDraft) -> bool:
    return (len(draft.data), draft.updated_at) > (len(other.data), other.updated_at)


def _has_company(session: Session, user: User) -> bool:
    return session.exec(select(Company.id).where(Company.owner_user_id == user.id)).first() is not None


def _forget_menus(session: Session, ids: list[int]) -> None:
    session.execute(update(Conversation).where(col(Conversation.user_id).in_(ids)).values(menu=None))


def primaries(session: Session, joined: list[User]) -> dict[int, User]:
    """The first account of each joined account, by the joined account's id, in one query."""
    wanted = {u.linked_to for u in joined if u.linked_to is not None}
    if not wanted:
        return {}
    found = {u.id: u for u in session.exec(select(User).where(col(User.id).in_(wanted))).all()}
    return {u.id or 0: found[u.linked_to] for u in joined if u.linked_to in found}


def accounts_of(session: Session, user: User) -> list[User]:
    """Every account of the person, the primary one first."""
    main = primary(session, user)
    joined = session.exec(select(User).where(col(User.linked_to) == main.id).order_by(col(User.id))).all()
    return [main, *joined]


def granted(session: Session, user: User) -> list[str]:
    """The roles granted to any of the person's accounts."""
    ids = account_ids(session, user)
    return list(session.exec(select(RoleGrant.role).where(col(RoleGrant.user_id).in_(ids))).all())


class Addressable(Protocol):
    @property
    def active(self) -> bool: ...
    @property
    def channel(self) -> str: ...
    @property
    def is_friend(self) -> bool | None: ...


def reachable(account: Addressable) -> bool:
    """Whether a message can reach this account: not blocked, and on KakaoTalk not out of the channel."""
    return account.active and not (account.channel == "kakao" and account.is_friend is False)


def deliver_to(session: Session, people: list[User]) -> dict[int, User]:
    """For each person with accounts on several channels, the account their messages go to: the one last used
    among those that can be reached (one blocked, or a KakaoTalk channel left, is passed over while another is
    not); people with one account are not in the answer."""
    ids = [p.id for p in people if p.id is not None]
    out: dict[int, User] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        joined = session.exec(select(User).where(col(User.linked_to).in_(chunk))).all()
        if not joined:
            continue
        main_ids = {u.linked_to for u in joined}
        candidates = [*joined, *(p for p in people if p.id in main_ids)]
        seen = dict(
            session.exec(
                select(Conversation.user_id, Conversation.updated_at).where(
                    col(Conversation.user_id).in_([c.id for c in candidates])
                )
            ).all()
        )
        for main_id in main_ids:
            accounts = [c for c in candidates if c.id == main_id or c.linked_to == main_id]
            out[main_id or 0] = max(
                accounts, key=lambda c: (reachable(c), seen.get(c.id) is not None, seen.get(c.id) or c.created_at)
            )
    return out

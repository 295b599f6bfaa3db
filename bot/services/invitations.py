"""Single-use, expiring invitation links that grant a role (reviewer, official)."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.errors import Refused
from bot.models import Department, Invitation, Role, RoleGrant, User
from bot.services import audit, policies, users
from bot.services.accounts import ALPHABET
from bot.settings import Settings

PREFIX = "inv_"
_CODE = re.compile(r"inv_[A-Za-z0-9_-]{4,64}")
# Typed in KakaoTalk from the organizer's message: nine letters and digits that cannot be mistaken for one
# another, shown in threes (「ACD-EFG-HJK」: a link code, 「ACDE-FGHJ」, is shown in fours). The secret
# was 24 characters of both cases to copy by hand; guesses stay limited per person (``accept``).
SHORT = 9
_SHORT_SHOWN = re.compile(f"[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}-[{ALPHABET}]{{3}}")
_SHORT_TYPED = re.compile(f"[{ALPHABET}]{{3}}-?[{ALPHABET}]{{3}}-?[{ALPHABET}]{{3}}")


def looks_like_code(text: str) -> bool:
    """Text that is an invitation code and nothing else (pasted from the organizer's message, dashes and all:
    a nine-letter word typed alone is no code)."""
    text = text.strip()
    return _CODE.fullmatch(text) is not None or _SHORT_SHOWN.fullmatch(text.upper()) is not None


def is_code(payload: str) -> bool:
    """What follows 「시작」 or /start is an invitation's code: its payload, or the short code in either case,
    with or without its dashes."""
    payload = payload.strip()
    return payload.startswith(PREFIX) or _SHORT_TYPED.fullmatch(payload.upper()) is not None


def shown(invitation: Invitation) -> str:
    """The code as a person types it (an invitation made before short codes: its payload)."""
    token = invitation.token
    if len(token) == SHORT and _SHORT_TYPED.fullmatch(token):
        return f"{token[:3]}-{token[3:6]}-{token[6:]}"
    return payload(invitation)


def create(
    session: Session,
    organizer: User,
    role: Role,
    settings: Settings,
    now: dt.datetime,
    department_id: int | None = None,
) -> Invitation:
    """An invitation; an official's names an active entry of the department list."""
    policies.require(session, organizer, policies.organizer, settings)
    department = session.get(Department, department_id) if department_id is not None else None
    if role is Role.OFFICIAL and (department is None or not department.active):
        raise Refused("department_needed")
    if role is Role.ORGANIZER:
        raise Refused("not_allowed")
    invitation = Invitation(
        token="".join(secrets.choice(ALPHABET) for _ in range(SHORT)),
        role=role.value,
        department_id=department.id if department is not None and role is Role.OFFICIAL else None,
        created_by=organizer.id,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.invitation_days),
    )
    session.add(invitation)
    session.flush()
    audit.record(session, now, organizer.id, "invitation_created", "invitation", invitation.id, role=role.value,
                 department_id=invitation.department_id)  # fmt: skip
    return invitation


def set_affiliation(session: Session, user: User, brn: str | None, now: dt.datetime) -> RoleGrant:
    """The company a reviewer works for (None: none). From then on its applications are not theirs to
    review: the predicate reads it, and the next assignment takes off any already given."""
    grant = session.exec(
        select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == Role.REVIEWER.value)
    ).first()
    if grant is None:
        raise Refused("not_allowed")
    grant.affiliation_brn = brn
    session.add(grant)
    audit.record(session, now, user.id, "affiliation", "user", user.id, declared=brn is not None)
    return grant


def set_name(session: Session, user: User, name: str, settings: Settings, now: dt.datetime) -> None:
    """The name someone who joined gives themselves where their channel gives none; a channel's own name,
    when it sends one later, takes over as for everyone."""
    policies.require(session, user, policies.invited, settings)
    user.display_name, user.updated_at = name[:200], now
    session.add(user)
    audit.record(session, now, user.id, "name_given", "user", user.id)


def payload(invitation: Invitation) -> str:
    """The /start payload: Telegram allows 64 characters of A-Z, a-z, 0-9, _ and -."""
    return PREFIX + invitation.token


WRONG = "invitation_wrong"
REFUSED = "invitation_guesses_refused"


def accept(session: Session, user: User, start_payload: str, now: dt.datetime, settings: Settings) -> Invitation:
    """Takes the invitation for ``user``. Codes are guessable in principle, so a person who typed
    ``INVITATION_MAX_WRONG`` unknown ones within ``INVITATION_WRONG_MINUTES`` is refused, even a right one,
    until the oldest of them is that old; the log keeps those wrong ones and one line that they were stopped."""
    window = dt.timedelta(minutes=settings.invitation_wrong_minutes)
    retry_at = audit.blocked_until(session, user.id, WRONG, now, settings.invitation_max_wrong, window)
    if retry_at is not None:
        # One line per window says the rest were refused (a line already within it blocks a second).
        if audit.blocked_until(session, user.id, REFUSED, now, 1, window) is None:
            audit.record(session, now, user.id, REFUSED, "user", user.id, until=retry_at.isoformat())
        raise Refused("invitation_too_many", retry_at=retry_at)
    token = start_payload.strip().removeprefix(PREFIX)
    if _SHORT_TYPED.fullmatch(token.upper()):  # typed: either case, with or without its dashes
        token = token.upper().replace("-", "")
    invitation = session.exec(select(Invitation).where(Invitation.token == token)).first() if token else None
    if invitation is None:
        audit.record(session, now, user.id, WRONG, "user", user.id)
        raise Refused("invitation_unknown")
    if invitation.used_at is not None:
        # Opened again by the one who took it: fine while they hold the role it gave (a role taken back since
        # is not given back by the old link; it said "registered" and granted nothing).
        if invitation.used_by == user.id and users.find_grant(session, user.channel, user.external_id,
                                                              Role(invitation.role)) is not None:  # fmt: skip
            return invitation
        raise Refused("invitation_used")
    if invitation.expires_at <= now:
        raise Refused("invitation_expired")
    # Made by someone no longer an organizer (the role taken back): it granted a role in their name still.
    maker = session.get(User, invitation.created_by) if invitation.created_by is not None else None
    if maker is None or not users.has_role(session, maker, Role.ORGANIZER, settings):
        raise Refused("invitation_withdrawn")
    # One statement takes the invitation, so two people opening the same link cannot both have it.
    taken = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, col(Invitation.used_at).is_(None))
        .values(used_by=user.id, used_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        raise Refused("invitation_used")
    users.grant_role(  # the taking and the role land in the same transaction
        session, user.channel, user.external_id, Role(invitation.role), now, department_id=invitation.department_id,
        granted_by=invitation.created_by,
    )  # fmt: skip
    return invitation

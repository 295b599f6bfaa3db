"""Who may do what: predicates in one place. Flows check them when a conversation starts; services check
them again (reads included), so no path around the conversation gets further."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import bindparam, exists, literal, or_, union_all
from sqlmodel import Session, col, select

from bot.errors import Refused
from bot.models import Application, Company, Review, Role, RoleGrant, User
from bot.settings import Settings

Roles = frozenset[Role]
Policy = Callable[[Roles], bool]

_JOINED = "+joined"  # no role's name: a row saying other accounts are joined to this one
# A person's own grants and whether any account is joined to them, in one query (nearly every person has no
# joined account, and then the grants are all there is to read).
_OWN_ROLES = union_all(
    select(RoleGrant.role).where(col(RoleGrant.user_id) == bindparam("user_id")),
    select(literal(_JOINED)).where(exists().where(col(User.linked_to) == bindparam("user_id"))),
)


def roles_of(session: Session, user: User, settings: Settings) -> Roles:
    """Every role the person holds, on any of their channels: granted in the database, or an organizer
    named in the settings."""
    if user.linked_to is None:
        own = set(session.execute(_OWN_ROLES, {"user_id": user.id}).scalars())
        if _JOINED not in own:
            found = {Role(r) for r in own}
            if is_configured_organizer(user, settings):
                found.add(Role.ORGANIZER)
            return frozenset(found)
    from bot.services import accounts

    everyone = accounts.accounts_of(session, user)
    found = {Role(r) for r in accounts.granted(session, user)}
    if any(is_configured_organizer(a, settings) for a in everyone):
        found.add(Role.ORGANIZER)
    return frozenset(found)


def is_configured_organizer(user: User, settings: Settings) -> bool:
    return f"{user.channel}:{user.external_id}" in settings.organizers


# ---- predicates over a person's roles ------------------------------------------------------------
def anyone(roles: Roles) -> bool:
    return True


def organizer(roles: Roles) -> bool:
    return Role.ORGANIZER in roles


def reviewer(roles: Roles) -> bool:
    return Role.REVIEWER in roles


def official(roles: Roles) -> bool:
    return Role.OFFICIAL in roles


def official_or_organizer(roles: Roles) -> bool:
    return Role.OFFICIAL in roles or Role.ORGANIZER in roles


def invited(roles: Roles) -> bool:
    """A role given by invitation."""
    return Role.REVIEWER in roles or Role.OFFICIAL in roles


# ---- checks inside services ----------------------------------------------------------------------
def has(session: Session, user: User, role: Role, settings: Settings) -> bool:
    return role in roles_of(session, user, settings)


def require(session: Session, user: User, policy: Policy, settings: Settings) -> Roles:
    """Refuses (``not_allowed``) unless the person's roles satisfy ``policy``; returns the roles."""
    roles = roles_of(session, user, settings)
    if not policy(roles):
        raise Refused("not_allowed")
    return roles


# ---- conflicts of interest -----------------------------------------------------------------------
def own_company_ids(session: Session, user: User) -> set[int]:
    """The companies the person owns, through any of their accounts (a company registered on KakaoTalk is
    still theirs when they review on Telegram), and the one they said they work for."""
    from bot.services import accounts

    ids = accounts.account_ids(session, user)
    works_for = select(RoleGrant.affiliation_brn).where(
        col(RoleGrant.user_id).in_(ids), col(RoleGrant.affiliation_brn).is_not(None)
    )
    mine = or_(col(Company.owner_user_id).in_(ids), col(Company.brn).in_(works_for))
    return {i for i in session.exec(select(Company.id).where(mine)).all() if i}


def conflicted(session: Session, user: User, application: Application) -> bool:
    """The application is of the person's own company: they may neither review it nor decide on it."""
    return application.company_id in own_company_ids(session, user)


def require_no_conflict(session: Session, user: User, application: Application) -> None:
    if conflicted(session, user, application):
        raise Refused("conflict_of_interest")


# ---- appeals -------------------------------------------------------------------------------------
def reviewed(session: Session, user: User, application: Application) -> bool:
    """The person (through any of their accounts) was on the application's committee, even if they later
    declared a conflict: an appeal against the committee is heard without them."""
    from bot.services import accounts

    ids = accounts.account_ids(session, user)
    found = select(Review.id).where(Review.application_id == application.id, col(Review.reviewer_user_id).in_(ids))
    return session.exec(found).first() is not None


def may_decide_appeal(session: Session, user: User, application: Application) -> bool:
    """An organizer decides an appeal only on an application they neither reviewed nor belong to."""
    return not reviewed(session, user, application) and not conflicted(session, user, application)


def require_appeal_decider(session: Session, user: User, application: Application, settings: Settings) -> None:
    require(session, user, organizer, settings)
    if not may_decide_appeal(session, user, application):
        raise Refused("appeal_reviewer")

"""The reviewer's conflict-of-interest pledge (이해충돌 방지 서약): accepted once on joining (or at the
next /review for reviewers from before it existed), kept with the text's version and time, and required
before any application is opened. A new version of the text is asked again. Declaring a conflict on one
application stays as it was (bot/services/review.py)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot.errors import Refused
from bot.models import Role, RoleGrant, User
from bot.services import accounts, audit

# The version of the text in templates/*/review/pledge_ask.j2: change both together.
VERSION = "2026-12"


def _grants(session: Session, user: User) -> list[RoleGrant]:
    """The reviewer grants of the person, on any of their linked accounts."""
    ids = accounts.account_ids(session, user)
    return list(
        session.exec(
            select(RoleGrant).where(col(RoleGrant.user_id).in_(ids), RoleGrant.role == Role.REVIEWER.value)
        ).all()
    )


def accepted(session: Session, user: User) -> bool:
    return any(g.pledge_version == VERSION for g in _grants(session, user))


def latest(session: Session, user: User) -> RoleGrant | None:
    """The reviewer role carrying the person's last pledge (any version), for what is kept about them."""
    pledged = [g for g in _grants(session, user) if g.pledged_at is not None]
    return max(pledged, key=lambda g: g.pledged_at or g.granted_at, default=None)


def require(session: Session, user: User) -> None:
    if not accepted(session, user):
        raise Refused("pledge_needed")


def accept(session: Session, user: User, now: dt.datetime) -> None:
    """Records the pledge on the person's reviewer role; the audit log keeps the version and time."""
    grants = _grants(session, user)
    if not grants:
        raise Refused("not_allowed")
    for grant in grants:
        grant.pledge_version, grant.pledged_at = VERSION, now
        session.add(grant)
    audit.record(session, now, user.id, "pledge_accepted", "user", user.id, version=VERSION)


def declined(session: Session, user: User, now: dt.datetime) -> None:
    audit.record(session, now, user.id, "pledge_declined", "user", user.id, version=VERSION)

"""Who a broadcast goes to, as a condition on the users table: the database picks the audience (and plans
its rows with one INSERT … SELECT), so no list of ids ever travels to Python and back.

The rules: news go to those who subscribed, and to companies and officials unless they unsubscribed;
every audience is of active users (someone who blocked the bot gets nothing until they write again)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlmodel import Session, col, func, select

from bot.errors import Refused
from bot.models import Application, ApplicationStatus, Company, Role, RoleGrant, Subscription, User

TOPIC_NEWS = "news"
NAMES = ("subscribers", "companies", "officials", "reviewers", "applicants", "selected")


Ids = tuple[int, int] | None  # a batch of users: ids above the first, up to the second


def _exists(owner: Any, ids: Ids, *where: ColumnElement[bool]) -> ColumnElement[bool]:
    """A row of another table for this user. Correlated, and kept to the batch's ids, so that a batch is
    checked on the rows of its users only, never on the whole other table."""
    if ids is not None:
        where = (*where, owner > ids[0], owner <= ids[1])
    return select(owner).where(owner == col(User.id), *where).exists()


def _role(role: Role, ids: Ids) -> ColumnElement[bool]:
    return _exists(col(RoleGrant.user_id), ids, col(RoleGrant.role) == role.value)


def gets_news(ids: Ids = None) -> ColumnElement[bool]:
    """Subscribed; or a company or an official who has not unsubscribed."""
    subscribed = _exists(col(Subscription.user_id), ids, col(Subscription.topic) == TOPIC_NEWS)
    by_default = or_(_exists(col(Company.owner_user_id), ids), _role(Role.OFFICIAL, ids))
    stays = or_(col(User.news_opt_out).is_(None), col(User.news_opt_out) == false())
    return or_(subscribed, and_(stays, by_default))


def condition(name: str, month: str | None, ids: Ids = None) -> ColumnElement[bool]:
    """The audience ``name`` (of ``month``, for applicants and selected companies), active users only;
    with ``ids``, those of that batch."""
    if name == "subscribers":
        who = gets_news(ids)
    elif name == "companies":
        who = _exists(col(Company.owner_user_id), ids)
    elif name == "officials":
        who = _role(Role.OFFICIAL, ids)
    elif name == "reviewers":
        who = _role(Role.REVIEWER, ids)
    elif name in ("applicants", "selected") and month:
        statuses = [ApplicationStatus.SELECTED.value] if name == "selected" else [
            s.value for s in ApplicationStatus if s != ApplicationStatus.WITHDRAWN]  # fmt: skip
        applied = select(Application.id).where(
            col(Application.company_id) == col(Company.id), Application.month == month,
            col(Application.status).in_(statuses),
        )  # fmt: skip
        who = _exists(col(Company.owner_user_id), ids, applied.exists())
    else:
        raise Refused("not_allowed")
    if ids is not None:
        who = and_(col(User.id) > ids[0], col(User.id) <= ids[1], who)
    return and_(who, col(User.active) == true())


def count(session: Session, name: str, month: str | None) -> int:
    """People, not accounts: someone on two channels counts once (their messages go to one of them)."""
    person = func.coalesce(col(User.linked_to), col(User.id))
    return int(session.exec(select(func.count(func.distinct(person))).where(condition(name, month))).one())


def members(session: Session, name: str, month: str | None) -> list[User]:
    """The whole audience, one account per person (the first one; their messages go where they wrote last),
    by id: for small audiences and tests; a broadcast plans from the condition."""
    person = func.coalesce(col(User.linked_to), col(User.id))
    people = select(person).where(condition(name, month))
    return list(session.exec(select(User).where(col(User.id).in_(people)).order_by(col(User.id))).all())

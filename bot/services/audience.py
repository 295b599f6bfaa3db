"""Who a broadcast goes to, as a condition on the users table: the database picks the audience (and plans
its rows with one INSERT … SELECT), so no list of ids ever travels to Python and back.

The rules: news go to those who subscribed, and to companies and officials unless they unsubscribed;
every audience is of active users (someone who blocked the bot gets nothing until they write again)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlmodel import Session, col, func, select

from bot.errors import Refused
from bot.models import Application, ApplicationStatus, Company, Role, RoleGrant, Subscription, User

TOPIC_NEWS = "news"
NAMES = ("subscribers", "companies", "officials", "reviewers", "applicants", "selected")


def _role(role: Role) -> ColumnElement[bool]:
    return col(User.id).in_(select(RoleGrant.user_id).where(RoleGrant.role == role.value))


def gets_news() -> ColumnElement[bool]:
    """Subscribed; or a company or an official who has not unsubscribed."""
    subscribed = col(User.id).in_(select(Subscription.user_id).where(Subscription.topic == TOPIC_NEWS))
    by_default = or_(col(User.id).in_(select(Company.owner_user_id)), _role(Role.OFFICIAL))
    stays = or_(col(User.news_opt_out).is_(None), col(User.news_opt_out) == false())
    return or_(subscribed, and_(stays, by_default))


def condition(name: str, month: str | None) -> ColumnElement[bool]:
    """The audience ``name`` (of ``month``, for applicants and selected companies), active users only."""
    if name == "subscribers":
        who = gets_news()
    elif name == "companies":
        who = col(User.id).in_(select(Company.owner_user_id))
    elif name == "officials":
        who = _role(Role.OFFICIAL)
    elif name == "reviewers":
        who = _role(Role.REVIEWER)
    elif name in ("applicants", "selected") and month:
        statuses = [ApplicationStatus.SELECTED.value] if name == "selected" else [
            s.value for s in ApplicationStatus if s != ApplicationStatus.WITHDRAWN]  # fmt: skip
        who = col(User.id).in_(
            select(Company.owner_user_id)
            .join(Application, col(Application.company_id) == col(Company.id))
            .where(Application.month == month, col(Application.status).in_(statuses))
        )
    else:
        raise Refused("not_allowed")
    return and_(who, col(User.active) == true())


def count(session: Session, name: str, month: str | None) -> int:
    return int(session.exec(select(func.count()).select_from(User).where(condition(name, month))).one())


def members(session: Session, name: str, month: str | None) -> list[User]:
    """The whole audience, by id (for small audiences and tests; a broadcast plans from the condition)."""
    return list(session.exec(select(User).where(condition(name, month)).order_by(col(User.id))).all())

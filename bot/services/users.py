from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from bot.errors import Refused
from bot.models import FileLink, FormDraft, Role, RoleGrant, Subscription, User
from bot.services import audit, review
from bot.settings import Settings

LANGUAGES = ("ko", "en")
TOPIC_WINDOW_OPEN = "window_open"


# Built once with bound parameters: composing a statement costs more than running it, and these two run
# on every update.
_USER = select(User).where(col(User.channel) == bindparam("channel"), col(User.external_id) == bindparam("external_id"))
_USER_WITH_DRAFT = (
    select(User, FormDraft)
    .outerjoin(FormDraft, (col(FormDraft.user_id) == col(User.id)) & (col(FormDraft.form) == bindparam("form")))
    .where(col(User.channel) == bindparam("channel"), col(User.external_id) == bindparam("external_id"))
)


def ensure_user(
    session: Session,
    channel: str,
    external_id: str,
    now: dt.datetime,
    display_name: str = "",
    client_language: str | None = None,
) -> User:
    user = session.exec(_USER, params={"channel": channel, "external_id": external_id}).first()
    if user is None:
        user = User(
            channel=channel,
            external_id=external_id,
            display_name=display_name[:200],
            client_language=client_language,
            created_at=now,
            updated_at=now,
        )
        session.add(user)
        session.flush()
        return user
    refresh(session, user, now, display_name, client_language)
    return user


def ensure_user_with_draft(
    session: Session,
    channel: str,
    external_id: str,
    form_key: str | None,
    now: dt.datetime,
    display_name: str = "",
    client_language: str | None = None,
) -> tuple[User, FormDraft | None]:
    """:func:`ensure_user` and the user's draft of one form, in one query: the path of every answer."""
    params = {"channel": channel, "external_id": external_id, "form": form_key}
    row = session.exec(_USER_WITH_DRAFT, params=params).first() if form_key is not None else None
    if row is None:
        return ensure_user(session, channel, external_id, now, display_name, client_language), None
    user, draft = row
    refresh(session, user, now, display_name, client_language)
    return user, draft


def refresh(session: Session, user: User, now: dt.datetime, display_name: str, client_language: str | None) -> None:
    """Keeps the name and client language current; a message from the user means they unblocked the bot."""
    changed = False
    # Someone who refused consent (or whose data was erased) leaves no name behind.
    keep_name = user.consent_refused_at is None and user.erased_at is None
    if keep_name and display_name and user.display_name != display_name[:200]:
        user.display_name, changed = display_name[:200], True
    if client_language and user.client_language != client_language:
        user.client_language, changed = client_language, True
    if not user.active:
        user.active, changed = True, True
    if changed:
        user.updated_at = now
        session.add(user)


def remember_keys(session: Session, user: User, profile: dict[str, object], now: dt.datetime) -> None:
    """A channel's other facts about the person (KakaoTalk's channel key, Kakao Login id, whether they added
    the channel), kept as they change."""
    changed = False
    for name in ("plusfriend_key", "app_user_id"):
        value = profile.get(name)
        if isinstance(value, str) and value and getattr(user, name) != value[:80]:
            setattr(user, name, value[:80])
            changed = True
    friend = profile.get("is_friend")
    if isinstance(friend, bool) and user.is_friend != friend:
        user.is_friend, changed = friend, True
    if changed:
        user.updated_at = now
        session.add(user)


def language_of(user: User) -> str:
    if user.language in LANGUAGES:
        return user.language
    return "en" if (user.client_language or "").lower().startswith("en") else "ko"


def set_language(session: Session, user: User, language: str, now: dt.datetime) -> None:
    if language not in LANGUAGES:
        raise Refused("language")
    user.language = language
    user.updated_at = now
    session.add(user)


def remember_start_payload(session: Session, user: User, payload: str, now: dt.datetime) -> None:
    """Kept for role invitations (deep links); only the safe alphabet of Telegram payloads is kept."""
    clean = "".join(c for c in payload if c.isalnum() or c in "_-")[:64]
    if clean:
        user.start_payload = clean
        user.updated_at = now
        session.add(user)
        audit.record(session, now, user.id, "start_payload", "user", user.id, payload=clean)


def has_role(session: Session, user: User, role: Role, settings: Settings) -> bool:
    from bot.services import policies

    return policies.has(session, user, role, settings)


def grant_role(
    session: Session,
    channel: str,
    external_id: str,
    role: Role,
    now: dt.datetime,
    department_id: int | None = None,
    granted_by: int | None = None,
) -> RoleGrant:
    user = ensure_user(session, channel, external_id, now)
    grant = session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == role.value)).first()
    if grant is None:
        grant = RoleGrant(user_id=user.id, role=role.value, granted_at=now, granted_by=granted_by)
    grant.department_id = department_id
    session.add(grant)
    audit.record(session, now, granted_by, "grant_role", "user", user.id, role=role.value,
                 **_department_note(session, department_id))  # fmt: skip
    forget_menu(session, user)
    session.flush()
    return grant


def _department_note(session: Session, department_id: int | None) -> dict[str, object]:
    """An official's department in the audit log: its id, and its name as it was then, for the reader."""
    from bot.models import Department

    department = session.get(Department, department_id) if department_id is not None else None
    return {"department_id": department_id, "department": department.name if department else None}


def find_grant(session: Session, channel: str, external_id: str, role: Role) -> RoleGrant | None:
    """The role as granted by :func:`grant_role`, if the person has it."""
    user = session.exec(_USER, params={"channel": channel, "external_id": external_id}).first()
    if user is None:
        return None
    return session.exec(select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == role.value)).first()


def revoke_role(
    session: Session,
    channel: str,
    external_id: str,
    role: Role,
    now: dt.datetime,
    settings: Settings,
    revoked_by: int | None = None,
) -> RoleGrant | None:
    """Takes back a role given by :func:`grant_role`; None (and nothing changed) when the person has none.
    The account's download links go too: a deck, a line-up or an export given for the role is not theirs to
    open any more (a channel that shows links would have kept them readable for days)."""
    from bot.services import files  # files reads a holder's language from here

    grant = find_grant(session, channel, external_id, role)
    if grant is None:
        return None
    session.delete(grant)
    files.forget_links(session, settings, col(FileLink.user_id) == grant.user_id, FileLink.kind == files.DOWNLOAD)
    audit.record(session, now, revoked_by, "revoke_role", "user", grant.user_id, role=role.value,
                 **_department_note(session, grant.department_id))  # fmt: skip
    if role is Role.REVIEWER:  # what they had not scored goes back to the committee
        session.flush()
        review.unassign_unscored(session, grant.user_id, now)
    user = session.get(User, grant.user_id)
    assert user is not None
    forget_menu(session, user)
    session.flush()
    return grant


def forget_menu(session: Session, user: User) -> None:
    """The person's roles changed: their conversation reads them again at the next turn (and updates the
    channel's command menu)."""
    from bot.models import Conversation

    session.execute(update(Conversation).where(col(Conversation.user_id) == user.id).values(menu=None))


def subscribe(session: Session, user: User, topic: str, now: dt.datetime) -> bool:
    """Returns False when the user was already subscribed."""
    existing = session.exec(
        select(Subscription).where(Subscription.user_id == user.id, Subscription.topic == topic)
    ).first()
    if existing is not None:
        return False
    session.add(Subscription(user_id=user.id, topic=topic, created_at=now))
    session.flush()
    return True


# The keys Kakao's channel add/block webhook names a person by, and the column each is kept in.
KAKAO_KEYS = {"app_user_id": "app_user_id", "plusfriend_user_key": "plusfriend_key"}


def set_kakao_friend(session: Session, key: str, ident: str, friend: bool) -> None:
    """Someone added or blocked the KakaoTalk channel: the bot writes first to friends only (a blocked one is
    not written to until they come back)."""
    column = getattr(User, KAKAO_KEYS[key])
    session.execute(
        update(User)
        .where(col(User.channel) == "kakao", column == ident)
        .values(is_friend=friend, inactive_reason=None if friend else "blocked the KakaoTalk channel")
    )

"""Personal data under Korea's Personal Information Protection Act (개인정보 보호법): what is kept about a
person, its erasure when they withdraw consent or when the retention period the consent text promises runs
out, and nothing kept of someone who refused consent. What the city must keep for its purchase records (a
submitted application: company name, registration number, the product, scores and decisions) stays, without
the personal fields. Every function takes the session and does not commit; each is one state change with
all its side effects, audited without personal data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.calendar import Month, cycle_data
from bot.database import after_commit
from bot.models import (
    Application,
    ApplicationStatus,
    AuditLog,
    Company,
    Conversation,
    FileLink,
    FormDraft,
    LinkCode,
    Outbox,
    OutboxState,
    RoleGrant,
    Subscription,
    User,
)
from bot.services import accounts, applications, audit, cycles, decisions, files, outbox, review
from bot.services.outbox import Planned
from bot.settings import Settings

# A person's own data in a company's profile; the rest (name, number, size, address) is the company's.
PERSONAL_FIELDS = ("representative", "contact_name", "phone", "email")
WITHDRAWN = "consent_withdrawn"
PURGE_BATCH = 200


@dataclass(frozen=True)
class Holding:
    """Everything kept about one person, over all their accounts."""

    accounts: list[User]
    roles: list[str]
    company: Company | None
    applications: list[Application]
    drafts: list[FormDraft]
    subscriptions: list[str]


@dataclass(frozen=True)
class Erasure:
    """What withdrawing consent deletes and what it keeps (and, afterwards, what it did)."""

    company: str | None  # the company's name, if it has one
    company_kept: bool  # it has applications: the city's records keep it, without personal fields
    applications: int
    drafts: int
    accounts: int
    withdrawn: int = 0  # applications not reviewed yet: withdrawn, as nobody could be told a result


def _unreviewed(session: Session, apps: list[Application]) -> list[Application]:
    """Applications still waiting for their month's selection."""
    waiting = [a for a in apps if a.status == ApplicationStatus.SUBMITTED.value]
    return [a for a in waiting if not review.confirmed(session, a.month)]


def holding(session: Session, user: User) -> Holding:
    people = accounts.accounts_of(session, user)
    ids = [a.id for a in people]
    company = _company(session, ids)
    apps = _applications(session, company)
    drafts = session.exec(select(FormDraft).where(col(FormDraft.user_id).in_(ids)).order_by(col(FormDraft.id))).all()
    topics = session.exec(select(Subscription.topic).where(col(Subscription.user_id).in_(ids))).all()
    return Holding(people, sorted(set(accounts.granted(session, user))), company, apps, list(drafts), sorted(topics))


def erasure_plan(session: Session, user: User) -> Erasure:
    """What :func:`withdraw` would do, for the person to confirm."""
    ids = accounts.account_ids(session, user)
    company = _company(session, ids)
    apps = _applications(session, company)
    drafts = session.exec(select(FormDraft.id).where(col(FormDraft.user_id).in_(ids))).all()
    return Erasure(company.name if company else None, bool(apps), len(apps), len(drafts), len(ids),
                   len(_unreviewed(session, apps)))  # fmt: skip


def withdraw(session: Session, user: User, settings: Settings, now: dt.datetime) -> Erasure:
    """Consent withdrawn: personal data erased on every account of the person, drafts deleted, the accounts
    deactivated and cut from the person's messenger ids (writing again starts afresh). A company with
    applications stays for the city's records without its personal fields; one without is deleted."""
    plan = erasure_plan(session, user)
    ids = accounts.account_ids(session, user)
    company = _company(session, ids)
    if company is not None:
        for app in _unreviewed(session, _applications(session, company)):
            applications.mark_withdrawn(session, app, user.id, now, reason=WITHDRAWN)
        if plan.company_kept:
            _tell_organizers(session, company, settings, now)
            _erase_company(session, company, now)
        else:
            session.delete(company)
    _delete_owned(session, ids, settings)
    # Pending messages are not sent; the sent ones keep no address.
    mine = col(Outbox.recipient_user_id).in_(ids)
    pending = col(Outbox.state) == OutboxState.PENDING.value
    stopped = session.execute(
        update(Outbox).where(mine, pending).values(state=OutboxState.CANCELLED.value).returning(Outbox.event_key),
        execution_options={"synchronize_session": False},
    )
    outbox.tally(session, list(stopped.scalars()), OutboxState.CANCELLED.value)
    session.execute(update(Outbox).where(mine, col(Outbox.state) != OutboxState.SENDING.value).values(chat_id=""))
    for account in session.exec(select(User).where(col(User.id).in_(ids))).all():
        account.external_id = f"erased-{account.id}"
        account.display_name = ""
        account.plusfriend_key = account.app_user_id = account.start_payload = None
        account.is_friend = None
        account.linked_to = None
        account.active = False
        account.inactive_reason = WITHDRAWN
        account.erased_at = account.updated_at = now
        session.add(account)
    session.execute(update(Conversation).where(col(Conversation.user_id).in_(ids)).values(menu=None))
    audit.record(session, now, user.id, "consent_withdrawn", "user", user.id, accounts=len(ids),
                 company_kept=plan.company_kept, applications=plan.applications, drafts=plan.drafts)  # fmt: skip
    session.flush()
    return plan


def consent_refused(session: Session, user: User, now: dt.datetime) -> None:
    """Someone without a company refused consent: nothing they typed stays (the form's draft is already
    gone) and their messenger name is no longer kept. Someone whose company consented earlier keeps it: to
    withdraw, they use the privacy menu, which says what stays."""
    ids = accounts.account_ids(session, user)
    if _company(session, ids) is not None:
        return
    _delete_drafts(session, ids)
    for account in accounts.accounts_of(session, user):
        account.display_name = ""
        account.consent_refused_at = account.updated_at = now
        session.add(account)
    audit.record(session, now, user.id, "consent_refused", "user", user.id)


def consent_given(session: Session, user: User, now: dt.datetime) -> None:
    """Consent given after a refusal: the messenger name may be kept again."""
    for account in accounts.accounts_of(session, user):
        if account.consent_refused_at is not None:
            account.consent_refused_at, account.updated_at = None, now
            session.add(account)


def keeps_name(user: User) -> bool:
    return user.consent_refused_at is None and user.erased_at is None


def purge_expired(session: Session, settings: Settings, now: dt.datetime) -> int:
    """The retention period: personal data of people not seen for ``retention_days`` (and whose consent
    is as old) is erased. Run once per day (by the date in Seoul); returns the people purged."""
    day = now.astimezone(settings.tz).date().isoformat()
    done = session.exec(
        select(AuditLog.id).where(AuditLog.action == "retention_purge", AuditLog.entity_id == day)
    ).first()
    if done is not None:
        return 0
    cutoff = now - dt.timedelta(days=settings.retention_days)
    purged = 0
    while True:
        batch = session.exec(_stale(cutoff).limit(PURGE_BATCH)).all()
        for person in batch:
            _purge(session, person, cutoff, now)
        purged += len(batch)
        session.flush()
        if len(batch) < PURGE_BATCH:
            break
    audit.record(session, now, None, "retention_purge", "day", day, people=purged,
                 retention_days=settings.retention_days)  # fmt: skip
    return purged


# ---- helpers -------------------------------------------------------------------------------------------
def _company(session: Session, ids: list[int]) -> Company | None:
    return session.exec(select(Company).where(col(Company.owner_user_id).in_(ids))).first()


def _applications(session: Session, company: Company | None) -> list[Application]:
    if company is None:
        return []
    stmt = select(Application).where(Application.company_id == company.id).order_by(col(Application.id))
    return list(session.exec(stmt).all())


def _tell_organizers(session: Session, company: Company, settings: Settings, now: dt.datetime) -> None:
    """A selected company whose Pitching Day or purchase decisions are still ahead can no longer be written to:
    the organizers hear it (the city expected it on Pitching Day and had no word of why its messages failed)."""
    people: list[User] | None = None
    for app in _applications(session, company):
        cycle = cycles.get_cycle(session, Month.parse(app.month), settings)
        if app.status != ApplicationStatus.SELECTED or cycle.decision_deadline_at <= now:
            continue
        if people is None:  # once each, whatever their accounts
            people = list(
                {accounts.primary(session, u).id: u for u in decisions.organizers(session, settings)}.values()
            )
        data = {"company": company.name, "product_name": app.product_name, "receipt_no": app.receipt_no,
                "cycle": cycle_data(cycle), "pitched": cycle.pitch_at <= now}  # fmt: skip
        outbox.plan(session, [Planned(person, "privacy/selected_left", data, f"{app.month}:selected_left:{app.id}", now)
                              for person in people], now)  # fmt: skip


def _erase_company(session: Session, company: Company, now: dt.datetime) -> None:
    for name in PERSONAL_FIELDS:
        setattr(company, name, "")
    company.erased_at = company.updated_at = now
    session.add(company)


def _delete_drafts(session: Session, ids: list[int]) -> None:
    """Drafts go with the pitch decks uploaded into them (a submitted application's deck stays)."""
    decks = [
        str(deck["path"])
        for data in session.exec(select(FormDraft.data).where(col(FormDraft.user_id).in_(ids))).all()
        if isinstance(deck := (data or {}).get("deck"), dict) and deck.get("path")
    ]
    session.execute(delete(FormDraft).where(col(FormDraft.user_id).in_(ids)))
    kept = set(session.exec(select(Application.deck_path).where(col(Application.deck_path).in_(decks))).all())
    decks = [p for p in decks if p not in kept]
    if decks:
        after_commit(session, lambda: [Path(p).unlink(missing_ok=True) for p in decks])


def _delete_owned(session: Session, ids: list[int], settings: Settings) -> None:
    _delete_drafts(session, ids)
    files.forget_links(session, settings, col(FileLink.user_id).in_(ids))  # an export's file goes with its link
    # Exports made for organizers hold this person's contacts too: a new one leaves them out.
    files.forget_links(session, settings, FileLink.kind == files.DOWNLOAD, FileLink.mime == files.SPREADSHEET)
    for model in (Subscription, RoleGrant, LinkCode):
        session.execute(delete(model).where(col(model.user_id).in_(ids)))  # type: ignore[attr-defined]


def _stale(cutoff: dt.datetime):  # type: ignore[no-untyped-def]
    """People (their primary accounts) not seen since ``cutoff`` who still have something to erase."""
    acct = aliased(User)
    group = or_(acct.id == User.id, acct.linked_to == User.id)
    seen = (
        select(Conversation.user_id)
        .join(acct, acct.id == Conversation.user_id)
        .where(group, col(Conversation.updated_at) >= cutoff)
    )
    named = select(acct.id).where(group, acct.display_name != "")
    owns = (
        select(Company.id)
        .join(acct, acct.id == Company.owner_user_id)
        .where(group, col(Company.erased_at).is_(None), col(Company.consent_at) < cutoff)
    )
    drafting = select(FormDraft.id).join(acct, acct.id == FormDraft.user_id).where(group)
    return (
        select(User)
        .where(col(User.linked_to).is_(None), col(User.created_at) < cutoff, ~exists(seen))
        .where(or_(exists(named), exists(owns), exists(drafting)))
        .order_by(col(User.id))
    )


def _purge(session: Session, person: User, cutoff: dt.datetime, now: dt.datetime) -> None:
    """Erases what the retention period ended; the account stays (writing again, they start anew)."""
    ids = accounts.account_ids(session, person)
    company = _company(session, ids)
    if company is not None and company.erased_at is None and company.consent_at < cutoff:
        _erase_company(session, company, now)
    _delete_drafts(session, ids)
    session.execute(update(User).where(col(User.id).in_(ids)).values(display_name="", updated_at=now))
    audit.record(session, now, None, "retention_erased", "user", person.id, accounts=len(ids),
                 company=company is not None)  # fmt: skip

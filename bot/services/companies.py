from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlmodel import Session, col, or_, select

from bot.errors import Refused
from bot.forms import profile_form
from bot.models import RESULT_STATUSES, Application, Company, FormDraft, Review, User
from bot.services import audit, drafts, privacy
from bot.validators import Invalid

CONSENT_VERSION = "2026-11"
PROFILE_FIELDS = ("name", "brn", "representative", "size", "address", "contact_name", "phone", "email")


def company_of(session: Session, user: User) -> Company | None:
    return session.exec(select(Company).where(Company.owner_user_id == user.id)).first()


def brn_check(session: Session, draft: FormDraft, field: str, value: Any) -> None:
    """The same registration number from a second account is refused, never merged."""
    if field != "brn":
        return
    _check_brn(session, draft.user_id, value)


def _check_brn(session: Session, user_id: int | None, brn: str) -> Company | None:
    """Refuses a number another current company holds, or a new number for a company that has applied; returns
    the user's own company (found in the same query, often the same row)."""
    found = session.exec(select(Company).where(or_(Company.brn == brn, Company.owner_user_id == user_id))).all()
    if any(c.brn == brn and c.owner_user_id != user_id and not _left(session, c) for c in found):
        raise Invalid("brn_taken")
    mine = next((c for c in found if c.owner_user_id == user_id), None)
    # A number identifies the company the city's records are about: with applications sent, another number
    # would rewrite whose they were (the exports of earlier months showed the new one).
    if mine is not None and mine.brn != brn and _applied(session, mine):
        raise Invalid("brn_fixed", brn=mine.brn)
    return mine


def _applied(session: Session, company: Company) -> bool:
    """Whether the city holds records about this company: an application reviewed or given a result (one sent
    minutes ago, still in its window, may have its number corrected)."""
    resulted = col(Application.status).in_(RESULT_STATUSES)
    reviewed = col(Application.id).in_(select(Review.application_id))
    stmt = select(Application.id).where(Application.company_id == company.id, or_(resulted, reviewed))
    return session.exec(stmt).first() is not None


def _left(session: Session, company: Company) -> bool:
    """A company kept only for the city's records: the person who registered it withdrew their consent (its
    personal fields erased, their accounts cut off). Its number may be registered again, as a new company
    that does not see those records (anyone may type a number: taking the records up gave a stranger a
    company's results, its Pitching Day slot and its purchase decisions, and let them rename them)."""
    owner = session.get(User, company.owner_user_id)
    return company.erased_at is not None and owner is not None and owner.inactive_reason == privacy.WITHDRAWN


def start_profile(
    session: Session, user: User, now: dt.datetime, next_step: str, found: Company | Literal["look"] | None = "look"
) -> FormDraft:
    """A new profile, or the existing one on its review page for editing (``found``: the caller looked the
    user's company up already)."""
    company = company_of(session, user) if isinstance(found, str) else found
    if company is None:
        existing = drafts.get_draft(session, user.id, profile_form().key)
        if existing is not None and existing.application_id is None:
            if next_step and existing.next_step != next_step:
                existing.next_step = next_step
                session.add(existing)
            return existing
        return drafts.open_draft(session, user.id, profile_form(), now, next_step=next_step, found=existing)
    if company.erased_at is not None:
        # The personal fields were erased (retention over): consent and contact are asked again.
        kept = {f: getattr(company, f) for f in PROFILE_FIELDS if f not in privacy.PERSONAL_FIELDS}
        return drafts.open_draft(session, user.id, profile_form(), now, data=kept, next_step=next_step)
    data: dict[str, Any] = {f: getattr(company, f) for f in PROFILE_FIELDS}
    data["consent"] = "agree"
    return drafts.open_draft(session, user.id, profile_form(), now, data=data, next_step=next_step, reviewing=True)


def usable(company: Company | None) -> bool:
    """A company whose profile can carry an application: it exists and its contact was not erased."""
    return company is not None and company.erased_at is None


def save_profile(session: Session, user: User, draft: FormDraft, now: dt.datetime) -> Company:
    missing = [f for f in PROFILE_FIELDS if draft.data.get(f) in (None, "")]
    if missing or draft.data.get("consent") != "agree":
        raise Refused("form_incomplete")
    company = _check_brn(session, user.id, draft.data["brn"])
    created = company is None
    if company is None:
        company = Company(
            owner_user_id=user.id,
            consent_version=CONSENT_VERSION,
            consent_at=now,
            created_at=now,
            **{f: draft.data[f] for f in PROFILE_FIELDS},
        )
    else:
        changed = {f: draft.data[f] for f in PROFILE_FIELDS if getattr(company, f) != draft.data[f]}
        for name, value in changed.items():
            setattr(company, name, value)
        # Saving the profile agrees to the consent again: the retention period counts from now.
        company.consent_version, company.consent_at, company.erased_at = CONSENT_VERSION, now, None
    privacy.consent_given(session, user, now)
    company.updated_at = now
    session.add(company)
    session.flush()
    audit.record(
        session, now, user.id, "company_created" if created else "company_updated", "company", company.id,
        fields=[f for f in PROFILE_FIELDS if created or f in draft.data],
    )  # fmt: skip
    session.delete(draft)
    return company

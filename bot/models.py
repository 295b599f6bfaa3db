"""Tables. Every time column is aware UTC (see :class:`bot.database.UTCDateTime`)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime


def _time(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Role(enum.StrEnum):
    ORGANIZER = "organizer"
    REVIEWER = "reviewer"
    OFFICIAL = "official"


class CompanySize(enum.StrEnum):
    SME = "sme"  # 중소기업
    MIDSIZE = "midsize"  # 중견기업
    LARGE = "large"  # 대기업


class ApplicationStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    SELECTED = "selected"  # set when the selection is released on the 15th
    WAITLISTED = "waitlisted"
    NOT_SELECTED = "not_selected"


# The statuses an application has once its selection's results went out.
RESULT_STATUSES = (ApplicationStatus.SELECTED, ApplicationStatus.WAITLISTED, ApplicationStatus.NOT_SELECTED)


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher until lease_until
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # a broadcast stopped before this row was sent


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=80)
    display_name: str = Field(default="", max_length=200)
    language: str | None = Field(default=None, max_length=8)  # chosen explicitly
    client_language: str | None = Field(default=None, max_length=16)  # as the client reports it
    active: bool = True
    # Companies and officials get news unless they opt out; others subscribe with /subscribe.
    news_opt_out: bool = False
    start_payload: str | None = Field(default=None, max_length=64)
    # KakaoTalk keeps more than one key per person: the channel's own, and the app's with Kakao Login.
    plusfriend_key: str | None = Field(default=None, max_length=80, index=True)
    app_user_id: str | None = Field(default=None, max_length=80, index=True)
    # Whether the person has added the KakaoTalk channel (None: not known); the bot cannot write first
    # to someone who has not.
    is_friend: bool | None = None
    inactive_reason: str | None = Field(default=None, max_length=200)
    # The same person on another channel: this account acts as that one (its company, roles and drafts).
    # Indexed: the roles of every turn that reads them look up the accounts joined to the person.
    linked_to: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id"), nullable=True, index=True)
    )
    # Refused the consent: the messenger's name is not kept for them (see bot/services/privacy.py).
    consent_refused_at: dt.datetime | None = _time(nullable=True)
    # Personal data erased (consent withdrawn): the row stays only as what the city's records point to.
    erased_at: dt.datetime | None = _time(nullable=True)
    created_at: dt.datetime = _time()
    updated_at: dt.datetime = _time()


class DepartmentKind(enum.StrEnum):
    """What a buying department (수요처) is, as the city groups them."""

    BUREAU = "bureau"  # 본청 실·본부·국
    OFFICE = "office"  # 사업소
    AGENCY = "agency"  # 투자출연기관
    DISTRICT = "district"  # 자치구
    EDUCATION = "education"  # 교육청
    OTHER = "other"


class Department(SQLModel, table=True):
    """A buying department (수요처) from the list organizers keep. Companies pick from it, officials belong to
    one entry, and decisions are matched by its id. A department that stops buying is made inactive, not
    deleted: the records of past months still name it."""

    __tablename__ = "departments"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    kind: str = Field(default=DepartmentKind.OTHER.value, max_length=16)
    active: bool = True
    created_at: dt.datetime = _time()
    updated_at: dt.datetime = _time()


def _department_id() -> Any:
    return Field(default=None, sa_column=Column(Integer, ForeignKey("departments.id"), nullable=True, index=True))


class RoleGrant(SQLModel, table=True):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True))
    role: str = Field(max_length=16)
    department_id: int | None = _department_id()  # an official's department
    # The registration number of the company a reviewer works for: never assigned its applications.
    affiliation_brn: str | None = Field(default=None, max_length=10)
    # A reviewer's conflict-of-interest pledge (이해충돌 방지 서약): the text's version and when accepted.
    pledge_version: str | None = Field(default=None, max_length=16)
    pledged_at: dt.datetime | None = _time(nullable=True)
    granted_by: int | None = None
    granted_at: dt.datetime = _time()


class Company(SQLModel, table=True):
    __tablename__ = "companies"
    # One current company per registration number. A company whose person withdrew consent stays, erased, for
    # the city's records; registering its number again makes a new company, which does not see those records.
    __table_args__ = (
        Index("ux_companies_brn_current", "brn", unique=True, sqlite_where=text("erased_at IS NULL"),
              postgresql_where=text("erased_at IS NULL")),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    owner_user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, unique=True))
    name: str = Field(max_length=200)
    brn: str = Field(sa_column=Column(String(10), nullable=False, index=True))
    representative: str = Field(max_length=100)
    size: str = Field(max_length=16)
    address: str = Field(max_length=300)
    contact_name: str = Field(max_length=100)
    phone: str = Field(max_length=32)  # E.164 and an extension: +82221331234;ext=123456
    email: str = Field(max_length=254)
    consent_version: str = Field(max_length=16)
    consent_at: dt.datetime = _time()
    # Contact and representative erased (consent withdrawn or retention over); name and number stay for
    # the city's purchase records.
    erased_at: dt.datetime | None = _time(nullable=True)
    created_at: dt.datetime = _time()
    updated_at: dt.datetime = _time()


class Application(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("company_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(sa_column=Column(Integer, ForeignKey("companies.id"), nullable=False, index=True))
    month: str = Field(max_length=7, index=True)  # YYYY-MM of the Pitching Day cycle
    status: str = Field(max_length=16, index=True)
    receipt_no: str | None = Field(default=None, sa_column=Column(String(20), unique=True))
    product_name: str = Field(max_length=200)
    tech_fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trl: int
    summary: str
    city_use: str
    # The buying departments the company wishes, ids of the department list.
    department_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    price: str | None = Field(default=None, max_length=200)
    deck_file_id: str | None = Field(default=None, max_length=200)
    deck_file_name: str | None = Field(default=None, max_length=255)
    deck_file_size: int | None = None
    deck_path: str | None = Field(default=None, max_length=500)
    # The organizer's hand in the selection: "in" or "out" overrides the ranking; None follows it.
    placement: str | None = Field(default=None, max_length=8)
    feedback: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The departments that judge the company at the pitch (the organizers'; None: the company's wish).
    responsible_department_ids: list[int] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    submitted_at: dt.datetime = _time()
    withdrawn_at: dt.datetime | None = _time(nullable=True)
    updated_at: dt.datetime = _time()


class FormDraft(SQLModel, table=True):
    """Answers saved as the user goes, so a restart loses nothing."""

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("user_id", "form"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False))
    form: str = Field(max_length=32)
    month: str | None = Field(default=None, max_length=7, index=True)
    # The application being edited after submission, if any.
    application_id: int | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Raw input not accepted yet (a failed answer, a selection in progress): nothing typed is lost.
    pending: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    current: str | None = Field(default=None, max_length=32)
    reviewing: bool = False
    # What follows when the form is done: "apply" continues to the application, "end" stops.
    next_step: str | None = Field(default=None, max_length=16)
    # What the form is about (a decision's id, a review's id, a programme's month), JSON-safe.
    ref: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    created_at: dt.datetime = _time()
    updated_at: dt.datetime = _time()


class CycleOverride(SQLModel, table=True):
    __tablename__ = "cycle_overrides"

    month: str = Field(primary_key=True, max_length=7)
    window_opens_at: dt.datetime | None = _time(nullable=True)
    window_closes_at: dt.datetime | None = _time(nullable=True)
    selection_at: dt.datetime | None = _time(nullable=True)
    pitch_at: dt.datetime | None = _time(nullable=True)
    decision_deadline_at: dt.datetime | None = _time(nullable=True)
    updated_by: int | None = None
    updated_at: dt.datetime = _time()


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True))
    topic: str = Field(max_length=32)
    created_at: dt.datetime = _time()


class Conversation(SQLModel, table=True):
    """Where one person is in a conversation: the one owner of that fact, locked for the length of a turn."""

    __tablename__ = "conversations"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), primary_key=True))
    flow: str | None = Field(default=None, max_length=32)  # the active flow, None when at rest
    step: str | None = Field(default=None, max_length=32)  # where in that flow
    # What the flow is about (a form's key, a review's id...), JSON-safe.
    ref: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Stamped into every choice token of the last screen: an older token is recognised as stale.
    version: int = 0
    # The last updates applied (Telegram's update_id): a redelivered one is dropped.
    recent: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The last screen's choices and what it waits for, so typed labels and numbers can pick.
    screen: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Which commands this person's channel menu shows (their roles), to update it when roles change.
    menu: str | None = Field(default=None, max_length=64)
    updated_at: dt.datetime = _time()


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _time(index=True)
    actor_user_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Outbox(SQLModel, table=True):
    """Every message the bot sends on its own initiative. One row per recipient and event."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("recipient_user_id", "event_key"),
        Index("ix_outbox_state_due", "state", "due_at"),
        # The claim walks pending rows in due order and stops at its batch: however long the queue (and
        # however many sent rows lie around), it reads only what it takes.
        Index("ix_outbox_pending_due", "due_at", "id", sqlite_where=text("state = 'pending'"),
              postgresql_where=text("state = 'pending'")),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    recipient_user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False))
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=80)
    template: str = Field(max_length=100)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    event_key: str = Field(max_length=120)
    state: str = Field(default=OutboxState.PENDING, max_length=16)
    due_at: dt.datetime = _time()
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_until: dt.datetime | None = _time(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=64)
    # A document to send, the text as its caption: {"file_id": ...} or {"filename": ..., "content": ...}.
    document: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    sent_at: dt.datetime | None = _time(nullable=True)
    # Where a channel only acknowledges (KakaoTalk's Event API), the task to ask about delivery later.
    task_id: str | None = Field(default=None, max_length=80, index=True)
    task_checked_at: dt.datetime | None = _time(nullable=True)
    # A text too long for one message goes as several; a retry starts after the parts already sent.
    parts_sent: int = 0
    created_at: dt.datetime = _time()


class CyclePhase(SQLModel, table=True):
    """Where the scheduler last saw a month; each change of phase is also in the audit log."""

    __tablename__ = "cycle_phases"

    month: str = Field(primary_key=True, max_length=7)
    phase: str = Field(max_length=16)
    updated_at: dt.datetime = _time()


class Invitation(SQLModel, table=True):
    """A single-use link that grants a role; it expires."""

    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    role: str = Field(max_length=16)
    department_id: int | None = _department_id()
    created_by: int | None = None
    created_at: dt.datetime = _time()
    expires_at: dt.datetime = _time()
    used_by: int | None = None
    used_at: dt.datetime | None = _time(nullable=True)


class Review(SQLModel, table=True):
    """One reviewer's assignment to one application, and their scores (1–5 each) once given."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(sa_column=Column(Integer, ForeignKey("applications.id"), nullable=False, index=True))
    reviewer_user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True))
    innovation: int | None = None  # 혁신성
    safety: int | None = None  # 안전성
    applicability: int | None = None  # 시정 적용가능성
    economy: int | None = None  # 경제성
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    conflict: bool = False
    assigned_at: dt.datetime = _time()
    updated_at: dt.datetime = _time()
    # When all four scores were first given (later corrections keep it): how early a reviewer finished.
    completed_at: dt.datetime | None = _time(nullable=True)


class Selection(SQLModel, table=True):
    """A month's confirmed selection; results go out at ``release_at`` (held until selection day)."""

    __tablename__ = "selections"

    month: str = Field(primary_key=True, max_length=7)
    confirmed_by: int | None = None
    confirmed_at: dt.datetime = _time()
    release_at: dt.datetime = _time()
    released_at: dt.datetime | None = _time(nullable=True)
    # Application ids as decided at confirmation: {"selected": [...], "waitlisted": [...], "not_selected": [...]}
    decided: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AppealStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # 인용
    REJECTED = "rejected"  # 기각


class Appeal(SQLModel, table=True):
    """A company's appeal (이의신청) against its result: one per application, decided by an organizer who
    did not review that application."""

    __tablename__ = "appeals"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(sa_column=Column(Integer, ForeignKey("applications.id"), nullable=False, unique=True))
    filed_by: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False))
    ground: str = Field(max_length=16)  # fact_error, misreading, administrative
    details: str = Field(sa_column=Column(Text, nullable=False))
    file_id: str | None = Field(default=None, max_length=200)
    file_name: str | None = Field(default=None, max_length=255)
    file_path: str | None = Field(default=None, max_length=500)
    filed_at: dt.datetime = _time()
    status: str = Field(default=AppealStatus.OPEN, max_length=16, index=True)
    decided_by: int | None = None
    decided_at: dt.datetime | None = _time(nullable=True)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    promoted_at: dt.datetime | None = _time(nullable=True)  # moved into the selection after acceptance


class DecisionStatus(enum.StrEnum):
    OPEN = "open"
    BUY = "buy"  # 구매
    NO_BUY = "no_buy"  # 미구매
    REVIEW = "review"  # 추가 검토


class Programme(SQLModel, table=True):
    """A month's Pitching Day programme; the running order is a list of application ids."""

    __tablename__ = "programmes"

    month: str = Field(primary_key=True, max_length=7)
    venue: str = Field(default="", max_length=300)
    starts_at: dt.datetime = _time()
    slot_minutes: int = 20
    order: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 0  # 0 until published; each publication adds one
    published_at: dt.datetime | None = _time(nullable=True)
    # What was last published, to tell only those affected by a change.
    published: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = _time()


class PurchaseDecision(SQLModel, table=True):
    """A responsible buying department's decision on a selected company, due 15 days after the pitch."""

    __tablename__ = "purchase_decisions"
    __table_args__ = (
        UniqueConstraint("application_id", "department"),
        Index("ux_purchase_decisions_application_department", "application_id", "department_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(sa_column=Column(Integer, ForeignKey("applications.id"), nullable=False, index=True))
    department_id: int = Field(sa_column=Column(Integer, ForeignKey("departments.id"), nullable=False, index=True))
    department: str = Field(max_length=200)  # the department's name, as shown (a rename updates it)
    status: str = Field(default=DecisionStatus.OPEN, max_length=16)
    amount: str | None = Field(default=None, max_length=200)
    timing: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by: int | None = None
    decided_at: dt.datetime | None = _time(nullable=True)
    corrections: int = 0
    # Read when an official opens the decision and compared when it is recorded: a change by someone else
    # in between is shown to them and confirmed on purpose, never silently overwritten.
    version: int = 0
    updated_at: dt.datetime = _time()


class Expo(SQLModel, table=True):
    """The yearly Testbed Expo, kept up to date by organizers; Korean and English texts."""

    __tablename__ = "expos"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    starts_on: dt.date
    ends_on: dt.date
    venue: str = Field(max_length=300)
    venue_en: str = Field(max_length=300)
    booking: str = Field(sa_column=Column(Text, nullable=False))
    booking_en: str = Field(sa_column=Column(Text, nullable=False))
    # [{"day": 1, "start": "10:00", "end": "12:00", "kind": "forum", "title": ..., "title_en": ...}, ...]
    programme: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_by: int | None = None
    updated_at: dt.datetime = _time()


class Broadcast(SQLModel, table=True):
    """One message to many, sent through the outbox; its progress is edited into one organizer message."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    created_by: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False))
    created_at: dt.datetime = _time()
    audience: str = Field(max_length=32)
    month: str | None = Field(default=None, max_length=7)
    kind: str = Field(max_length=8)  # "text" or "expo"
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default="sending", max_length=16)  # planning, sending, done, cancelled
    # The audience counted when the organizer confirmed; once planned, the rows actually planned.
    recipients: int = 0
    # The planner fills the outbox in batches of user ids after the confirmation (bot/services/planner.py):
    # the last user id it has planned, and how many rows it has planned.
    planned_through: int = 0
    planned: int = 0
    # Counted as the outbox rows change state, so progress is read from this row, never from the outbox
    # (whose old rows are pruned in the end).
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    progress_chat_id: str | None = Field(default=None, max_length=80)
    progress_message_id: int | None = None
    finished_at: dt.datetime | None = _time(nullable=True)


class FileLink(SQLModel, table=True):
    """A link to a file for one person, expiring: a download (a deck, an .ics, an export) on channels that
    cannot carry files, or a single-use upload page for a form's file question."""

    __tablename__ = "file_links"

    token: str = Field(sa_column=Column(String(48), primary_key=True))
    kind: str = Field(max_length=8)  # "download" or "upload"
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True))
    path: str | None = Field(default=None, max_length=500)
    filename: str = Field(max_length=255)
    mime: str = Field(default="application/octet-stream", max_length=100)
    form: str | None = Field(default=None, max_length=32)  # an upload: the form and question it answers
    field: str | None = Field(default=None, max_length=32)
    created_at: dt.datetime = _time()
    expires_at: dt.datetime = _time()
    used_at: dt.datetime | None = _time(nullable=True)


class LinkCode(SQLModel, table=True):
    """A one-time code that joins a person's accounts on two channels."""

    __tablename__ = "link_codes"

    code: str = Field(sa_column=Column(String(16), primary_key=True))
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False))
    created_at: dt.datetime = _time()
    expires_at: dt.datetime = _time()
    used_by: int | None = None
    used_at: dt.datetime | None = _time(nullable=True)


class SendBudget(SQLModel, table=True):
    """A channel's flood limit, shared by every process: the next free send slot, in epoch seconds.

    Slots are wall-clock time, not the bot's clock: flood limits count real seconds."""

    __tablename__ = "send_budget"

    channel: str = Field(sa_column=Column(String(16), primary_key=True))
    next_at: float = 0.0

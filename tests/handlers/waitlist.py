"""Set-up for a released selection with a waitlist, on either channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select

from bot.models import Appeal, Application, Company, Outbox, Selection
from bot.services.departments import ensure as ensure_department
from tests.dialogue.driver import World
from tests.harness import KST


def seed_released(
    where: Any, departments: list[str], waitlisted: int, channel: str = "telegram", first: int = 8001,
    month: str = "2026-12",
) -> tuple[list[int], list[int]]:  # fmt: skip
    """Companies ``first``, ``first + 1``… (named 기업<id>): one selected per entry of ``departments`` (its
    responsible departments), then ``waitlisted`` on the waitlist; the results went out on the 15th.
    ``where`` is anything with ``settings``, ``clock`` and ``db`` (a harness, a KakaoTalk world, a World)."""
    ids = World(where.settings, where.clock, where.db).applications(
        len(departments) + waitlisted, month, first, channel
    )
    chosen, waiting = ids[: len(departments)], ids[len(departments) :]
    released = dt.datetime(2026, 12, 15, 10, 0, tzinfo=KST)
    with where.db.session() as session:
        for app_id in ids:
            app = session.get(Application, app_id)
            assert app is not None
            app.status = "selected" if app_id in chosen else "waitlisted"
            if app_id in chosen:
                names = [n.strip() for n in departments[chosen.index(app_id)].split(",") if n.strip()]
                app.responsible_department_ids = [ensure_department(session, n, released).id or 0 for n in names]
            session.add(app)
        session.add(Selection(month=month, confirmed_at=released, release_at=released, released_at=released,
                              decided={"selected": chosen, "waitlisted": waiting, "not_selected": []}))  # fmt: skip
    return chosen, waiting


def messages(where: Any, template: str) -> list[Outbox]:
    with where.db.session() as session:
        return list(session.exec(select(Outbox).where(Outbox.template == template)).all())


def seed_accepted_appeal(where: Any, app_id: int, organizer_id: int | None = None) -> int:
    """An appeal of ``app_id``, filed on the 16th and accepted on the 17th (by ``organizer_id``, a user id,
    or nobody in particular); returns its id. What follows (adding the company) is the test's own."""
    filed = dt.datetime(2026, 12, 16, 9, 0, tzinfo=KST)
    with where.db.session() as session:
        app = session.get(Application, app_id)
        company = session.get(Company, app.company_id) if app else None
        assert company is not None
        appeal = Appeal(application_id=app_id, filed_by=company.owner_user_id, ground="misreading",
                        details="실증 자료가 평가에 반영되지 않았습니다.", filed_at=filed, status="accepted",
                        decided_by=organizer_id, decided_at=filed + dt.timedelta(days=1),
                        reason="제출 자료를 확인하여 인용합니다.")  # fmt: skip
        session.add(appeal)
        session.flush()
        return appeal.id or 0

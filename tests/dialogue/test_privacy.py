"""Issue 14, points 5 and 6 at the dialogue level: conflicts of interest (a reviewer never gets, an official
never decides on, their own company's application, also through a linked account), and personal data under
the Personal Information Protection Act (my data as a readable file, withdrawing consent with what stays
and why, the retention purge on the tick, no name left by those who refuse, no personal data in logs)."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot import logs
from bot.dialogue.model import PLAIN, TELEGRAM, Capabilities
from bot.errors import Refused
from bot.models import Application, AuditLog, Company, FormDraft, Review, Role, Subscription, User
from bot.services import decisions, review
from scheduler.tick import tick
from tests.dialogue.driver import BOTH, Person, World, at
from tests.dialogue.walks import fill_application, register_profile, submit
from tests.handlers.committee import brn_for, seed_selected

Make = Callable[..., Person]


async def choose(p: Person, label: str) -> None:
    await (p.send(label) if p.caps is PLAIN else p.press(label))


# ---- 5. conflicts of interest ---------------------------------------------------------------------------
async def test_a_reviewer_is_never_assigned_their_own_company(person: Make, world: World) -> None:
    first, second, third = world.applications(3, first=8001)
    # One reviewer owns 기업8001 on this very account; another reviews on KakaoTalk, joined to the Telegram
    # account that owns 기업8002.
    world.grant("telegram", "8001", Role.REVIEWER, pledged=True)
    world.grant("kakao", "rev-k", Role.REVIEWER, pledged=True)
    owner = person(TELEGRAM, "8002")
    await owner.send("/link")
    code = owner.text.split("연결 ")[1].split()[0]
    kakao = person(PLAIN, "rev-k")
    await kakao.send(f"연결 {code}")
    assert "계정을 연결했습니다" in kakao.text

    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    own, linked = world.user("telegram", "8001").id, world.user("kakao", "rev-k").id
    pairs = {(r.reviewer_user_id, r.application_id) for r in world.all(Review)}
    assert (own, first) not in pairs and (linked, second) not in pairs
    assert {(own, second), (own, third), (linked, first), (linked, third)} <= pairs

    world.clock.set(at(12))
    reviewer = person(TELEGRAM, "8001")
    await reviewer.send("/review")
    assert "0/2건 완료" in reviewer.text and "PD-202612-0001" not in reviewer.labels()


async def test_an_earlier_assignment_to_ones_own_company_is_taken_off(person: Make, world: World) -> None:
    [app_id, _] = world.applications(2, first=8001)
    with world.session() as session:  # assigned when 8001 was not yet known to own the company
        session.add(Review(application_id=app_id, reviewer_user_id=world.user("telegram", "8001").id or 0,
                           innovation=5, assigned_at=world.clock.now(), updated_at=world.clock.now()))  # fmt: skip
    world.grant("telegram", "8001", Role.REVIEWER)
    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    [mine] = [r for r in world.all(Review) if r.application_id == app_id]
    assert mine.conflict and mine.innovation is None
    with world.session() as session, pytest.raises(Refused):
        review.get_own(session, world.user("telegram", "8001"), mine.id or 0, world.settings)


@BOTH
async def test_an_official_never_decides_on_their_own_company(caps: Capabilities, person: Make, world: World) -> None:
    seed_selected(world, ["서울교통공사", "서울교통공사"])  # type: ignore[arg-type]
    with world.session() as session:
        decisions.ensure_rows(session, "2026-12", world.clock.now())
    # The owner of 기업1 (Telegram 8001) is also an official of the buying department.
    world.grant("telegram", "8001", Role.OFFICIAL, department="서울교통공사")
    world.clock.set(at(26))
    p = person(TELEGRAM, "8001")
    await p.send("/decisions")
    await p.press("기업1")
    assert "이해충돌" in p.text and "결정 (1/3)" not in p.text
    await p.send("/decisions")
    await p.press("기업2")  # someone else's company: allowed
    assert "결정 (1/3)" in p.text
    own = next(r for r in world.all(Application) if r.product_name == "제품1")
    with world.session() as session:
        decision = next(d for d in decisions.board(session, "2026-12", world.settings, world.clock.now())
                        if d.application.id == own.id).decision  # fmt: skip
        official = session.exec(select(User).where(User.external_id == "8001")).one()
        with pytest.raises(Refused) as refused:
            decisions.record(session, official, decision.id or 0, "buy", world.settings, world.clock.now())
        assert refused.value.code == "conflict_of_interest"


# ---- 6. personal data -----------------------------------------------------------------------------------
async def test_my_data_comes_as_a_readable_file(person: Make, world: World) -> None:
    p = person(TELEGRAM, "c-1")
    await register_profile(p)
    await fill_application(p, deck=False)
    await submit(p)
    await p.send("/mydata")
    assert "내 개인정보" in p.text and "한빛로보틱스" in p.text
    [caption] = await p.press("내 정보 파일 받기")
    [attachment] = caption.attachments
    assert attachment.filename == "my-data.txt"
    assert attachment.content is not None
    content = attachment.content.decode("utf-8")
    for expected in ("담당자: 최담당", "연락처: 010-2345-6789", "이메일: choi@hanbit.kr", "기업 규모: 중소기업",
                     "기술 분야: 인공지능(AI), 로봇", "접수 완료", "텔레그램", "TRL 7"):  # fmt: skip
        assert expected in content, expected
    # Labels in the person's language, never the stored codes.
    for code in ("sme", "submitted", "robot", "telegram", "None"):
        assert code not in content, code


@BOTH
async def test_withdrawing_consent_erases_and_says_what_stays(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "c-2")
    await register_profile(p)
    await fill_application(p, deck=False)
    receipt = await submit(p)
    await p.send("구독" if caps is PLAIN else "/subscribe")
    await p.send("내 정보" if caps is PLAIN else "/mydata")
    await choose(p, "동의 철회 및 삭제")
    assert "삭제하는 정보" in p.text and "보관하는 정보" in p.text and "구매 기록" in p.text
    assert "신청서 1건" in p.text and "심사 전인 신청서 1건은 철회합니다" in p.text
    await choose(p, "아니요")
    assert "삭제하지 않았습니다" in p.text
    assert world.all(Company)[0].phone != ""

    await p.send("내 정보" if caps is PLAIN else "/mydata")
    await choose(p, "동의 철회 및 삭제")
    await choose(p, "예, 삭제합니다")
    assert "삭제했습니다" in p.text and "한빛로보틱스" in p.text

    [company] = world.all(Company)
    assert (company.name, company.representative, company.contact_name, company.phone, company.email) == (
        "한빛로보틱스", "", "", "", "")  # fmt: skip
    assert company.erased_at is not None
    [app] = world.all(Application)
    # The city's record stays; not reviewed yet, it is withdrawn (nobody could be told its result).
    assert app.receipt_no == receipt and app.status == "withdrawn" and app.withdrawn_at is not None
    [why] = [a.data for a in world.all(AuditLog) if a.action == "application_withdrawn"]
    assert why == {"receipt_no": receipt, "reason": "consent_withdrawn"}
    user = next(u for u in world.all(User) if u.erased_at is not None)
    assert (user.external_id, user.display_name, user.active) == (f"erased-{user.id}", "", False)
    assert world.all(Subscription) == [] and world.all(FormDraft) == []
    [entry] = [a for a in world.all(AuditLog) if a.action == "consent_withdrawn"]
    assert "최담당" not in repr(entry.data) and "choi@" not in repr(entry.data)

    # Writing again starts afresh: a new account with no company.
    await p.send("현황" if caps is PLAIN else "/status")
    assert "한빛로보틱스" not in p.text
    assert len(world.all(User)) == 2
    # The same number may be registered again (it was refused as taken), by anyone: as a new company, which
    # sees nothing of the records kept for the city (taking them up gave whoever typed the number the results,
    # the slot and the decisions of the company that left, and let them rename its records).
    await p.send("신청" if caps is PLAIN else "/apply")
    await choose(p, "동의합니다")
    for answer in ("새이름로보틱스", "220-81-62517", "김민준"):
        await p.send(answer)
    await choose(p, "중소기업")
    for answer in ("서울 마포구 월드컵북로 400", "최담당", "010-2345-6789", "choi@hanbit.kr"):
        await p.send(answer)
    saved = await (p.send("저장하기") if caps is PLAIN else p.press("저장하기"))
    assert "저장했습니다" in p.read(saved[0])
    kept, again = sorted(world.all(Company), key=lambda c: c.id or 0)
    assert (kept.id, kept.name, kept.erased_at is not None) == (company.id, "한빛로보틱스", True)
    assert again.id != company.id and again.erased_at is None and again.contact_name == "최담당"
    assert again.owner_user_id == world.user(caps.channel, "c-2").id
    assert world.all(Application)[0].company_id == company.id  # the city's record stays the company that left
    await p.send("현황" if caps is PLAIN else "/status")
    assert receipt not in p.text and "한빛로보틱스" not in p.text
    # A second account cannot register the number while a current company holds it.
    other = person(caps, "c-9")
    await other.send("신청" if caps is PLAIN else "/apply")
    await choose(other, "동의합니다")
    await other.send("다른기업")
    await other.send("220-81-62517")
    assert "다른 계정으로 이미 등록되어 있습니다" in other.text


async def test_withdrawing_without_applications_deletes_the_company(person: Make, world: World) -> None:
    p = person(TELEGRAM, "c-3")
    await register_profile(p)  # saved, then left at the application's first question
    await p.send("/mydata")
    await p.press("동의 철회 및 삭제")
    assert "신청 이력이 없어 함께 삭제합니다" in p.text and "보관하는 정보" not in p.text
    await p.press("예, 삭제합니다")
    assert world.all(Company) == [] and world.all(FormDraft) == []


async def test_withdrawing_deletes_the_deck_of_an_unsent_application(person: Make, world: World) -> None:
    p = person(TELEGRAM, "c-6")
    await register_profile(p)
    await fill_application(p)  # up to the review page: the deck is on disk, the application not sent
    [draft] = [d for d in world.all(FormDraft) if d.form == "application"]
    deck = Path(draft.data["deck"]["path"])
    assert deck.exists()
    await p.send("/mydata")
    await p.press("동의 철회 및 삭제")
    await p.press("예, 삭제합니다")
    assert world.all(FormDraft) == [] and not deck.exists()


@BOTH
async def test_refusing_consent_leaves_no_name(caps: Capabilities, person: Make, world: World) -> None:
    p = person(caps, "c-4")
    await p.send("신청" if caps is PLAIN else "/apply")
    assert world.user(caps.channel, "c-4").display_name == "사용자c-4"  # the messenger's name, on first contact
    await choose(p, "동의하지 않습니다")
    assert "동의하지 않으셨습니다" in p.text
    assert world.user(caps.channel, "c-4").display_name == ""
    assert world.draft(caps.channel, "c-4", "profile") is None
    await p.send("일정" if caps is PLAIN else "/schedule")  # later turns do not store it again
    assert world.user(caps.channel, "c-4").display_name == ""


async def test_refusing_after_typing_keeps_nothing_typed(person: Make, world: World) -> None:
    p = person(TELEGRAM, "c-5")
    await p.send("/apply")
    await p.press("동의합니다")
    await p.send("비밀기업")
    await p.send("/back")
    await p.send("/back")
    assert "(1/9)" in p.text
    await p.press("동의하지 않습니다")
    assert world.all(FormDraft) == []
    assert world.user("telegram", "c-5").display_name == ""


async def test_the_retention_purge_runs_on_the_tick(person: Make, world: World) -> None:
    [gone_app, _] = world.applications(2, first=8001)
    recent = person(TELEGRAM, "8002")
    # Three years and a day on; 8002 came back a week ago, 8001 never did.
    world.clock.set(at(3) + dt.timedelta(days=3 * 365 - 6))
    await recent.send("/status")
    world.clock.set(at(3) + dt.timedelta(days=3 * 365 + 1))
    with world.session() as session:
        report = tick(session, world.clock.now(), world.settings)
    assert report.purged == 1
    companies = {c.name: c for c in world.all(Company)}
    gone = companies["기업8001"]
    assert (gone.phone, gone.email, gone.contact_name, gone.representative) == ("", "", "", "")
    assert companies["기업8002"].phone == "+821012345678"
    assert world.user("telegram", "8001").display_name == ""
    assert next(a for a in world.all(Application) if a.id == gone_app).status == "submitted"
    with world.session() as session:  # once a day
        assert tick(session, world.clock.now(), world.settings).purged == 0
    assert len([a for a in world.all(AuditLog) if a.action == "retention_purge"]) == 1

    # Back after the purge: the profile is asked again, consent first, before any application.
    world.clock.set(at(3, year=2029, month=12))
    back = person(TELEGRAM, "8001")
    await back.send("/apply")
    assert "(1/9)" in back.text and "개인정보" in back.text


async def test_a_database_error_logs_no_personal_data(world: World) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logs.install()
        with pytest.raises(IntegrityError) as err, world.session() as session:
            owner = session.exec(select(User)).first() or User(channel="telegram", external_id="x", created_at=at(3),
                                                                updated_at=at(3))  # fmt: skip
            session.add(owner)
            session.flush()
            for n in (1, 2):  # the same registration number twice
                session.add(Company(owner_user_id=owner.id if n == 1 else 10**6, name=f"중복{n}", brn=brn_for(1),
                                    representative="홍길동", size="sme", address="서울 중구", contact_name="홍길동",
                                    phone="+821099998888", email="hong@secret.kr", consent_version="t",
                                    consent_at=at(3), created_at=at(3), updated_at=at(3)))  # fmt: skip
                session.flush()
        logging.getLogger("bot.test").error("turn failed: %s", err.value, exc_info=err.value)
        logging.getLogger("bot.test").warning("typed %s and %s", "010-9999-8888", "hong@secret.kr")
    finally:
        root.removeHandler(handler)
    assert "+821099998888" not in str(err.value) and "hong@secret.kr" not in str(err.value)
    written = stream.getvalue()
    assert "turn failed" in written and "IntegrityError" in written
    for secret in ("99998888", "9999-8888", "hong@secret.kr"):
        assert secret not in written, written


@BOTH
async def test_a_reviewer_is_never_assigned_the_company_they_work_for(
    caps: Capabilities, person: Make, world: World
) -> None:
    first, second = world.applications(2, first=8101)
    boss = person(caps, "900001")
    if caps is PLAIN:
        world.grant(caps.channel, "900001", Role.ORGANIZER)
    codes = []
    for _ in range(2):
        await boss.send("/invite reviewer" if caps is not PLAIN else "초대 reviewer")
        codes.append(boss.text.split("「시작 ")[1].split("」")[0])
    start = "시작" if caps is PLAIN else "/start"

    employee = person(caps, "8190")
    await employee.send(f"{start} {codes[0]}")
    assert "심사위원" in employee.text and "이해충돌 방지 서약" in employee.text  # the pledge comes first
    await choose(employee, "서약합니다")
    assert "서약에 동의하셨습니다" in employee.text and "재직 중인 회사" in employee.text
    await employee.send("220-81-6251")  # a digit short: asked again
    assert "사업자등록번호" in employee.text
    await employee.send(brn_for(8101))
    assert "재직 회사" in employee.text and "배정하지 않습니다" in employee.text

    independent = person(caps, "8191")
    await independent.send(f"{start} {codes[1]}")
    await choose(independent, "서약합니다")
    await choose(independent, "건너뛰기")
    assert "재직 회사 없음" in independent.text

    with world.session() as session:
        review.assign(session, "2026-12", world.settings, world.clock.now())
    emp, ind = world.user(caps.channel, "8190").id, world.user(caps.channel, "8191").id
    pairs = {(r.reviewer_user_id, r.application_id) for r in world.all(Review) if not r.conflict}
    assert (emp, first) not in pairs and (emp, second) in pairs
    assert {(ind, first), (ind, second)} <= pairs

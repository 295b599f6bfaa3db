"""Issue 14, point 6 over HTTP on Telegram: /mydata sends a readable file of what is kept; withdrawing
consent erases the personal fields and keeps the application for the city's records."""

from __future__ import annotations

from sqlmodel import select

from bot.models import Application, Company, User
from tests.handlers.flows import fill_application, register_profile, submit
from tests.harness import Harness


async def test_my_data_file_and_withdrawal_over_telegram(harness: Harness) -> None:
    user = harness.user(7101, "김민준")
    await register_profile(user)
    await fill_application(user, deck=False)
    receipt = await submit(user)

    [menu] = await user.send("/mydata")
    assert "내 개인정보" in menu.text and "3년" in menu.text
    [document] = await user.press("내 정보 파일 받기")
    assert document.kind == "document" and document.document["file_name"] == "my-data.txt"  # type: ignore[index]
    content = harness.server.files[document.document["file_id"]].content.decode("utf-8")  # type: ignore[index]
    assert "이메일: choi@hanbit.kr" in content and receipt in content and "이름: 김민준" in content

    [confirm] = await user.press("동의 철회 및 삭제")
    assert "보관하는 정보" in confirm.text and "한빛로보틱스" in confirm.text
    [done] = await user.press("예, 삭제합니다")
    assert "삭제했습니다" in done.text
    with harness.session() as session:
        company = session.exec(select(Company)).one()
        assert (company.contact_name, company.phone, company.email, company.representative) == ("", "", "", "")
        assert session.exec(select(Application)).one().receipt_no == receipt
        assert session.exec(select(User).where(User.external_id == "7101")).first() is None


async def test_the_organizers_hear_when_a_selected_company_withdraws_consent(harness: Harness) -> None:
    """The city expected the company on Pitching Day; its messages failed as 'inactive' and nobody was told."""
    import datetime as dt

    from tests.handlers.committee import ORGANIZER, seed_selected
    from tests.harness import KST

    seed_selected(harness, ["서울교통공사", "푸른도시여가국"])
    harness.clock.set(dt.datetime(2026, 12, 16, 10, 0, tzinfo=KST))
    organizer = harness.user(ORGANIZER, "운영자")
    await organizer.send("/start")
    company = harness.user(8001, "기업1")
    await company.send("/mydata")
    await company.press("동의 철회 및 삭제")
    await company.press("예, 삭제합니다")
    await harness.bot.outbox_settled()
    [told] = [e.text for e in harness.server.events[ORGANIZER] if "동의를 철회했습니다" in e.text]
    assert "기업1 「제품1」 (접수번호 PD-202612-0001)" in told and "2026년 12월 24일(목) 14:00" in told
    assert "/selection" in told

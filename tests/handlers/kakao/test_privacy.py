"""Issue 14, point 6 on KakaoTalk over HTTP: a person with a Telegram and a KakaoTalk account withdraws
consent from KakaoTalk; both accounts lose their personal data, the application stays for the records."""

from __future__ import annotations

from sqlmodel import select

from bot.models import Application, Company, User
from bot.sandbox.users import SimUser
from tests.handlers.flows import fill_application, register_profile, submit
from tests.handlers.kakao.conftest import KakaoWorld


async def test_withdrawing_on_kakaotalk_erases_both_accounts(both: KakaoWorld) -> None:
    assert both.telegram is not None
    telegram = SimUser(both.telegram, 5601, "김민준")
    await register_profile(telegram)
    await fill_application(telegram, deck=False)
    receipt = await submit(telegram)
    [code] = await telegram.send("/link")
    kakao = both.user()
    joined = await kakao.say(f"연결 {code.text.split('연결 ')[1].split()[0]}")
    assert "계정을 연결했습니다" in joined.text

    menu = await kakao.say("내 정보")
    assert "내 개인정보" in menu.text and "동의 철회 및 삭제" in " ".join(menu.labels())
    confirm = await kakao.tap("동의 철회 및 삭제")
    assert "삭제하는 정보" in confirm.text and "계정 2개" in confirm.text and "구매 기록" in confirm.text
    done = await kakao.tap("예, 삭제합니다")
    assert "삭제했습니다" in done.text

    with both.session() as session:
        accounts = session.exec(select(User)).all()
        assert {a.channel for a in accounts} == {"telegram", "kakao"}
        assert all(a.erased_at is not None and a.external_id.startswith("erased-") for a in accounts)
        assert all(a.plusfriend_key is None and a.display_name == "" and a.linked_to is None for a in accounts)
        company = session.exec(select(Company)).one()
        assert (company.phone, company.email) == ("", "")
        assert session.exec(select(Application)).one().receipt_no == receipt
    again = await kakao.say("현황")  # a fresh start: nothing of the company is shown
    assert "한빛로보틱스" not in again.text

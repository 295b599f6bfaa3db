"""Issue 14, point 6 on KakaoTalk over HTTP: a person with a Telegram and a KakaoTalk account withdraws
consent from KakaoTalk; both accounts lose their personal data, the application stays for the records."""

from __future__ import annotations

import datetime as dt
import io
import re

import aiohttp
import openpyxl
from sqlmodel import select

from bot.models import Application, Company, Role, User
from bot.sandbox.users import SimUser
from bot.services import users
from tests.handlers.committee import seed_applications
from tests.handlers.flows import SAMPLE_PDF, fill_application, register_profile, submit
from tests.handlers.kakao.conftest import KakaoWorld
from tests.handlers.kakao.test_month import grant, tick_at
from tests.harness import KST


async def fetch(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as client, client.get(url) as answer:
        return answer.status, await answer.read()


def link_in(text: str) -> str:
    found = re.search(r"http://\S+/files/\S+", text)
    assert found, text
    return found.group(0)


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


async def test_an_export_link_stops_serving_once_a_company_withdraws_consent(both: KakaoWorld) -> None:
    """An export holds every applicant's contacts: a company's withdrawal makes the links given out before it
    useless (they served its phone and e-mail for 72 hours); a new export leaves them out."""
    assert both.telegram is not None
    seed_applications(both, 1)
    organizer = both.user()
    await organizer.say("메뉴")
    grant(both, organizer.user_id, Role.ORGANIZER)
    url = link_in((await organizer.say("내보내기 2026-12")).text)
    status, body = await fetch(url)
    assert status == 200 and body[:2] == b"PK"

    company = SimUser(both.telegram, 8001, "기업1")
    await company.send("/mydata")
    await company.press("동의 철회 및 삭제")
    [done] = await company.press("예, 삭제합니다")
    assert "삭제했습니다" in done.text
    status, _ = await fetch(url)
    assert status == 404
    # A new export is made (an erased phone number broke it) and keeps the company for the records only.
    status, body = await fetch(link_in((await organizer.say("내보내기 2026-12")).text))
    cells = {str(c.value) for sheet in openpyxl.load_workbook(io.BytesIO(body)) for row in sheet.iter_rows()
             for c in row}  # fmt: skip
    assert status == 200 and "기업1" in cells and "a@b.kr" not in cells


async def test_a_reviewer_taken_off_can_no_longer_open_a_deck_link(kakao: KakaoWorld) -> None:
    [app_id] = seed_applications(kakao, 1)
    deck = kakao.settings.files_dir / "decks" / "d.pdf"
    deck.parent.mkdir(parents=True, exist_ok=True)
    deck.write_bytes(SAMPLE_PDF)
    with kakao.session() as session:
        app = session.get(Application, app_id)
        assert app is not None
        app.deck_path, app.deck_file_name = str(deck), "deck.pdf"
        session.add(app)
    reviewer = kakao.user()
    await reviewer.say("메뉴")
    grant(kakao, reviewer.user_id, Role.REVIEWER)
    await tick_at(kakao, dt.datetime(2026, 12, 11, 9, 0, tzinfo=KST))
    await reviewer.say("심사")
    await reviewer.tap("서약합니다")
    url = link_in((await reviewer.say("1")).text)
    assert (await fetch(url))[0] == 200
    with kakao.session() as session:
        users.revoke_role(session, "kakao", reviewer.user_id, Role.REVIEWER, kakao.clock.now(), kakao.settings)
    assert (await fetch(url))[0] == 404
    assert deck.exists()  # the deck stays with its application

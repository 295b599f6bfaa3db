"""An organizer on KakaoTalk loads the Testbed Expo through an upload page of their own: KakaoTalk carries no
files, and the upload page took PDFs only, so only Telegram or the server could load it."""

from __future__ import annotations

import re

import aiohttp
from sqlmodel import select

from bot.models import Expo, Role
from bot.services import expo
from tests.handlers.kakao.conftest import KakaoWorld
from tests.handlers.kakao.test_month import grant


async def upload(url: str, content: bytes, name: str, mime: str) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name, content_type=mime)
    async with aiohttp.ClientSession() as client, client.post(url, data=form) as answer:
        return answer.status, await answer.text()


async def test_an_organizer_loads_the_expo_in_kakaotalk(kakao: KakaoWorld) -> None:
    organizer = kakao.user()
    await organizer.say("메뉴")
    grant(kakao, organizer.user_id, Role.ORGANIZER)
    asked = await organizer.say("박람회 수정")
    # The example to edit comes as a link of its own, then the question with its upload page.
    assert "형식 예시로 2019년 박람회 파일" in asked.text and "expo-example.yaml" in asked.text, asked.text
    assert "고친 파일을 아래 링크에서 올려 주십시오" in asked.text, asked.text
    link = re.search(r"http://\S+/files/upload/\S+", asked.text)
    assert link is not None, asked.text

    async with aiohttp.ClientSession() as client, client.get(link.group(0)) as shown:
        page = await shown.text()
    assert "박람회 정보(YAML) 파일(최대 200KB)" in page and ".yaml" in page, page  # it promised 1 MB
    status, page = await upload(link.group(0), b"%PDF-1.4 deck", "deck.pdf", "application/pdf")
    assert status == 400 and "YAML 파일(.yaml)만 올릴 수 있습니다" in page  # the page stays usable
    status, page = await upload(link.group(0), expo.SAMPLE.read_bytes(), "expo-2019.yaml", "application/x-yaml")
    assert status == 200 and "올렸습니다" in page, page
    await kakao.bot.outbox_settled()
    told = [t for t in kakao.events(organizer) if "박람회 정보를 저장했습니다" in t]
    assert len(told) == 1 and "2019 테스트베드 서울 박람회" in told[0], kakao.events(organizer)
    with kakao.session() as session:
        [loaded] = session.exec(select(Expo)).all()
        assert loaded.name == "2019 테스트베드 서울 박람회"
    shown = await kakao.user().say("박람회")
    assert "2019 테스트베드 서울 박람회" in shown.text

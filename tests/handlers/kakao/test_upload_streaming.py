"""The KakaoTalk upload page streams a deck to disk in pieces, within ``PITCHBOT_DECK_MAX_BYTES``: a large
deck arrives whole without the bot holding it, a too large one is refused on the page, which stays open."""

from __future__ import annotations

import hashlib
import re
import tracemalloc
from pathlib import Path

import aiohttp
from sqlmodel import select

from bot.models import FormDraft
from tests.handlers.flows import big_pdf
from tests.handlers.kakao.conftest import KakaoWorld
from tests.handlers.kakao.test_company import apply_in_kakaotalk

MB = 1024 * 1024


async def upload_file(url: str, path: Path) -> tuple[int, str]:
    """Posts the page's form with the file read from disk as it is sent (the client holds none of it)."""
    with path.open("rb") as handle:
        form = aiohttp.FormData()
        form.add_field("file", handle, filename=path.name, content_type="application/pdf")
        async with aiohttp.ClientSession() as client, client.post(url, data=form) as answer:
            return answer.status, await answer.text()


async def test_the_upload_page_streams_a_large_deck_and_refuses_a_too_large_one(
    kakao: KakaoWorld, tmp_path: Path
) -> None:
    user = kakao.user()
    question = await apply_in_kakaotalk(user, to_deck=True)
    link = re.search(r"http://\S+/files/upload/\S+", question)
    assert link is not None, question

    too_large = tmp_path / "too large.pdf"
    too_large.write_bytes(big_pdf(kakao.settings.deck_max_bytes + MB))
    status, page = await upload_file(link.group(0), too_large)
    assert status == 400 and "MB" in page  # refused on the page, which stays usable
    incoming = kakao.settings.files_dir / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []  # nothing left part-way

    deck = tmp_path / "HR-1 large.pdf"
    deck.write_bytes(big_pdf(12 * MB))
    tracemalloc.start()
    try:
        status, page = await upload_file(link.group(0), deck)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 200 and "올렸습니다" in page
    assert peak < 4 * MB, f"{peak / MB:.1f} MB held while a 12 MB deck came"
    with kakao.session() as session:
        draft = session.exec(select(FormDraft).where(FormDraft.form == "application")).one()
        kept = Path(draft.data["deck"]["path"])
    assert hashlib.sha256(kept.read_bytes()).digest() == hashlib.sha256(deck.read_bytes()).digest()
    assert list(incoming.iterdir()) == []

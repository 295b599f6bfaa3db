"""A pitch deck sent in Telegram is streamed from the Bot API's file server to disk, in pieces: the bot never
holds it whole. Its size is checked while it comes, so a file whose size Telegram did not tell is refused as
soon as it is too big, with the usual message and another try."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

from sqlmodel import select

from bot.clock import ManualClock
from bot.models import FormDraft
from bot.settings import Settings
from tests.handlers.flows import SAMPLE_PDF, big_pdf, fill_application, register_profile
from tests.harness import Harness, running

MB = 1024 * 1024


def kept_deck(harness: Harness) -> Path:
    with harness.session() as session:
        draft = session.exec(select(FormDraft).where(FormDraft.form == "application")).one()
        return Path(draft.data["deck"]["path"])


async def test_a_large_deck_is_streamed_to_disk(harness: Harness) -> None:
    user = harness.user(5101, "기업")
    await register_profile(user)
    await fill_application(user, deck=None)
    deck = big_pdf(12 * MB)
    tracemalloc.start()
    try:
        [review] = await user.send_document(deck, "HR-1 large.pdf")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "신청서 확인" in review.text and "HR-1 large.pdf" in review.text
    assert hashlib.sha256(kept_deck(harness).read_bytes()).digest() == hashlib.sha256(deck).digest()
    assert peak < 4 * MB, f"{peak / MB:.1f} MB held while a 12 MB deck came"  # held whole: 12 MB or more
    assert list((harness.settings.files_dir / "incoming").iterdir()) == []  # nothing left part-way


async def test_a_deck_larger_than_allowed_is_refused_while_it_comes(settings: Settings, clock: ManualClock) -> None:
    async with running(settings.model_copy(update={"deck_max_bytes": MB}), clock) as harness:
        user = harness.user(5102, "기업")
        await register_profile(user)
        await fill_application(user, deck=None)
        # Telegram did not say how big it is (file_size is optional): only its download can tell.
        file_id = harness.server.upload(big_pdf(3 * MB // 2), "deck.pdf", "application/pdf")
        document = {k: v for k, v in harness.server.document_dict(file_id).items() if k != "file_size"}
        [refused] = await user.send_raw(document=document)
        assert "최대 1MB를 넘습니다" in refused.text and "발표자료(PDF) (8/8)" in refused.text
        assert list((harness.settings.files_dir / "incoming").iterdir()) == []
        [review] = await user.send_document(SAMPLE_PDF, "small.pdf")  # another try
        assert "신청서 확인" in review.text and "small.pdf" in review.text

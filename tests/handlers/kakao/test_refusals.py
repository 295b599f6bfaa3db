"""What does not come from Kakao, or not from this person, gets a 4xx or a clear answer, and stores nothing:
malformed JSON, missing fields, a wrong secret or bot id, a 1 MB body, a 10,000-character utterance,
unknown or forged tokens, and another person's token."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from sqlmodel import func, select

from bot.models import AuditLog, Company, Conversation, FormDraft, User
from bot.sandbox.runner import KAKAO_SECRET
from tests.handlers.kakao.conftest import KakaoWorld


async def post(world: KakaoWorld, body: bytes, secret: str | None = KAKAO_SECRET) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[world.bot.runtime.settings.kakao_skill_header] = secret  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as client, client.post(f"{world.bot.url}/kakao/skill", data=body,
                                                               headers=headers) as answer:  # fmt: skip
        text = await answer.text()
        try:
            return answer.status, json.loads(text)
        except ValueError:
            return answer.status, text


def counts(world: KakaoWorld) -> tuple[int, ...]:
    with world.session() as session:
        return tuple(session.exec(select(func.count()).select_from(t)).one()
                     for t in (User, Conversation, FormDraft, Company, AuditLog))  # fmt: skip


def payload(world: KakaoWorld, utterance: str = "안녕하세요", user: str = "u-forged", **extra: Any) -> dict[str, Any]:
    return {
        "intent": {"id": "i", "name": "폴백 블록"},
        "userRequest": {"timezone": "Asia/Seoul", "utterance": utterance, "lang": "ko", "params": {},
                        "block": {"id": "b", "name": "폴백 블록"},
                        "user": {"id": user, "type": "botUserKey", "properties": {"plusfriendUserKey": "pf"}}},
        "bot": {"id": world.platform.bot_id, "name": "pitchbot"},
        "action": {"name": "pitchbot", "clientExtra": {}, "params": {}, "id": "a", "detailParams": {}},
        **extra,
    }  # fmt: skip


async def test_requests_not_from_kakao_are_refused_and_store_nothing(kakao: KakaoWorld) -> None:
    before = counts(kakao)
    good = json.dumps(payload(kakao)).encode()
    assert (await post(kakao, good, secret="wrong"))[0] == 401
    assert (await post(kakao, good, secret=None))[0] == 401
    assert (await post(kakao, b"{not json"))[0] == 400
    assert (await post(kakao, b"[1, 2, 3]"))[0] == 400
    assert (await post(kakao, b'{"a":' * 10_000 + b"1" + b"}" * 10_000))[0] == 400  # past the parser's depth: was 500
    assert (await post(kakao, json.dumps({"userRequest": {"utterance": "hi"}}).encode()))[0] == 400  # no user
    missing_bot = {k: v for k, v in payload(kakao).items() if k != "bot"}
    assert (await post(kakao, json.dumps(missing_bot).encode()))[0] == 400
    other_bot = {**payload(kakao), "bot": {"id": "someone-else"}}
    assert (await post(kakao, json.dumps(other_bot).encode()))[0] == 403
    huge = json.dumps({**payload(kakao), "padding": "x" * (1024 * 1024)}).encode()
    assert (await post(kakao, huge))[0] == 413
    assert counts(kakao) == before  # nothing stored by any of them
    # A development channel's id ends with "!"; new fields Kakao adds are accepted.
    dev = {**payload(kakao), "bot": {"id": kakao.platform.bot_id + "!"}, "somethingNew": {"x": 1}}
    status, answer = await post(kakao, json.dumps(dev).encode())
    assert status == 200 and answer["version"] == "2.0"


async def test_a_very_long_utterance_gets_a_clear_answer(kakao: KakaoWorld) -> None:
    user = kakao.user()
    await user.say("신청")
    await user.tap("동의합니다")
    answer = await user.say("가" * 10_000)  # the company name question
    assert "자 이하" in answer.text or "깁니다" in answer.text
    assert len(answer.text) <= 3000 and kakao.platform.violations == []
    with kakao.session() as session:
        draft = session.exec(select(FormDraft)).one()
        assert "name" not in draft.data  # refused, not stored as an answer


async def test_forged_and_borrowed_tokens(kakao: KakaoWorld) -> None:
    alice, bob = kakao.user(), kakao.user()
    consent = await alice.say("신청")
    token = consent.quick_replies[0]["extra"]["t"]  # Alice's "동의합니다"
    await bob.say("신청")
    for forged in (token, "e:selection:place:1:in", "e:review:score:1", "99:form:a:consent:agree", "x" * 300, ""):
        body = payload(kakao, utterance="눌렀습니다", user=bob.user_id,
                       action={"name": "p", "clientExtra": {"t": forged}, "params": {}, "id": "a"})  # fmt: skip
        status, answer = await post(kakao, json.dumps(body).encode())
        text = answer["template"]["outputs"][0]["simpleText"]["text"]
        refused = ("이전 화면의 버튼", "권한이 없어", "버튼 중에서 선택")  # an empty token is just the typed text
        assert status == 200 and any(r in text for r in refused), (forged, text)
    with kakao.session() as session:
        bob_user = session.exec(select(User).where(User.external_id == bob.user_id)).one()
        draft = session.exec(select(FormDraft).where(FormDraft.user_id == bob_user.id)).one()
        assert draft.data == {}  # Alice's button did not answer Bob's question

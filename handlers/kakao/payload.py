"""Kakao's skill request and what the engine makes of it. Kakao adds fields over time: nothing unknown is
refused (every model keeps extra fields); what is needed is checked."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.dialogue.model import Incoming, Kind

CHANNEL = "kakao"
MAX_UTTERANCE = 4000  # longer than any answer the forms accept; what is beyond it is cut, not stored


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Properties(_Open):
    plusfriendUserKey: str | None = Field(default=None, max_length=120)
    appUserId: str | None = Field(default=None, max_length=120)
    isFriend: bool | None = None


class KakaoUser(_Open):
    id: str = Field(min_length=1, max_length=128)  # the botUserKey: this bot's id of the person
    type: str | None = None
    properties: Properties = Properties()


class UserRequest(_Open):
    utterance: str = ""
    user: KakaoUser
    lang: str | None = None
    timezone: str | None = None
    callbackUrl: str | None = Field(default=None, max_length=2000)
    params: dict[str, Any] = {}


class BotRef(_Open):
    id: str = Field(min_length=1, max_length=128)
    name: str | None = None


class ActionRef(_Open):
    clientExtra: dict[str, Any] | None = None
    params: dict[str, Any] = {}


class SkillRequest(_Open):
    userRequest: UserRequest
    bot: BotRef
    action: ActionRef = ActionRef()

    @property
    def test_console(self) -> bool:
        """봇테스트 in the admin centre: its callback URLs are refused, so none is used."""
        params = self.userRequest.params
        return params.get("surface") == "BuilderBotTest" or str(params.get("ignoreMe")).lower() == "true"


def to_incoming(request: SkillRequest) -> Incoming:
    """A pressed quick reply carries its token in ``extra``; anything else is what the person typed."""
    req = request.userRequest
    props = req.user.properties
    base: dict[str, Any] = {
        "channel": CHANNEL, "external_id": req.user.id, "client_language": (req.lang or "")[:8] or None,
        "profile": {"plusfriend_key": props.plusfriendUserKey, "app_user_id": props.appUserId,
                    "is_friend": props.isFriend},
    }  # fmt: skip
    extra = request.action.clientExtra or {}
    token = extra.get("t")
    if isinstance(token, str) and token:
        return Incoming(kind=Kind.CHOICE, token=token[:200], **base)
    text = req.utterance[:MAX_UTTERANCE]
    if not text.strip() or _media(text):
        return Incoming(kind=Kind.OTHER, **base)
    return Incoming(kind=Kind.TEXT, text=text, **base)


# A photo, video or file sent in the chat reaches the skill as its address on Kakao's servers, alone (one was
# taken as a company's name, and as a product summary, long enough to pass).
_MEDIA = re.compile(r"https?://[\w.-]*(?:kakao\.com|kakaocdn\.net)/\S+", re.IGNORECASE)


def _media(text: str) -> bool:
    return _MEDIA.fullmatch(text.strip()) is not None

"""Messages the bot starts, through Kakao's chatbot Event API: ``POST /v2/bots/{botId}/talk`` with the
event whose block (configured in the admin centre) shows ``event.data.text``, to up to 100 people a call.
Kakao's answer only means accepted: the task id is kept, and delivery is asked about later."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot import delivery
from bot.settings import Settings
from handlers.kakao.answer import MAX_TEXT, split_text

log = logging.getLogger(__name__)
MAX_USERS = 100
# The bot keys people by their botUserKey, the id every skill call carries.
KEY_TYPE = "botUserKey"
LinkFor = Callable[[str, dict[str, Any]], Awaitable[str | None]]


class KakaoSender:
    batch = MAX_USERS

    def __init__(self, settings: Settings, link_for: LinkFor | None = None) -> None:
        self.settings = settings
        self.link_for = link_for
        self._client: aiohttp.ClientSession | None = None
        api = settings.kakao_api_url.rstrip("/")
        self.talk_url = f"{api}/v2/bots/{settings.kakao_bot_id}/talk"
        self.task_url = f"{api}/v1/tasks/"

    @property
    def headers(self) -> dict[str, str]:
        key = self.settings.kakao_rest_api_key
        return {"Authorization": f"KakaoAK {key.get_secret_value() if key else ''}"}

    def client(self) -> aiohttp.ClientSession:
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.send_timeout))
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    # ---- the outbox's calls --------------------------------------------------------------------
    def pieces(self, html: str, plain: str, document: dict[str, Any] | None) -> list[delivery.Piece]:
        """A text longer than one KakaoTalk message goes as several, each its own call, so a retry goes on
        after the parts already sent."""
        if document is not None:
            return [delivery.Piece(html, plain, document)]
        return [delivery.Piece(html, part) for part in split_text(plain, MAX_TEXT)] or [delivery.Piece(html, plain)]

    async def send(self, chat_id: str, html: str, plain: str, buttons: tuple[tuple[str, str], ...] = ()) -> str | None:
        # The event block shows text only: a message with buttons names the typed word instead.
        return await self.send_many([chat_id], html, plain)

    async def send_document(self, chat_id: str, document: dict[str, Any], html: str, plain: str) -> str | None:
        """No files in KakaoTalk: the text, then the file as a link of the person's own."""
        link = await self.link_for(chat_id, document) if self.link_for is not None else None
        text = f"{plain}\n\n📎 {document.get('filename') or 'file'}\n{link}" if link else plain
        return await self.send_many([chat_id], html, text)

    async def send_many(self, chat_ids: list[str], html: str, plain: str) -> str | None:
        """One message to up to 100 people; a longer text goes as several events. The last task's id."""
        if not chat_ids or len(chat_ids) > MAX_USERS:
            raise delivery.Rejected(f"{len(chat_ids)} recipients in one call (1 to {MAX_USERS})")
        task = None
        for part in split_text(plain, MAX_TEXT):
            task = await self._talk(chat_ids, part)
        return task

    # ---- Kakao ---------------------------------------------------------------------------------
    async def _talk(self, chat_ids: list[str], text: str) -> str | None:
        body = {
            "event": {"name": self.settings.kakao_event_name, "data": {"text": text}},
            "user": [{"type": KEY_TYPE, "id": chat_id} for chat_id in chat_ids],
        }
        try:
            async with self.client().post(self.talk_url, json=body, headers=self.headers) as answer:
                payload = await answer.json(content_type=None)
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise delivery.Transient(f"{type(err).__name__}: {err}") from err
        if status == 200 and isinstance(payload, dict):
            return str(payload.get("taskId") or "") or None
        message = payload.get("message") if isinstance(payload, dict) else str(payload)
        if status == 429:
            raise delivery.RetryAfter(1.0, f"Kakao 429: {message}")
        if status >= 500:
            raise delivery.Transient(f"Kakao {status}: {message}")
        raise delivery.Rejected(f"Kakao {status}: {message}")

    async def task(self, task_id: str) -> dict[str, Any] | None:
        """What Kakao says of a task's delivery: counts, and who failed and why."""
        try:
            async with self.client().get(self.task_url + task_id, headers=self.headers) as answer:
                if answer.status != 200:
                    log.info("task %s: Kakao %s", task_id, answer.status)
                    return None
                data = await answer.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            log.info("task %s not asked about now: %s", task_id, err)
            return None
        return data if isinstance(data, dict) else None

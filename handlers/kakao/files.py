"""Files where a chat cannot carry them: ``GET /files/{token}`` downloads a file given to one person
(expiring); ``/files/upload/{token}`` is a person's single-use page to upload the file a form asks for (a
pitch deck). The upload is checked (a PDF, within the size) before the page is spent, streamed to disk,
and answers the question in the person's conversation, whose next screen follows in the chat."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from bot.context import AppContext
from bot.dialogue.engine import Engine, Reply
from bot.dialogue.model import PLAIN, TELEGRAM, FileRef, Incoming, Kind
from bot.errors import Refused
from bot.forms import EXPO
from bot.models import FileLink, User
from bot.services import files, users
from bot.validators import EXPO_FILE_MAX

log = logging.getLogger(__name__)
Deliver = Callable[[User, Reply], Awaitable[None]]
CHUNK = 1 << 16


class FilePages:
    def __init__(self, ctx: AppContext, engine: Engine, deliver: Deliver) -> None:
        self.ctx = ctx
        self.engine = engine
        self.deliver = deliver
        self.incoming = ctx.settings.files_dir / "incoming"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/files/upload/{token}", self._page)
        app.router.add_post("/files/upload/{token}", self._upload)
        app.router.add_get("/files/{token}", self._download)

    # ---- downloads -----------------------------------------------------------------------------
    async def _download(self, request: web.Request) -> web.StreamResponse:
        try:
            link = await asyncio.to_thread(self._find, files.download, request.match_info["token"])
        except Refused as err:
            return self._refused(err)
        assert isinstance(link, FileLink) and link.path
        name = quote(link.filename)
        headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{name}", "Content-Type": link.mime,
                   "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}  # fmt: skip
        return web.FileResponse(link.path, headers=headers)

    def _find(self, fetch: Callable[..., Any], token: str) -> Any:
        with self.ctx.db.session() as session:
            try:
                return fetch(session, token, self.ctx.clock.now())
            except Refused as err:  # the page says why in the language of whom the link was for
                err.params.setdefault("lang", files.holder_language(session, token))
                raise

    # ---- uploads -------------------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        try:
            link, person = await asyncio.to_thread(self._find, files.upload, request.match_info["token"])
        except Refused as err:
            return self._refused(err)
        return self._form(person, link, None)

    def _form(self, person: User, link: FileLink, error: str | None, status: int = 200) -> web.Response:
        yaml = link.form == EXPO
        data = {
            # The expo's file is small (200 KB): "at most 1 MB" was promised and 400 KB refused.
            "max_size": f"{EXPO_FILE_MAX // 1000}KB" if yaml else f"{self.ctx.settings.deck_max_bytes // 1048576}MB",
            "accept": ".yaml,.yml,.txt" if yaml else "application/pdf,.pdf",
            "expires_at": link.expires_at,
            "error": error,
            "field": link.field,
        }
        return self._page_response(users.language_of(person), "files/_upload", data, status=status)

    async def _upload(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            link, person = await asyncio.to_thread(self._find, files.upload, token)
        except Refused as err:
            return self._refused(err)
        try:
            path, name, mime, size = await self._receive(request, yaml=link.form == EXPO)
        except ValueError as err:  # nothing usable came: the page stays open for another try
            return self._form(person, link, str(err), status=400)
        try:
            refused = await asyncio.to_thread(self._spend, link, name)
            if refused == "upload_not_asked":  # the page stays usable for when the chat is back at the question
                return self._form(person, link, refused, status=409)
            if refused is not None:
                return self._page_response(users.language_of(person), "files/_refused", {"code": refused})
            channel = PLAIN if person.channel != "telegram" else TELEGRAM
            incoming = Incoming(channel=person.channel, external_id=person.external_id, kind=Kind.FILE,
                                file=FileRef(name, mime, size, path=path))  # fmt: skip
            reply = await self.engine.handle(incoming, channel)
            await self.deliver(person, reply)
        finally:
            path.unlink(missing_ok=True)
        # The chat says what became of it; the page must not say "uploaded" of a file the answer refused (the
        # window closed meanwhile, a PDF that is not one).
        page = "files/_not_taken" if reply.refused else "files/_uploaded"
        return self._page_response(users.language_of(person), page, {"name": name})

    def _spend(self, link: FileLink, name: str) -> str | None:
        with self.ctx.db.session() as session:
            return files.spend_upload(session, link, name, self.ctx.clock.now())

    async def _receive(self, request: web.Request, yaml: bool = False) -> tuple[Path, str, str, int]:
        """The form's file, streamed to disk within the size allowed; a PDF by its name and its first bytes (the
        expo's page: a YAML file by its name, text and small)."""
        limit = EXPO_FILE_MAX if yaml else self.ctx.settings.deck_max_bytes
        try:
            reader = await request.multipart()
            part = await reader.next()
            while part is not None and getattr(part, "name", None) != "file":
                part = await reader.next()
        except (ValueError, AssertionError, KeyError) as err:
            raise ValueError("upload_not_a_form") from err
        if part is None or not getattr(part, "filename", None):
            raise ValueError("upload_no_file")
        # Some clients percent-encode a name that is not ASCII (RFC 5987); browsers send it as it is.
        name = files.safe_name(unquote(str(part.filename)))
        mime = part.headers.get("Content-Type", "application/octet-stream")  # type: ignore[union-attr]
        self.incoming.mkdir(parents=True, exist_ok=True)
        path = self.incoming / f"{uuid.uuid4().hex}.part"
        size = 0
        head = b""
        try:
            with open(path, "wb") as out:
                while chunk := await part.read_chunk(CHUNK):  # type: ignore[union-attr]
                    size += len(chunk)
                    if size > limit:
                        raise ValueError("upload_too_large")
                    if len(head) < 5:
                        head += chunk[: 5 - len(head)]
                    out.write(chunk)
            if yaml and (not name.lower().endswith((".yaml", ".yml", ".txt")) or b"\0" in head):
                raise ValueError("upload_not_yaml")
            if not yaml and (not name.lower().endswith(".pdf") or head != b"%PDF-"):
                raise ValueError("upload_not_pdf")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path, name, mime, size

    # ---- pages ---------------------------------------------------------------------------------
    def _refused(self, err: Refused) -> web.Response:
        """Gone for a link used or past its time; not found for one that never was."""
        status = 404 if err.code == "file_link_unknown" else 410
        return self._page_response(err.params.get("lang", "ko"), "files/_refused", {"code": err.code}, status=status)

    def _page_response(self, lang: str, key: str, data: dict[str, Any], status: int = 200) -> web.Response:
        page = self.ctx.texts.env.get_template(f"{lang}/{key}.j2").render(lang=lang, channel="web", **data)
        return web.Response(text=page, content_type="text/html", status=status,
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})  # fmt: skip

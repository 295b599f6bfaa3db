"""News for everyone: /subscribe, /unsubscribe, /expo (with an .ics file); for organizers /expo_edit (a
YAML file sent in the chat) and /broadcasts (the history)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.model import Attachment
from bot.dialogue.turn import Turn
from bot.errors import Refused
from bot.forms import EXPO
from bot.models import FormDraft
from bot.services import broadcasts, expo, policies
from bot.settings import Settings
from bot.validators import FileInput


class NewsFlow(Flow):
    name = "news"

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        t.end()
        if name == "subscribe":
            added = broadcasts.subscribe(t.session, t.user, t.now)
            t.say("news/subscribed" if added else "news/already")
        elif name == "unsubscribe":
            removed = broadcasts.unsubscribe(t.session, t.user, t.now)
            t.say("news/unsubscribed" if removed else "news/not_subscribed")
        elif name == "expo":
            self.show_expo(t)
        elif name == "broadcasts":
            t.say("broadcast/history", rows=broadcasts.history(t.session, t.user, t.settings))
        elif name == "expo_edit":
            self.edit_expo(t)

    def show_expo(self, t: Turn) -> None:
        current = expo.current(t.session)
        if current is None:
            t.say("expo/none")
            return
        t.say("expo/show", expo=expo.data(current))
        ics = expo.calendar_file(current, t.settings.tz, t.lang, t.now).encode()
        t.show("expo/ics_caption", attachments=[Attachment("testbed-expo.ics", ics, mime="text/calendar")])

    def edit_expo(self, t: Turn) -> None:
        policies.require(t.session, t.user, policies.organizer, t.settings)
        if not t.caps.uploads and t.settings.public_url is None:  # no upload page to offer
            t.say("expo/edit_elsewhere")
            return
        current = expo.current(t.session)
        if current is not None:
            yaml_file = Attachment("expo.yaml", expo.to_yaml(current).encode(), mime="application/x-yaml")
            t.show("expo/current_file", attachments=[yaml_file])
        else:  # the format by example (the message named a file on the server, samples/expo-2019.yaml)
            example = Attachment("expo-example.yaml", expo.SAMPLE.read_bytes(), mime="application/x-yaml")
            t.show("expo/example_file", attachments=[example])
        FORM.open(t, EXPO, ref={"has_current": current is not None})


FLOW = NewsFlow()


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    def keep(file: FileInput) -> str:
        content = file.content if file.content is not None else Path(file.path or "").read_bytes()
        folder = settings.files_dir / "expo"
        folder.mkdir(parents=True, exist_ok=True)
        # Named by its content: two organizers' uploads at once never read each other's file.
        path = folder / f"{hashlib.sha256(content).hexdigest()[:32]}.yaml"
        path.write_bytes(content)
        return str(path)

    return keep


def _load(t: Turn, draft: FormDraft) -> None:
    path = Path(str((draft.data.get("file") or {}).get("path", "")))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise Refused("expo_file") from None
    finally:
        path.unlink(missing_ok=True)  # read once: loaded into the database, or refused and sent again
    loaded = expo.load(t.session, text, t.now, by=t.user, settings=t.settings)
    t.session.delete(draft)
    t.end()
    t.say("expo/loaded", expo=expo.data(loaded))


def _context(t: Turn, draft: FormDraft) -> dict[str, object]:
    return {"has_current": bool(draft.ref.get("has_current"))}


register(FormSpec(EXPO, _load, review=False, store_file=_store, context=_context))

"""Pure validators for form answers. Each returns the normalized value or raises :class:`Invalid`,
whose code names an error template (``errors/<code>``) and whose params fill it."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.errors import UserError


class Invalid(UserError):
    """An answer that does not pass; the user is asked again."""


@dataclass(frozen=True)
class FileInput:
    """A file as a channel hands it over; ``path`` (its content on disk) is set once size and type passed."""

    file_id: str
    file_name: str
    mime_type: str | None
    size: int | None
    content: bytes | None = None
    path: Path | None = None

    def head(self, n: int) -> bytes | None:
        """The first ``n`` bytes, when the content is here."""
        if self.content is not None:
            return self.content[:n]
        if self.path is not None:
            with open(self.path, "rb") as fh:
                return fh.read(n)
        return None


# ---- the one sanitiser of typed text ------------------------------------------------------------------
# Every text a person sends passes :func:`clean` (the engine calls it on each input, and every text
# validator again): a NUL is refused (PostgreSQL cannot store one), other control characters go, line
# breaks become "\n", and the text is NFC (Hangul typed on a Mac arrives decomposed).
_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that reorder what is shown around them (a name that reads "moc.kab" but is "bak.com").
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters that show nothing: a text of only these (or spaces) is empty, whatever its length.
_INVISIBLE = "\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u2060-\u2064\u3164\ufeff\uffa0"
_EDGES = re.compile(f"^[\\s{_INVISIBLE}]+|[\\s{_INVISIBLE}]+$")


def clean(raw: str) -> str:
    """Typed text fit to keep: refused with a NUL, control characters removed, line breaks as "\\n", NFC."""
    if "\x00" in raw:
        raise Invalid("text_nul")
    value = raw.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROLS.sub("", value))


def clean_lenient(raw: str) -> str:
    """What a channel tells about a person (a display name, a file's name): never refused, only cleaned,
    reordering marks too (a name is shown to others: on the reviewers' board, in the export, as who decided)."""
    return _visible(_BIDI.sub("", clean(raw.replace("\x00", ""))))


def _visible(raw: str) -> str:
    """The text without the spaces and invisible characters around it."""
    return _EDGES.sub("", raw)


def ascii_digits(raw: str) -> str:
    """Typed numbers as ASCII: decimal digits of any script (full-width ２, Arabic-Indic ٢) as 0-9, full-width
    punctuation (－ ：) folded. Superscripts and circled numbers are not digits and stay, to be refused."""
    out = []
    for c in raw:
        if c.isdecimal():
            out.append(str(unicodedata.decimal(c)))
        elif "\uff01" <= c <= "\uff5e":
            out.append(chr(ord(c) - 0xFEE0))
        else:
            out.append(c)
    return "".join(out)


_BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def brn_check_digit_ok(digits: str) -> bool:
    nums = [int(c) for c in digits]
    total = sum(n * w for n, w in zip(nums[:9], _BRN_WEIGHTS, strict=True))
    total += (nums[8] * 5) // 10
    return (10 - total % 10) % 10 == nums[9]


def brn(raw: str) -> str:
    """Ten ASCII digits, whatever digits and dashes were typed: the number is unique, so it is kept one way."""
    digits = re.sub(r"[\s\-‐‑‒–—―−./－．／]", "", ascii_digits(clean(raw)))
    if not re.fullmatch(r"[0-9]{10}", digits):
        raise Invalid("brn_format")
    if not brn_check_digit_ok(digits):
        raise Invalid("brn_checksum")
    return digits


def format_brn(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


_EXTENSION_WORDS = re.compile(r"\(?\s*(?:내선|교환)\s*(?:번호)?\s*\)?\s*:?")
EXTENSION_MAX = 6  # digits of an extension kept with the number


def phone(raw: str) -> str:
    """E.164, with the extension when one was given (「내선 123」, "ext. 123"): ``+8221234567;ext=123``."""
    value = _EXTENSION_WORDS.sub(" ext. ", ascii_digits(clean(raw))).strip()
    try:
        number = phonenumbers.parse(value, "KR")
    except phonenumbers.NumberParseException:
        raise Invalid("phone") from None
    if number.country_code != 82 or not phonenumbers.is_valid_number(number):
        raise Invalid("phone")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:
        if not re.fullmatch(f"[0-9]{{1,{EXTENSION_MAX}}}", number.extension):
            raise Invalid("phone_extension", max=EXTENSION_MAX)
        e164 += f";ext={number.extension}"
    return e164


def phone_parts(e164: str) -> tuple[str, str | None]:
    """The number in national format ("02-2133-1234") and its extension, if any (the words around an
    extension are the reader's language's: see ``Texts.phone``). An erased one (consent withdrawn) is empty."""
    try:
        number = phonenumbers.parse(e164, "KR")
    except phonenumbers.NumberParseException:
        return e164, None
    extension = number.extension or None
    number.extension = None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL), extension


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # 「！」…「～」 as 「!」…「~」


def email(raw: str) -> str:
    try:
        # Full-width 「＠」 and 「．」, typed on a Korean keyboard, are the ASCII ones.
        return validate_email(clean(raw).translate(_FULL_WIDTH).strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid("email") from None


def _length(value: str, min_chars: int, max_chars: int) -> str:
    if len(value) < min_chars:
        raise Invalid("text_short", min=min_chars)
    if len(value) > max_chars:
        # Where the limit falls, so the person knows how much to cut without counting.
        ends = " ".join(value[max(0, max_chars - 20) : max_chars].split())
        raise Invalid("text_long", max=max_chars, length=len(value), over=len(value) - max_chars, ends=ends)
    return value


def text(max_chars: int, min_chars: int = 1) -> Any:
    """Free text (a summary, a reason, a message): several lines may come; direction marks are dropped."""

    def check(raw: str) -> str:
        return _length(_visible(_BIDI.sub("", clean(raw))), min_chars, max_chars)

    return check


def line(max_chars: int, min_chars: int = 1) -> Any:
    """A name (of a company, a person, a product, a place): one line, spaces collapsed. A direction mark is
    refused, not dropped: in a name it can only serve to make it read as something it is not."""

    def check(raw: str) -> str:
        value = clean(raw)
        if _BIDI.search(value):
            raise Invalid("text_bidi")
        return _length(" ".join(_visible(value).split()), min_chars, max_chars)

    return check


SEOUL_DISTRICTS = (
    "강남", "강동", "강북", "강서", "관악", "광진", "구로", "금천", "노원", "도봉", "동대문", "동작",
    "마포", "서대문", "서초", "성동", "성북", "송파", "양천", "영등포", "용산", "은평", "종로", "중구", "중랑",
    "gangnam", "gangdong", "gangbuk", "gangseo", "gwanak", "gwangjin", "guro", "geumcheon", "nowon",
    "dobong", "dongdaemun", "dongjak", "mapo", "seodaemun", "seocho", "seongdong", "seongbuk", "songpa",
    "yangcheon", "yeongdeungpo", "yongsan", "eunpyeong", "jongno", "jung-gu", "jungnang",
)  # fmt: skip


def seoul_address(raw: str) -> str:
    value = line(300, 2)(raw)
    lowered = value.lower()
    if "서울" in value or "seoul" in lowered or any(d in lowered for d in SEOUL_DISTRICTS):
        return value
    raise Invalid("not_seoul")


def company_size(choice: str) -> str:
    if choice not in ("sme", "midsize", "large"):
        raise Invalid("choice")
    if choice != "sme":
        raise Invalid("not_sme")
    return choice


TECH_FIELDS = ("ai", "iot", "bigdata", "blockchain", "fintech", "robot", "drone", "arvr", "other")


def tech_fields(choices: list[str]) -> list[str]:
    picked = [c for c in TECH_FIELDS if c in set(choices)]
    if not picked:
        raise Invalid("pick_one")
    return picked


def entries(most: int) -> Any:
    """Entries of a list kept in the database (buying departments), by id: at least one, at most ``most``.
    Whether each still exists is the form's to check, where the list is."""

    def check(choices: list[str]) -> list[str]:
        picked = list(dict.fromkeys(str(c) for c in choices if str(c).isdecimal()))
        if not picked:
            raise Invalid("department_pick")
        if len(picked) > most:
            raise Invalid("department_too_many", most=most)
        return picked

    return check


def entry(choice: str) -> str:
    if not str(choice).isdecimal():
        raise Invalid("department_pick")
    return str(choice)


def trl(raw: str) -> int:
    digits = re.sub(r"(?i)^\s*trl\s*", "", ascii_digits(clean(str(raw)))).strip()
    if not re.fullmatch(r"[0-9]{1,2}", digits) or not 1 <= int(digits) <= 9:
        raise Invalid("trl_range")
    level = int(digits)
    if level < 6:
        raise Invalid("trl_too_low", level=level)
    return level


def consent(choice: str) -> str:
    if choice not in ("agree", "refuse"):
        raise Invalid("choice")
    return choice


FILE_NAME_MAX = 120  # characters of a file name kept (the database holds 255, a disk's limit is bytes)


def file_name(raw: str, default: str, limit: int = FILE_NAME_MAX) -> str:
    """A file name fit for a disk, a header and the database: no path, no control or direction characters,
    shortened to ``limit`` characters keeping its extension."""
    base = re.sub(r"[\x00-\x1f\x7f/\\\\]+", "_", Path(clean_lenient(raw)).name)
    base = _visible(_BIDI.sub("", base)).strip(" .") or default
    if len(base) <= limit:
        return base
    stem, dot, suffix = base.rpartition(".")
    return (stem[: limit - len(suffix) - 1] + "." + suffix) if dot and len(suffix) <= 10 else base[:limit]


def pdf(max_bytes: int) -> Any:
    def check(file: FileInput) -> dict[str, Any]:
        name = file_name(file.file_name or "", "deck.pdf")
        # A PDF by its name: a deck named .exe is refused whatever it claims or holds, since officials
        # download it under that name; a name with no extension at all is given one.
        suffix = Path(name).suffix.lower()
        if suffix and suffix != ".pdf":
            raise Invalid("pdf_type")
        if not suffix and file.mime_type != "application/pdf":
            raise Invalid("pdf_type")
        if file.size is not None and file.size > max_bytes:
            raise Invalid("pdf_size", max_mb=max_bytes // (1024 * 1024), size_mb=round(file.size / 1048576, 1))
        head = file.head(5)
        if head is not None and head != b"%PDF-":
            raise Invalid("pdf_content")
        return {
            "file_id": file.file_id,
            "file_name": name if suffix else file_name(f"{name}.pdf", "deck.pdf"),
            "size": file.size,
        }

    return check


def evidence_pdf(max_bytes: int) -> Any:
    """Evidence for an appeal: a PDF as a deck is, refused in words about evidence, not about a deck."""
    deck = pdf(max_bytes)

    def check(file: FileInput) -> dict[str, Any]:
        try:
            return deck(file)  # type: ignore[no-any-return]
        except Invalid as err:
            if err.code == "pdf_type":
                raise Invalid("evidence_type") from err
            raise

    return check


def one_of(*codes: str) -> Any:
    def check(choice: str) -> str:
        if choice not in codes:
            raise Invalid("choice")
        return choice

    return check


def required_text(max_chars: int, missing: str = "reason_required") -> Any:
    """Free text that must be given (a reason): an empty answer is named as missing (the error ``missing``),
    not as short."""

    def check(raw: str) -> str:
        if not str(raw).strip():
            raise Invalid(missing)
        return text(max_chars, 1)(raw)

    return check


def score(choice: str) -> int:
    if str(choice).strip() not in ("1", "2", "3", "4", "5"):
        raise Invalid("choice")
    return int(str(choice).strip())


_CLOCK = re.compile(
    r"^\s*(?P<before>오전|오후|am|pm)?\s*(?P<hour>[0-9]{1,2})\s*"
    r"(?:(?::|\.)\s*(?P<minute>[0-9]{2})|시\s*(?:(?P<half>반)|(?P<minutes>[0-9]{1,2})\s*분?)?)?"
    r"\s*(?P<after>am|pm)?\s*$",
    re.IGNORECASE,
)


def clock_time(raw: str) -> str:
    """A local clock time as people type it (14:00, 14.00, 14시, 14시 30분, 2시 반, 오후 2시, 2:30 pm), as
    "HH:MM"; 1시 to 7시 without 오전 are the afternoon's, as said in Korean of working hours. A bare number is
    not a time (it may be a slot's length typed in the wrong place)."""
    match = _CLOCK.match(ascii_digits(clean(str(raw))))
    if not match or not (match["minute"] or "시" in raw or match["before"] or match["after"]):
        raise Invalid("time_format")
    hour = int(match["hour"])
    minute = 30 if match["half"] else int(match["minute"] or match["minutes"] or 0)
    if match["before"] and match["after"] and match["before"].casefold() != {"am": "오전", "pm": "오후"}.get(
        match["after"].casefold(), match["after"].casefold()):  # fmt: skip
        raise Invalid("time_format")  # 오후 2시 am: which one?
    noon = {"am": "오전", "pm": "오후"}.get((match["before"] or match["after"] or "").casefold(), match["before"] or "")
    if noon and not 1 <= hour <= 12:
        raise Invalid("time_format")  # 오후 14시: one of the two is wrong
    if not noon and "시" in raw and 1 <= hour <= 7:
        noon = "오후"  # 「2시 반」 is said of the afternoon: events here are in working hours, never at 2 a.m.
    if noon == "오후" and hour < 12:
        hour += 12
    elif noon == "오전" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise Invalid("time_format")
    return f"{hour:02d}:{minute:02d}"


def minutes(low: int, high: int) -> Any:
    def check(raw: str) -> int:
        value = ascii_digits(clean(str(raw))).strip().removesuffix("분").strip()
        if not re.fullmatch(r"[0-9]{1,4}", value):
            raise Invalid("number_format")
        if not low <= int(value) <= high:
            raise Invalid("slot_invalid")
        return int(value)

    return check


EXPO_FILE_MAX = 200_000


def expo_file(file: FileInput) -> dict[str, Any]:
    """The expo's YAML file: small, and named or typed as YAML or text; its content is checked on loading."""
    name = (file.file_name or "").lower()
    typed = (file.mime_type or "").startswith(("text/", "application/x-yaml", "application/yaml"))
    if not (name.endswith((".yaml", ".yml", ".txt")) or typed) or (file.size or 0) > EXPO_FILE_MAX:
        raise Invalid("expo_file")
    return {"file_id": file.file_id, "file_name": file_name(file.file_name or "", "expo.yaml"), "size": file.size}

"""Pure validators for form answers. Each returns the normalized value or raises :class:`Invalid`,
whose code names an error template (``errors/<code>``) and whose params fill it."""

from __future__ import annotations

import re
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


_BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def brn_check_digit_ok(digits: str) -> bool:
    nums = [int(c) for c in digits]
    total = sum(n * w for n, w in zip(nums[:9], _BRN_WEIGHTS, strict=True))
    total += (nums[8] * 5) // 10
    return (10 - total % 10) % 10 == nums[9]


def brn(raw: str) -> str:
    digits = re.sub(r"[\s\-–]", "", raw)
    if not digits.isdigit() or len(digits) != 10:
        raise Invalid("brn_format")
    if not brn_check_digit_ok(digits):
        raise Invalid("brn_checksum")
    return digits


def format_brn(digits: str) -> str:
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def phone(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw.strip(), "KR")
    except phonenumbers.NumberParseException:
        raise Invalid("phone") from None
    if number.country_code != 82 or not phonenumbers.is_valid_number(number):
        raise Invalid("phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    number = phonenumbers.parse(e164, "KR")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid("email") from None


def text(max_chars: int, min_chars: int = 1) -> Any:
    def check(raw: str) -> str:
        value = raw.strip()
        if len(value) < min_chars:
            raise Invalid("text_short", min=min_chars)
        if len(value) > max_chars:
            raise Invalid("text_long", max=max_chars, length=len(value), over=len(value) - max_chars)
        return value

    return check


SEOUL_DISTRICTS = (
    "강남", "강동", "강북", "강서", "관악", "광진", "구로", "금천", "노원", "도봉", "동대문", "동작",
    "마포", "서대문", "서초", "성동", "성북", "송파", "양천", "영등포", "용산", "은평", "종로", "중구", "중랑",
    "gangnam", "gangdong", "gangbuk", "gangseo", "gwanak", "gwangjin", "guro", "geumcheon", "nowon",
    "dobong", "dongdaemun", "dongjak", "mapo", "seodaemun", "seocho", "seongdong", "seongbuk", "songpa",
    "yangcheon", "yeongdeungpo", "yongsan", "eunpyeong", "jongno", "jung-gu", "jungnang",
)  # fmt: skip


def seoul_address(raw: str) -> str:
    value = text(300, 2)(raw)
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


def trl(raw: str) -> int:
    digits = re.sub(r"(?i)^\s*trl\s*", "", str(raw)).strip()
    if not digits.isdigit() or not 1 <= int(digits) <= 9:
        raise Invalid("trl_range")
    level = int(digits)
    if level < 6:
        raise Invalid("trl_too_low", level=level)
    return level


def consent(choice: str) -> str:
    if choice not in ("agree", "refuse"):
        raise Invalid("choice")
    return choice


def pdf(max_bytes: int) -> Any:
    def check(file: FileInput) -> dict[str, Any]:
        name = file.file_name or ""
        if file.mime_type != "application/pdf" and not name.lower().endswith(".pdf"):
            raise Invalid("pdf_type")
        if file.size is not None and file.size > max_bytes:
            raise Invalid("pdf_size", max_mb=max_bytes // (1024 * 1024), size_mb=round(file.size / 1048576, 1))
        head = file.head(5)
        if head is not None and head != b"%PDF-":
            raise Invalid("pdf_content")
        return {"file_id": file.file_id, "file_name": name or "deck.pdf", "size": file.size}

    return check


def one_of(*codes: str) -> Any:
    def check(choice: str) -> str:
        if choice not in codes:
            raise Invalid("choice")
        return choice

    return check


def required_text(max_chars: int) -> Any:
    """Free text that must be given (a reason): an empty answer is named as missing, not as short."""

    def check(raw: str) -> str:
        if not str(raw).strip():
            raise Invalid("reason_required")
        return text(max_chars, 1)(raw)

    return check


def score(choice: str) -> int:
    if str(choice).strip() not in ("1", "2", "3", "4", "5"):
        raise Invalid("choice")
    return int(str(choice).strip())


_CLOCK = re.compile(r"^\s*(\d{1,2})\s*(?::|시)\s*(\d{2})\s*분?\s*$")


def clock_time(raw: str) -> str:
    """A local clock time such as 14:00 or 14시 30분, as "HH:MM"."""
    match = _CLOCK.match(str(raw))
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise Invalid("time_format")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def minutes(low: int, high: int) -> Any:
    def check(raw: str) -> int:
        value = str(raw).strip().removesuffix("분").strip()
        if not value.isdigit() or len(value) > 4:
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
    return {"file_id": file.file_id, "file_name": file.file_name or "expo.yaml", "size": file.size}

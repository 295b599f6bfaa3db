from __future__ import annotations

import pytest

from bot import validators as v
from bot.validators import FileInput, Invalid
from tests.test_templates import TEXTS


@pytest.mark.parametrize(
    "raw", ["220-81-62517", "2208162517", " 220 81 62517 ", "220–81–62517", "220.81.62517", "220－81－62517"]
)
def test_brn_accepted_with_or_without_dashes(raw: str) -> None:
    assert v.brn(raw) == "2208162517"
    assert v.format_brn("2208162517") == "220-81-62517"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("220-81-6251", "brn_format"),
        ("abc", "brn_format"),
        ("220-81-62518", "brn_checksum"),
        ("123-45-67890", "brn_checksum"),
    ],
)
def test_brn_refused(raw: str, code: str) -> None:
    with pytest.raises(Invalid) as err:
        v.brn(raw)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("010-1234-5678", "+821012345678"),
        ("02-2133-5000", "+82221335000"),
        ("031-123-4567", "+82311234567"),
        ("+82 10 1234 5678", "+821012345678"),
    ],
)
def test_phone_korean_mobile_and_landline(raw: str, e164: str) -> None:
    assert v.phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "010-12", "+1 212 555 0100", "전화"])
def test_phone_refused(raw: str) -> None:
    with pytest.raises(Invalid):
        v.phone(raw)


def test_email() -> None:
    assert v.email(" Kim@Example.COM ") == "Kim@example.com"
    assert v.email("choi＠hanbit．kr") == "choi@hanbit.kr"  # full width, as a Korean keyboard may type it
    with pytest.raises(Invalid):
        v.email("kim@")


def test_trl() -> None:
    assert v.trl("TRL 7") == 7
    assert v.trl("9") == 9
    with pytest.raises(Invalid) as err:
        v.trl("5")
    assert err.value.code == "trl_too_low" and err.value.params == {"level": 5}
    with pytest.raises(Invalid) as err:
        v.trl("10")
    assert err.value.code == "trl_range"


def test_text_limits_report_the_numbers() -> None:
    check = v.text(10, 2)
    assert check("  ok ") == "ok"
    with pytest.raises(Invalid) as err:
        check("x" * 13)
    assert err.value.params == {"max": 10, "length": 13, "over": 3, "ends": "x" * 10}  # where the limit falls


def test_company_size_and_seoul() -> None:
    assert v.company_size("sme") == "sme"
    with pytest.raises(Invalid) as err:
        v.company_size("large")
    assert err.value.code == "not_sme"
    assert v.seoul_address("Mapo-gu, Seoul")
    assert v.seoul_address("강남구 테헤란로 1")
    with pytest.raises(Invalid):
        v.seoul_address("부산 해운대구")


def test_tech_fields_keep_the_catalogue_order() -> None:
    assert v.tech_fields(["robot", "ai", "nonsense"]) == ["ai", "robot"]
    with pytest.raises(Invalid):
        v.tech_fields([])


def test_pdf() -> None:
    check = v.pdf(1024)
    ok = check(FileInput("f", "a.PDF", None, 10, b"%PDF-1.4"))
    assert ok == {"file_id": "f", "file_name": "a.PDF", "size": 10}
    for bad, code in [(FileInput("f", "a.doc", "application/msword", 10), "pdf_type"),
                      (FileInput("f", "a.pdf", "application/pdf", 2048), "pdf_size"),
                      (FileInput("f", "a.pdf", "application/pdf", 10, b"PK"), "pdf_content")]:  # fmt: skip
        with pytest.raises(Invalid) as err:
            check(bad)
        assert err.value.code == code


@pytest.mark.parametrize(
    "raw", ["２２０-８１-６２５１７", "٢٢٠-٨١-٦٢٥١٧", "२२०८१६२५१७", "２２０－８１－６２５１７", "220—81—62517"]
)
def test_brn_in_any_digits_is_kept_as_ascii(raw: str) -> None:
    assert v.brn(raw) == "2208162517"


@pytest.mark.parametrize(
    ("check", "raw", "code"),
    [
        (v.brn, "22081625¹⁷", "brn_format"),
        (v.brn, "22081625①⑦", "brn_format"),
        (v.trl, "⁷", "trl_range"),
        (v.trl, "9" * 5000, "trl_range"),
        (v.minutes(5, 120), "²⁰", "number_format"),
        (v.clock_time, "¹⁴:⁰⁰", "time_format"),
        (v.brn, "220\x0081-62517", "text_nul"),
        (v.text(100), "a\x00b", "text_nul"),
        (v.line(100, 2), "\u200b\u200b\u200b", "text_short"),
        (v.line(100, 2), "ㅤㅤ", "text_short"),
        (v.text(100, 2), "\u200d\ufeff\u2060", "text_short"),
        (v.line(100, 2), "abc\u202edef", "text_bidi"),
        (v.phone, "02-2133-1234 ext. 1234567", "phone_extension"),
    ],
)
def test_odd_characters_are_refused_by_name(check: object, raw: str, code: str) -> None:
    with pytest.raises(Invalid) as err:
        check(raw)  # type: ignore[operator]
    assert err.value.code == code


def test_numbers_in_other_digits_are_read() -> None:
    assert v.trl("７") == 7 and v.trl("TRL ٨") == 8
    assert v.minutes(5, 120)("２０분") == 20
    assert v.clock_time("１４：３０") == "14:30"
    assert v.phone("０１０-２３４５-６７８９") == "+821023456789"


def test_text_is_cleaned_not_refused() -> None:
    assert v.text(100)("줄\x07바꿈\r\n다음 줄\u202e") == "줄바꿈\n다음 줄"
    assert v.line(100)("  한빛 \n  로보틱스\u200b ") == "한빛 로보틱스"
    assert v.line(100)("한빛") == "한빛"  # decomposed Hangul (as a Mac types it) is kept composed


@pytest.mark.parametrize(
    ("raw", "e164", "shown"),
    [
        ("02-2133-1234 내선 123", "+82221331234;ext=123", ("02-2133-1234 (내선 123)", "02-2133-1234 ext. 123")),
        ("02-2133-1234 (내선) 45", "+82221331234;ext=45", ("02-2133-1234 (내선 45)", "02-2133-1234 ext. 45")),
        ("02-2133-1234 ext. 7", "+82221331234;ext=7", ("02-2133-1234 (내선 7)", "02-2133-1234 ext. 7")),
        ("010-2345-6789", "+821023456789", ("010-2345-6789", "010-2345-6789")),
    ],
)
def test_phone_extension_is_kept(raw: str, e164: str, shown: tuple[str, str]) -> None:
    assert v.phone(raw) == e164 and len(e164) <= 32
    assert (TEXTS.phone("ko", e164), TEXTS.phone("en", e164)) == shown  # an extension in the reader's words


def test_file_names() -> None:
    assert v.file_name("../../etc/passwd", "f") == "passwd"
    assert v.file_name("\u202efdp.exe", "f") == "fdp.exe"
    assert v.file_name("", "deck.pdf") == "deck.pdf"
    long = v.file_name("가" * 300 + ".pdf", "f")
    assert len(long) == v.FILE_NAME_MAX and long.endswith(".pdf")
    pdf = v.pdf(1 << 20)
    for name in ("deck.exe", "deck.pdf.exe", "deck"):
        with pytest.raises(Invalid):
            pdf(FileInput("id", name, "application/octet-stream" if name == "deck" else "application/pdf", 10))
    assert pdf(FileInput("id", "deck", "application/pdf", 10))["file_name"] == "deck.pdf"
    assert pdf(FileInput("id", "발표.PDF", None, 10))["file_name"] == "발표.PDF"


@pytest.mark.parametrize(
    ("raw", "time"),
    [("14:00", "14:00"), ("14.30", "14:30"), ("14시", "14:00"), ("14시 30분", "14:30"), ("14시30분", "14:30"),
     ("2시 반", "14:30"), ("2시", "14:00"), ("9시", "09:00"), ("오전 7시", "07:00"), ("2:30", "02:30"),
     ("오후 2시", "14:00"), ("오전 10시 30분", "10:30"), ("2:30 PM", "14:30"), ("2 pm", "14:00"),
     ("오후 12시", "12:00"), ("12 am", "00:00")],
)  # fmt: skip
def test_a_time_as_people_type_it(raw: str, time: str) -> None:
    assert v.clock_time(raw) == time


@pytest.mark.parametrize("raw", ["14", "1400", "25:00", "14:60", "9:5", "오후 14시", "오후", "두 시", "오후 2시 am"])
def test_not_a_time(raw: str) -> None:
    with pytest.raises(v.Invalid) as caught:
        v.clock_time(raw)
    assert caught.value.code == "time_format"

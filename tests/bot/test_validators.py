from __future__ import annotations

import pytest

from bot import validators as v
from bot.validators import FileInput, Invalid


@pytest.mark.parametrize("raw", ["220-81-62517", "2208162517", " 220 81 62517 ", "220–81–62517"])
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
    assert err.value.params == {"max": 10, "length": 13, "over": 3}


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

"""An expo file's problems are named in the organizer's language, each one precisely enough to mend it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import Refused
from bot.services import expo
from bot.settings import PROJECT_ROOT
from bot.texts import Texts
from tests.test_templates import SEOUL

SAMPLE = (PROJECT_ROOT / "samples" / "expo-2019.yaml").read_text(encoding="utf-8")
TEXTS = Texts(PROJECT_ROOT / "templates", SEOUL)
ITEM_6 = '{day: 1, start: "16:00", end: "18:00", kind: debate,'


@pytest.mark.parametrize(
    ("broken", "problem", "ko", "en"),
    [
        (SAMPLE.replace("name_en:", "name_en ["), "yaml", "YAML 형식이 맞지 않습니다(", "it is not valid YAML (line "),
        (SAMPLE.replace("2019-09-27]", "2019-09-31]"), "no_such_date", "없는 날짜가 있습니다",
         "a date that does not exist"),
        ("- just\n- a list\n", "not_mapping", "「항목: 값」 형식의 YAML 파일이 아닙니다", "not a YAML file of"),
        (SAMPLE.replace("venue_en: Seoul City Hall Plaza", "venue_en: ''"), "missing", "venue_en 항목이 없습니다",
         "venue_en is missing"),
        (SAMPLE.replace("dates: [2019-09-26, 2019-09-27]", "dates: September"), "dates",
         "dates는 1~7일의 날짜 목록", "dates must be a list of 1 to 7 days"),
        (SAMPLE.replace("[2019-09-26, 2019-09-27]", "[2019-09-27, 2019-09-26]"), "dates_order",
         "dates의 날짜가 순서대로 있지 않습니다", "dates must be in order"),
        (SAMPLE.split("programme:")[0], "missing", "programme 항목이 없습니다", "programme is missing"),
        (SAMPLE.replace("  - {day: 1, start: \"10:00\", end: \"12:00\"", "  - opening\n  - {day: 1, start: \"10:00\", "
         "end: \"12:00\""), "item_mapping", "programme의 4번째 항목이 「항목: 값」 형식이 아닙니다",
         "programme item 4 is not a set"),
        (SAMPLE.replace(ITEM_6, ITEM_6.replace("day: 1", "day: 3")), "item_day",
         "programme의 6번째 항목: day는 1부터 2까지의 숫자", "programme item 6: day must be a number from 1 to 2"),
        (SAMPLE.replace(ITEM_6, ITEM_6.replace('end: "18:00"', 'end: "15:00"')), "item_time",
         "programme의 6번째 항목: start와 end는 10:00과 같은 시각", "programme item 6: start and end must be times"),
        (SAMPLE.replace("kind: debate", "kind: party"), "item_kind",
         "programme의 6번째 항목: kind는 exhibition, consultations, citizen_zone", "programme item 6: kind must be one "
         "of exhibition, consultations, citizen_zone"),
        (SAMPLE.replace("title_en: Public purchase innovation debate", "title_en: ' '"), "item_title",
         "programme의 6번째 항목: title과 title_en이 모두 필요합니다", "programme item 6: title and title_en are both"),
    ],
)  # fmt: skip
def test_each_problem_is_named_in_korean_and_in_english(broken: str, problem: str, ko: str, en: str) -> None:
    with pytest.raises(Refused) as caught:
        expo.parse(broken)
    err = caught.value
    assert err.code == "expo_invalid" and err.params["problem"] == problem
    korean = TEXTS.render_plain("ko", err.template, **err.params)
    english = TEXTS.render_plain("en", err.template, **err.params)
    assert (
        korean.startswith("박람회 파일을 읽을 수 없습니다: ")
        and ko in korean
        and korean.endswith("다시 보내 주십시오.")
    )
    assert english.startswith("The expo file cannot be read: ") and en in english
    # Beside the file's own keys and kinds, as the organizer writes them, not a word of English in Korean.
    keys = {*expo.KINDS, "name", "name_en", "venue", "venue_en", "booking", "booking_en", "dates", "programme",
            "day", "start", "end", "kind", "title", "title_en"}  # fmt: skip
    assert re.findall(r"[A-Za-z_]*[a-z][A-Za-z_]*", korean) == [w for w in re.findall(r"[A-Za-z_]+", korean)
                                                              if w in keys]  # fmt: skip


def test_the_sample_is_valid() -> None:
    parsed = expo.parse(SAMPLE)
    assert len(parsed["programme"]) == 12 and str(parsed["ends_on"]) == "2019-09-27"
    assert Path(PROJECT_ROOT / "samples" / "expo-2019.yaml").is_file()

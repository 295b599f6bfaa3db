from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.telegram_html import parse_html
from bot.split import split_html, split_plain


def test_short_messages_stay_whole() -> None:
    assert split_html("<b>hi</b>\nthere") == ["<b>hi</b>\nthere"]


def test_lines_are_kept_together_and_entities_never_cut() -> None:
    html = "<b>제목</b>\n" + "\n".join(f"• 항목 {i} &amp; 설명" for i in range(400))
    parts = split_html(html, 500)
    assert all(len(p) <= 500 for p in parts)
    assert "\n".join(parts) == html
    for part in parts:
        parse_html(part)


@given(st.text(alphabet="가a&<>;\n😀 ", min_size=0, max_size=3000))
def test_any_escaped_user_text_splits_into_valid_parts(text: str) -> None:
    from html import escape

    html = "<b>의견</b>: " + escape(text, quote=False)
    parts = split_html(html, 300)
    assert all(len(p) <= 300 for p in parts)
    for part in parts:
        parse_html(part)  # no part breaks a tag or an entity


@given(st.text(alphabet="가a \n😀", min_size=300, max_size=3000))
def test_plain_text_parts_fit_and_lose_nothing_but_spaces(text: str) -> None:
    parts = split_plain(text, 200)
    assert all(len(p) <= 200 for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_plain_text_is_cut_at_a_space() -> None:
    text = " ".join(["단어"] * 300)
    parts = split_plain(text, 100)
    assert all(len(p) <= 100 and not p.endswith("단") for p in parts)
    assert " ".join(parts).split() == text.split()

from __future__ import annotations

import datetime as dt

import pytest

from bot.settings import SettingsError, load_settings


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PITCHBOT_ORGANIZER_IDS", "11, 22;33")
    monkeypatch.setenv("PITCHBOT_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("PITCHBOT_FAKE_NOW", "2026-12-03T10:00+09:00")
    monkeypatch.setenv("PITCHBOT_TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    s = load_settings()
    assert s.organizer_ids == ("telegram:11", "telegram:22", "telegram:33")
    assert s.database_url == "postgresql+psycopg2://u@h/db"
    assert s.fake_now == dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
    assert s.telegram_api_url == "http://127.0.0.1:8081"
    assert s.telegram_token is None and s.timezone == "Asia/Seoul"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [("PITCHBOT_TIMEZONE", "Mars/Olympus", "PITCHBOT_TIMEZONE"),
     ("PITCHBOT_FAKE_NOW", "2026-12-03T10:00", "PITCHBOT_FAKE_NOW"),
     ("PITCHBOT_ORGANIZER_IDS", "abc", "PITCHBOT_ORGANIZER_IDS"),
     ("PITCHBOT_TELEGRAM_API_URL", "ftp://x", "PITCHBOT_TELEGRAM_API_URL"),
     ("PITCHBOT_TELEGRAM_TOKEN", "123456-abc", "PITCHBOT_TELEGRAM_TOKEN"),
     ("PITCHBOT_SCORE_WEIGHTS", "nope", "PITCHBOT_SCORE_WEIGHTS"),
     ("PITCHBOT_SCORE_WEIGHTS", "[1,2]", "PITCHBOT_SCORE_WEIGHTS"),
     ("PITCHBOT_SCORE_WEIGHTS", "1,-1,1,1", "PITCHBOT_SCORE_WEIGHTS"),
     ("PITCHBOT_PASS_MARKS", "3,3", "PITCHBOT_PASS_MARKS"),
     ("PITCHBOT_PASS_MARKS", "3,3,6,0", "PITCHBOT_PASS_MARKS"),
     ("PITCHBOT_PASS_MARKS", "[3,-1,0,0]", "PITCHBOT_PASS_MARKS"),
     ("PITCHBOT_PASS_MARKS", "three", "PITCHBOT_PASS_MARKS"),
     ("PITCHBOT_TRIM_MIN_REVIEWS", "2", "PITCHBOT_TRIM_MIN_REVIEWS"),
     ("PITCHBOT_TRIM_MIN_REVIEWS", "-1", "PITCHBOT_TRIM_MIN_REVIEWS"),
     ("PITCHBOT_DATABASE_URL", "mysql://u@h/db", "PITCHBOT_DATABASE_URL"),
     ("PITCHBOT_DATABASE_URL", "nope://x", "PITCHBOT_DATABASE_URL")],
)  # fmt: skip
def test_a_bad_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_sandbox_mark_only_with_a_bot_api_on_this_machine() -> None:
    """The outbox's calls carry a parameter only the stand-in reads: never with Telegram's own Bot API."""
    with pytest.raises(SettingsError, match="PITCHBOT_SANDBOX_UNASKED is invalid"):
        load_settings(sandbox_unasked=True, telegram_api_url="https://api.telegram.org")
    assert load_settings(sandbox_unasked=True, telegram_api_url="http://127.0.0.1:8081").sandbox_unasked


def test_organizers_on_either_channel() -> None:
    s = load_settings(organizer_ids="11, kakao:Ab-_c9; telegram:22")
    assert s.organizers == {"telegram:11", "kakao:Ab-_c9", "telegram:22"}
    assert load_settings(organizer_ids="007").organizers == {"telegram:7"}
    for bad in ("bob", "line:1", "kakao:", "telegram:x", "0", "telegram:000", "١٢"):
        with pytest.raises(SettingsError, match="PITCHBOT_ORGANIZER_IDS"):
            load_settings(organizer_ids=bad)


def test_score_weights_as_json_or_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PITCHBOT_SCORE_WEIGHTS", "[2, 1, 1, 0]")
    assert load_settings().score_weights == (2.0, 1.0, 1.0, 0.0)
    monkeypatch.setenv("PITCHBOT_SCORE_WEIGHTS", "1, 1.5,1,1")
    assert load_settings().score_weights == (1.0, 1.5, 1.0, 1.0)


def test_pass_marks_and_trimming(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.trim_min_reviews, s.pass_marks) == (0, (0.0, 0.0, 0.0, 0.0))  # off unless organizers ask
    monkeypatch.setenv("PITCHBOT_PASS_MARKS", "[3,3,0,0]")
    monkeypatch.setenv("PITCHBOT_TRIM_MIN_REVIEWS", "5")
    s = load_settings()
    assert (s.trim_min_reviews, s.pass_marks) == (5, (3.0, 3.0, 0.0, 0.0))
    monkeypatch.setenv("PITCHBOT_PASS_MARKS", "2.5, 0, 0, 3")
    assert load_settings().pass_marks == (2.5, 0.0, 0.0, 3.0)


def test_a_kakaotalk_bot_needs_its_skill_secret() -> None:
    # Without it the skill's address would take calls from anyone, as any KakaoTalk user.
    for secret in (None, "  "):
        with pytest.raises(SettingsError, match="PITCHBOT_KAKAO_SKILL_SECRET is invalid: is needed with"):
            load_settings(kakao_bot_id="abc123", kakao_skill_secret=secret, public_url="https://bot.example.kr")
    kakao = load_settings(kakao_bot_id="abc123", kakao_skill_secret="s3cret", public_url="https://bot.example.kr")
    assert kakao.kakao_skill_secret is not None
    assert load_settings().kakao_skill_secret is None  # no KakaoTalk, no secret needed


def test_a_kakaotalk_bot_needs_a_public_address_for_its_files() -> None:
    with pytest.raises(SettingsError, match="PITCHBOT_KAKAO_BOT_ID is invalid: needs PITCHBOT_PUBLIC_URL"):
        load_settings(kakao_bot_id="abc123", kakao_skill_secret="s3cret")


def test_addresses_are_checked_at_start() -> None:
    """A public address or a webhook that could never work was accepted: every file link would have led
    nowhere."""
    for bad in ("notaurl", "http://bot.example.kr", "https://"):
        with pytest.raises(SettingsError, match="PITCHBOT_PUBLIC_URL is invalid: must be an https address"):
            load_settings(public_url=bad)
    assert load_settings(public_url="http://127.0.0.1:8080").public_url == "http://127.0.0.1:8080"  # the sandbox
    with pytest.raises(SettingsError, match="PITCHBOT_TELEGRAM_WEBHOOK_URL is invalid: must be an https address"):
        load_settings(telegram_webhook_url="http://x.example/telegram/webhook")
    with pytest.raises(SettingsError, match="must end in /telegram/webhook"):
        load_settings(telegram_webhook_url="https://x.example/hook")
    assert load_settings(telegram_webhook_url="https://x.example/bot/telegram/webhook").telegram_webhook_url


def test_weights_of_the_wrong_count_say_four() -> None:
    with pytest.raises(SettingsError, match="PITCHBOT_SCORE_WEIGHTS is invalid: must be four numbers, one per"):
        load_settings(score_weights="1,2")  # it said "Field required"

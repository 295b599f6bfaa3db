from tests.harness import Harness


async def test_start_shows_menu(harness: Harness) -> None:
    user = harness.user(1001, "김민준")
    [msg] = await user.send("/start")
    assert "피칭데이" in msg.text
    assert "신청" in " ".join(msg.button_texts())

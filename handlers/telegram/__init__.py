"""The Telegram channel: updates become inputs for the engine, screens become Bot API calls."""

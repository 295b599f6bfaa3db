"""A sandbox: a local stand-in for Telegram's Bot API server and simulated users who talk to it."""

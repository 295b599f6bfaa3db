"""Business rules and transactions. Each function takes its session, time and settings as parameters
and knows nothing of Telegram, so the CLI, the scheduler and the KakaoTalk channel call the same code."""

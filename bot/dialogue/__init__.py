"""The conversation engine: what a person did comes in as an :class:`~bot.dialogue.model.Incoming`, screens
come out. Flows know no messenger; channel adapters in ``handlers/`` turn updates into inputs and screens
into their platform's calls."""

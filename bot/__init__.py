"""Testbed Seoul Pitching Day bot: the business logic, free of any chat channel's types."""

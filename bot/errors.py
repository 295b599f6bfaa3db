"""Errors meant for the user: a code naming the template ``errors/<code>`` and its parameters."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def template(self) -> str:
        return f"errors/{self.code}"


class Refused(UserError):
    """A service declines an action (window closed, not the owner, duplicate...)."""


class FileTooLarge(OSError):
    """A file grew past the size allowed while it was being received (its declared size was missing or
    wrong): it was not kept. ``size``: how much of it had come, or what its sender then declared."""

    def __init__(self, size: int) -> None:
        super().__init__(f"file larger than allowed ({size} bytes or more)")
        self.size = size

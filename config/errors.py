"""The base of every domain error: a stable machine code and a sentence for people."""

from __future__ import annotations


class DomainError(Exception):
    code: str = "domain_error"
    message: str = "That could not be done."
    http_status: int = 409

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)

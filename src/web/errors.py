"""Errors a page raises: shown as a page in the visitor's language, never as JSON."""

from __future__ import annotations


class PageError(Exception):
    """A status and a catalogue key saying what went wrong (and what to do)."""

    def __init__(self, status: int, key: str, **params: object) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params

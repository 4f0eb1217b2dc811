"""Domain errors: what went wrong in the business's terms. The API maps them to HTTP problem
documents in one place (`api/errors.py`); the CLI reports them as row rejections."""

from __future__ import annotations

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    """One rejected field: its JSON path (`kommun`, `cpv_codes[2]`) and why."""

    field: str
    reason: str


class DomainError(Exception):
    """A rule refused the request; `detail` says why in words a client can act on."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class Invalid(DomainError):
    """A value breaks a rule (unknown kommun, bad check digit, …); every bad field is listed."""

    def __init__(self, errors: list[FieldError]) -> None:
        fields = ", ".join(error.field for error in errors)
        super().__init__(f"invalid value for: {fields}", errors)


class NotFound(DomainError):
    """No such thing, or one the caller may not know exists."""

    def __init__(self, what: str, ident: int | str) -> None:
        super().__init__(f"no {what} with id {ident}")


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError):
    """The action needs a caller, and there is none."""


class Conflict(DomainError):
    """The request clashes with existing data (duplicate org number, a closed need, …)."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail, [FieldError(field, detail)] if field else None)

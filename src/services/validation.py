"""Checks against reference data that a type alone cannot express: codes must exist."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from asfmatch.reference.cpv import cpv_catalog, normalise_cpv
from asfmatch.reference.org_numbers import normalise_org_number
from asfmatch.reference.regions import WHOLE_COUNTRY, kommuner, lan
from asfmatch.services.errors import FieldError, Invalid
from asfmatch.services.text import rule_reason

_FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)

# Deliberately loose: the address is confirmed by mail, not by a regular expression.
# fullmatch, not match with `$`: `$` also matches before a trailing newline, and an address
# ending in one breaks the headers of every e-mail sent to it.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def load_reference_data() -> None:
    """Read the code lists the checks use (CPV, kommuner, län) now: otherwise the first request
    of each process that checks a CPV code reads the CSV, about 50 ms, inside its answer."""
    cpv_catalog()
    kommuner()
    lan()


class Checker:
    """Collects every field error of one request, so the client sees them all at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, reason: str) -> None:
        """Record a rejected field."""
        self.errors.append(FieldError(field, reason))

    def kommun(self, field: str, code: str) -> str:
        """A known 4-digit SCB kommun code."""
        if code not in kommuner():
            self.fail(field, f"unknown kommun code {code!r} (4-digit SCB code, e.g. 2580 Luleå)")
        return code

    def lan(self, field: str, code: str) -> str:
        """A known 2-digit län code."""
        if code not in lan():
            self.fail(field, f"unknown län code {code!r} (2 digits, e.g. 25 Norrbotten)")
        return code

    def cpv_codes(self, field: str, codes: Sequence[str]) -> list[str]:
        """Known CPV codes, accepted with or without check digit, stored as 8 digits, deduplicated."""
        result: list[str] = []
        for position, raw in enumerate(codes):
            code = normalise_cpv(raw)
            if code is None:
                self.fail(
                    f"{field}[{position}]", f"{raw!r} is not a CPV code (8 digits, optionally -N)"
                )
            elif code not in cpv_catalog():
                self.fail(f"{field}[{position}]", f"unknown CPV code {raw!r}")
            elif code not in result:
                result.append(code)
        return result

    def cpv_prefix(self, field: str, prefix: str) -> str:
        """Leading digits of a CPV code (2 to 8)."""
        digits = prefix.split("-", 1)[0]
        if not (digits.isdigit() and 2 <= len(digits) <= 8):
            self.fail(field, "a CPV prefix is 2 to 8 digits, e.g. 5552")
        # A full code stands for its subtree: 55520000 finds 55521000 and 55524000 too.
        return digits.rstrip("0").ljust(2, "0") if len(digits) == 8 else digits

    def service_area(self, field: str, codes: Sequence[str]) -> list[str]:
        """Kommun codes, län codes or "SE", deduplicated; at least one."""
        result: list[str] = []
        if not codes:
            self.fail(field, "list at least one kommun code, län code or SE")
        for position, code in enumerate(codes):
            code = code.strip().upper()
            known = code == WHOLE_COUNTRY or code in kommuner() or code in lan()
            if not known:
                self.fail(
                    f"{field}[{position}]",
                    f"unknown area {code!r}: use a 4-digit kommun code, a 2-digit län code or SE",
                )
            elif code not in result:
                result.append(code)
        return result

    def org_number(self, field: str, raw: str) -> str:
        """A Swedish organisation number with a valid Luhn digit, as NNNNNN-NNNN."""
        try:
            return normalise_org_number(raw)
        except ValueError as error:
            self.fail(field, str(error))
            return raw

    def email(self, field: str, raw: str | None) -> str | None:
        """An e-mail address of plausible shape, or None."""
        if raw is not None and not _EMAIL.fullmatch(raw):
            self.fail(field, "not an e-mail address")
        return raw

    def future(self, field: str, moment: datetime | None) -> datetime | None:
        """A moment that has not passed yet (a need cannot close in the past), before 2100."""
        if moment is None:
            return None
        if moment <= datetime.now(UTC):
            self.fail(field, "lies in the past")
        elif moment >= _FAR_FUTURE:
            self.fail(field, "lies too far in the future (before 2100, please)")
        return moment

    def text(self, field: str, value: str) -> str:
        """Stripped text that is not blank."""
        stripped = value.strip()
        if not stripped:
            self.fail(field, "must not be blank")
        return stripped

    def raise_if_failed(self) -> None:
        """Raise Invalid with every recorded field error, if there is one."""
        if self.errors:
            raise Invalid(self.errors)


_PATH = re.compile(r"`\$\.?([^`]*)`")


def field_from_message(message: str) -> tuple[str | None, str]:
    """msgspec says "Expected `int`, got `str` - at `$.employees`"; split field from reason."""
    reason, _, where = message.partition(" - at ")
    found = _PATH.search(where) if where else None
    field = found.group(1) if found else None
    reason = rule_reason(reason) or reason
    if reason.startswith("Object missing required field"):
        missing = re.search(r"`([^`]+)`", reason)
        prefix = f"{field}." if field else ""
        return (prefix + missing.group(1) if missing else field), "required field is missing"
    if reason.startswith("Object contains unknown field"):
        unknown = re.search(r"`([^`]+)`", reason)
        prefix = f"{field}." if field else ""
        return (prefix + unknown.group(1) if unknown else field), "unknown field"
    return field, reason


def describe_decode_error(message: str, default_field: str = "body") -> FieldError:
    """A msgspec validation message as a FieldError."""
    field, reason = field_from_message(message)
    return FieldError(field or default_field, reason)

"""Swedish organisation numbers: NNNNNN-NNNN whose last digit is a Luhn check digit."""

from __future__ import annotations

import re

_FORM = re.compile(r"^([0-9]{6})-?([0-9]{4})$")


def luhn_check_digit(digits: str) -> int:
    """The Luhn digit that completes `digits` (weights 2,1,2,… from the left for 9 digits)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def normalise_org_number(raw: str) -> str:
    """Return `NNNNNN-NNNN` for a valid number (with or without hyphen); raise ValueError if not."""
    found = _FORM.match(raw.strip())
    if found is None:
        raise ValueError("must be 10 digits written NNNNNN-NNNN")
    digits = found.group(1) + found.group(2)
    if luhn_check_digit(digits[:9]) != int(digits[9]):
        raise ValueError("the check digit (the last one) does not match: mistyped number?")
    return f"{found.group(1)}-{found.group(2)}"

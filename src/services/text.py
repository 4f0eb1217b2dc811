"""The one rule for text arriving at the API, in every body field and query parameter: no NUL
or other control characters (newline and tab only in multi-line fields such as descriptions),
no bidirectional overrides. Such characters cannot be seen, break e-mail headers and logs, can
make a name read differently from what it is, and PostgreSQL cannot store NUL at all.

The rule is a regular expression in each field's schema, so msgspec enforces it while decoding
and the OpenAPI document states it. It ends with `(?![\\s\\S])` rather than `$`, because `$`
also matches before a trailing newline."""

from __future__ import annotations

import re

# Refused everywhere: DEL and the C1 controls, the bidirectional marks, embeddings, overrides
# and isolates (the "Trojan Source" characters), the Unicode line and paragraph separators.
_ALWAYS = r"\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"

# One line: names, titles, e-mail addresses, codes, URLs, search terms.
LINE = rf"^[^\x00-\x1f{_ALWAYS}]*(?![\s\S])"
# Several lines: descriptions and free-text reasons may hold newlines and tabs (not CR).
TEXT = rf"^[^\x00-\x08\x0b-\x1f{_ALWAYS}]*(?![\s\S])"

REASON = "control characters and bidirectional overrides are not allowed"
MULTILINE_REASON = REASON + " (newline and tab are)"

_LINE = re.compile(LINE)
_TEXT = re.compile(TEXT)


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` breaks the text rule, or None; for text that does not pass through a typed
    field (headers, form fields)."""
    if (_TEXT if multiline else _LINE).search(value):
        return None
    return MULTILINE_REASON if multiline else REASON


def rule_reason(message: str) -> str | None:
    """The text rule's reason if this msgspec message reports a broken text pattern."""
    if "matching regex" not in message:
        return None
    if repr(LINE)[1:-1] in message or LINE in message:
        return REASON
    if repr(TEXT)[1:-1] in message or TEXT in message:
        return MULTILINE_REASON
    return None

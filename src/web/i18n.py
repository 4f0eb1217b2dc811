"""Every UI string, one TOML catalogue per language: Swedish by default, English on request."""

from __future__ import annotations

import string
import tomllib
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Literal
from zoneinfo import ZoneInfo

Language = Literal["sv", "en"]
LANGUAGES: tuple[Language, ...] = ("sv", "en")
DEFAULT_LANGUAGE: Language = "sv"
SWEDEN = ZoneInfo("Europe/Stockholm")


class Count(int):
    """A number to put in a message, already written in the page's language (`{n}` shows
    `text`), that still chooses plural forms by its value (`{n:ASF|ASFs}`)."""

    text: str

    def __new__(cls, value: int, text: str) -> Count:
        made = super().__new__(cls, value)
        made.text = text
        return made

    def __format__(self, spec: str) -> str:
        return self.text if not spec else super().__format__(spec)


def plural_form(count: int, forms: list[str]) -> str:
    """The form for `count`: "one|other" (Swedish and English: one is exactly 1), or
    "zero|one|other" when nothing reads better than a 0."""
    if len(forms) == 3 and count == 0:
        return forms[0]
    return forms[-2] if count == 1 else forms[-1]


class _MessageFormatter(string.Formatter):
    """str.format plus plural forms: `{n:form for one|form for others}` picks by n's value
    and shows only the chosen form (which may name `{n}` itself)."""

    def format_field(self, value: object, format_spec: str) -> str:
        if "|" in format_spec:
            # Anything but a number (a slip in a caller) reads as plural rather than failing.
            count = int(value) if isinstance(value, int | float) else -1
            return plural_form(count, format_spec.split("|"))
        return str(super().format_field(value, format_spec))


_MESSAGES = _MessageFormatter()


def _flatten(table: dict[str, object], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalogue(language: Language) -> dict[str, str]:
    """The strings of one language, keyed by dotted names (`nav.needs`)."""
    raw = files("asfmatch.web").joinpath(f"catalog/{language}.toml").read_text(encoding="utf-8")
    return _flatten(tomllib.loads(raw))


def language_of(raw: str | None) -> Language:
    """A supported language code, Swedish for anything else."""
    return "en" if raw == "en" else DEFAULT_LANGUAGE


class Translator:
    """Looks strings up in one language; a missing key shows itself rather than failing."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self.strings = catalogue(language)

    def __call__(self, key: str, **params: object) -> str:
        text = self.strings.get(key)
        if text is None:
            return key
        return _MESSAGES.format(text, **params) if params else text

    def has(self, key: str) -> bool:
        """True if the catalogue holds `key`."""
        return key in self.strings

    def number(self, value: float, decimals: int = 0) -> str:
        """A number with the language's digit grouping (Swedish: thin space, decimal comma)."""
        text = f"{value:,.{decimals}f}"
        if self.language == "sv":
            return text.replace(",", "\u00a0").replace(".", ",")
        return text

    def count(self, value: int) -> Count:
        """`value` for a message: written as `number` writes it, choosing plural forms."""
        return Count(value, self.number(value))

    def sek(self, value: int | None) -> str:
        """An amount in kronor, or the catalogue's "unknown"."""
        return self("common.unknown") if value is None else f"{self.number(value)} kr"

    def percent(self, share: float) -> str:
        """A share 0..1 as a percentage with at most one decimal."""
        value = round(share * 100, 1)
        return f"{self.number(value, 0 if value == int(value) else 1)}\u00a0%"

    def date(self, moment: datetime | None) -> str:
        """A date in Swedish time, ISO order (both languages read it)."""
        if moment is None:
            return "–"
        return moment.astimezone(SWEDEN).strftime("%Y-%m-%d")

    def datetime(self, moment: datetime | None) -> str:
        """Date and time in Swedish time."""
        if moment is None:
            return "–"
        return moment.astimezone(SWEDEN).strftime("%Y-%m-%d %H:%M")

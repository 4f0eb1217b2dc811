"""Every UI string, one TOML catalogue per language: Swedish by default, English on request."""

from __future__ import annotations

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
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        """True if the catalogue holds `key`."""
        return key in self.strings

    def number(self, value: float, decimals: int = 0) -> str:
        """A number with the language's digit grouping (Swedish: thin space, decimal comma)."""
        text = f"{value:,.{decimals}f}"
        if self.language == "sv":
            return text.replace(",", "\u00a0").replace(".", ",")
        return text

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

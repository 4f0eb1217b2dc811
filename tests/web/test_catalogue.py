"""Every UI string exists in both languages, and every key a template uses is in them."""

from __future__ import annotations

import re
from importlib.resources import files

from asfmatch.web.i18n import catalogue

# t('key') and t('key', …) in templates; keys built with ~ are checked by their prefix.
_KEY = re.compile(r"""\bt\(\s*'([a-z_.]+)'""")


def test_swedish_and_english_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("sv")) == set(catalogue("en"))


def test_every_key_the_templates_use_is_in_the_catalogue() -> None:
    folder = files("asfmatch.web").joinpath("templates")
    used: set[str] = set()
    for entry in [*folder.iterdir(), *folder.joinpath("partials").iterdir()]:
        if entry.name.endswith(".html"):
            used.update(_KEY.findall(entry.read_text(encoding="utf-8")))
    keys = set(catalogue("sv"))
    missing = sorted(key for key in used if key not in keys and not key.endswith("."))
    assert not missing

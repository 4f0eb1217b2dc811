"""Catalogue messages choose singular or plural words by a count (`{n:one|other}`, or
`{n:zero|one|other}`), in Swedish and English, and the advice reasons use it: 0, 1 and 2."""

from __future__ import annotations

import pytest

from asfmatch.matching.advice import Reason
from asfmatch.web.i18n import Translator, catalogue, plural_form
from asfmatch.web.potential_panel import reason_text


def test_one_is_singular_and_zero_and_two_are_plural_unless_a_zero_form_is_given() -> None:
    assert [plural_form(n, ["ASF", "ASFs"]) for n in (0, 1, 2, 21)] == [
        "ASFs",
        "ASF",
        "ASFs",
        "ASFs",
    ]
    assert [plural_form(n, ["none", "one", "many"]) for n in (0, 1, 2)] == ["none", "one", "many"]


def test_a_count_shows_as_the_language_writes_numbers_and_picks_its_form() -> None:
    english, swedish = Translator("en"), Translator("sv")
    assert english.count(1200).__format__("") == "1,200"
    assert swedish.count(1200).__format__("") == "1\u00a0200"
    # The message formatter: the number where it stands bare, a form where a spec asks.
    # A copy per translator: the catalogue itself is shared by every page.
    english.strings = {**english.strings, "test.count": "{n} {n:ASF|ASFs}"}
    swedish.strings = {**swedish.strings, "test.nested": "{n:ingen|bara {n}|bara {n} st}"}
    for n, shown in [(1, "1 ASF"), (2, "2 ASFs"), (0, "0 ASFs")]:
        assert english("test.count", n=english.count(n)) == shown
    assert [swedish("test.nested", n=swedish.count(n)) for n in (0, 1, 1000)] == [
        "ingen",
        "bara 1",
        "bara 1\u00a0000 st",
    ]
    # Plain ints (templates pass them) choose forms too; a text never breaks the page.
    assert english("test.count", n=1) == "1 ASF"
    assert english("test.count", n="some") == "some ASFs"


CASES = {
    # code, params for 0 / 1 / 2 → (English, Swedish) at 0, 1, 2
    "none_relevant": (
        "serving",
        {},
        [
            (
                "0 active ASFs serve the place, but none of them",
                "0 aktiva ASF verkar på orten, men ingen",
            ),
            (
                "1 active ASF serves the place, but it does not",
                "1 aktiv ASF verkar på orten, men den",
            ),
            (
                "2 active ASFs serve the place, but none of them",
                "2 aktiva ASF verkar på orten, men ingen",
            ),
        ],
    ),
    "too_few_for_whole": (
        "carriers",
        {"min": 3, "places": 1, "value_sek": 500_000},
        [
            (
                "No relevant ASF meeting the 30 % rule can carry 500,000 kr and 1 training place;",
                "Ingen relevant ASF som uppfyller 30 %-regeln kan ta 500\u00a0000 kr och 1 "
                "arbetsträningsplats;",
            ),
            (
                "Only 1 relevant ASF meeting the 30 % rule can carry",
                "Bara 1 relevant ASF som uppfyller 30 %-regeln kan ta",
            ),
            (
                "Only 2 relevant ASFs meeting the 30 % rule can each carry",
                "Bara 2 relevanta ASF som uppfyller 30 %-regeln kan var för sig ta",
            ),
        ],
    ),
    "carry_whole": (
        "carriers",
        {"min": 1, "places": 2},
        [
            (
                "0 relevant ASFs meeting the 30 % rule can each carry 2 training places",
                "0 relevanta ASF",
            ),
            (
                "1 relevant ASF meeting the 30 % rule can carry 2 training places",
                "1 relevant ASF som uppfyller 30 %-regeln kan ta 2 arbetsträningsplatser",
            ),
            (
                "2 relevant ASFs meeting the 30 % rule can each carry",
                "2 relevanta ASF som uppfyller 30 %-regeln kan var för sig ta",
            ),
        ],
    ),
    "employment_on_open_lots": (
        "open_lots",
        {},
        [
            ("The 0 lots left open", "De 0 delkontrakt som lämnas öppna"),
            ("The lot left open can carry", "Det delkontrakt som lämnas öppet kan ha"),
            ("The 2 lots left open can carry", "De 2 delkontrakt som lämnas öppna kan ha"),
        ],
    ),
    "reserved_few_bidders": (
        "carriers",
        {},
        [
            ("but no ASF meeting the 30 % rule can carry", "men ingen ASF som uppfyller"),
            ("but only 1 ASF meeting the 30 % rule can carry", "men bara 1 ASF som uppfyller"),
            ("but only 2 ASFs meeting the 30 % rule can carry", "men bara 2 ASF som uppfyller"),
        ],
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_advice_reasons_agree_with_their_counts_in_both_languages(code: str) -> None:
    counted, fixed, expected = CASES[code]
    for n, (english, swedish) in zip((0, 1, 2), expected, strict=True):
        reason = Reason(code=code, params={counted: n, **fixed})
        assert english in reason_text(reason, Translator("en")), (code, n)
        assert swedish in reason_text(reason, Translator("sv")), (code, n)


def test_every_plural_spec_in_the_catalogues_has_two_or_three_forms() -> None:
    for language in ("sv", "en"):
        for key, text in catalogue(language).items():
            for spec in _specs(text):
                assert 2 <= len(spec.split("|")) <= 3, (language, key, spec)


def _specs(text: str) -> list[str]:
    """The format specs of the message's top-level fields (`{name:spec}`)."""
    specs, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = position
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                field = text[start + 1 : position]
                if ":" in field:
                    specs.append(field.split(":", 1)[1])
    return specs

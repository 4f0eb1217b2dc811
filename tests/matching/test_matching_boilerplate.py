"""Procurement boilerplate in a notice's text does not pull unrelated suppliers up."""

from __future__ import annotations

import random

from asfmatch.matching.boilerplate import _MARKERS, has_marker_words, strip_boilerplate
from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.ranking import MatchIndex

RESERVATION = (
    "Upphandlingen är reserverad enligt 4 kap. 18 § LOU för leverantörer vars huvudsakliga syfte "
    "är social och yrkesmässig integration av personer med funktionsnedsättning."
)
PROCEDURE = "Upphandlingen genomförs som ett förenklat förfarande. Anbud ska lämnas elektroniskt."


def test_procedure_and_reservation_sentences_are_dropped_and_the_subject_kept() -> None:
    text = f"{PROCEDURE} {RESERVATION} Lokalvård av fyra förskolor i Luleå."
    assert strip_boilerplate(text) == "Lokalvård av fyra förskolor i Luleå."


def test_text_without_boilerplate_is_returned_as_it_is() -> None:
    text = "Städning av skolor.\nFönsterputs två gånger per år.  Trappstädning ingår."
    assert strip_boilerplate(text) is text


def test_text_that_is_only_boilerplate_is_kept_whole() -> None:
    assert strip_boilerplate(RESERVATION) == RESERVATION


def test_a_work_training_coop_does_not_match_a_cleaning_notice_on_its_reservation_words() -> None:
    cleaning = SupplierProfile(
        id=1, name="Städ", description="Städning och lokalvård av kontor", service_area=("25",)
    )
    training = SupplierProfile(
        id=2,
        name="Steget",
        description="Arbetsträning för personer med funktionsnedsättning, social integration",
        service_area=("25",),
    )
    need = Need(
        id=1,
        title="Lokalvård",
        description=f"{PROCEDURE} {RESERVATION} Lokalvård av förskolor.",
        kommun="2580",
    )
    ranked = MatchIndex.build([cleaning, training], [need], {}).rank_suppliers(need)
    assert [item.supplier_id for item in ranked] == [1]


def test_the_quick_check_never_passes_over_a_text_the_markers_match() -> None:
    rng = random.Random(7)
    # Latin-1 letters in both cases, the markers' own characters, white space and punctuation.
    alphabet = "abcdeflnoprstuvkåäöéüABCDEFLNOPRSTUVKÅÄÖÉÜß §:.!? 0124568\n"
    markers = [
        *RESERVATION.split(". "),
        "4 KAP 18§",
        "enligt lou.",
        "2016:1145",
        "ÖPPET förfarande",
    ]
    for _ in range(3000):
        parts = [rng.choice(alphabet) for _ in range(rng.randint(0, 30))]
        if rng.random() < 0.5:
            marker = rng.choice(markers)
            parts.insert(
                rng.randint(0, len(parts)),
                "".join(c.upper() if rng.random() < 0.5 else c for c in marker),
            )
        text = "".join(parts)
        if _MARKERS.search(text):
            assert has_marker_words(text), text


def test_text_outside_latin_1_always_gets_the_full_check() -> None:
    # "ſ" (long s) and "ı" (dotless i) match "s" and "i" case-blind, but lower to themselves.
    text = "Avtalſtid är två år."
    assert has_marker_words(text)
    assert strip_boilerplate(f"{text} Städning av skolor.") == "Städning av skolor."

"""Procurement boilerplate in a notice's text does not pull unrelated suppliers up."""

from __future__ import annotations

from asfmatch.matching.boilerplate import strip_boilerplate
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

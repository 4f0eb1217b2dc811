"""MatchIndex: relevance on hand-made cases, filters in ranking, explanations, increments."""

from __future__ import annotations

import random
from functools import cache

import numpy as np
import pytest

from asfmatch.matching.cpv import cpv_score
from asfmatch.matching.filters import is_eligible
from asfmatch.matching.model import Need, SupplierProfile
from asfmatch.matching.ranking import (
    CPV_WEIGHT,
    MIN_CPV_EVIDENCE,
    MIN_TEXT_EVIDENCE,
    SCORE_DECIMALS,
    TEXT_WEIGHT,
    MatchIndex,
    _rounded,
    _supplier_documents,
    need_document,
    supplier_document,
)
from asfmatch.reference.cpv import cpv_labels_sv


@cache
def labels() -> dict[str, str]:
    return cpv_labels_sv()


def supplier(id: int, description: str, **changes: object) -> SupplierProfile:
    fields: dict[str, object] = {
        "id": id,
        "name": f"Kooperativ {id}",
        "description": description,
        "service_area": ("0180",),
        "target_group_share": 0.5,
    }
    fields.update(changes)
    return SupplierProfile(**fields)  # type: ignore[arg-type]


def need(id: int, title: str, description: str = "", **changes: object) -> Need:
    fields: dict[str, object] = {
        "id": id,
        "title": title,
        "description": description,
        "kommun": "0180",
    }
    fields.update(changes)
    return Need(**fields)  # type: ignore[arg-type]


SUPPLIERS = [
    supplier(1, "Vi utför städning av kontor och trapphus samt fönsterputs."),
    supplier(2, "Catering, luncher och fika till möten och konferenser."),
    supplier(3, "Vi lagar måltider till äldreboenden och förskolor."),
    supplier(4, "IT-support, helpdesk och reparation av datorer."),
    supplier(5, "Stöd till personer med funktionsnedsättning, daglig verksamhet."),
    supplier(6, "Trädgårdsskötsel, gräsklippning och snöröjning."),
]
NEEDS = [
    need(100, "Lokalvård förskolor", "Daglig lokalvård av tre förskolor."),
    need(101, "Skolmåltider", "Leverans av skolmåltider till två skolor."),
    need(102, "Vinterväghållning", "Snöröjning av gångvägar."),
]


@cache
def index() -> MatchIndex:
    return MatchIndex.build(SUPPLIERS, NEEDS, labels())


def ids(ranked: list) -> list[int]:  # type: ignore[type-arg]
    return [getattr(r, "supplier_id", None) or r.need_id for r in ranked]


def test_lokalvard_need_ranks_cleaning_supplier_above_catering() -> None:
    ranked = ids(index().rank_suppliers(NEEDS[0]))
    assert ranked[0] == 1
    assert 2 not in ranked or ranked.index(1) < ranked.index(2)


def test_lokalvard_need_meets_stadning_supplier_only_through_synonyms() -> None:
    lokalvard = need(200, "Lokalvård")
    stadning = supplier(7, "Städning")
    with_synonyms = MatchIndex.build([stadning], [], {}, use_synonyms=True)
    without = MatchIndex.build([stadning], [], {}, use_synonyms=False)
    assert ids(with_synonyms.rank_suppliers(lokalvard)) == [7]
    assert without.rank_suppliers(lokalvard) == []


def test_school_meals_need_finds_meals_supplier_through_compound() -> None:
    ranked = index().rank_suppliers(need(201, "Skolmåltider"))
    assert ranked[0].supplier_id == 3
    assert "skolmåltider" in [t.term for t in ranked[0].explanation.terms]


def test_school_catering_code_is_close_to_catering_supplier_code() -> None:
    catering = supplier(10, "Kök", cpv_codes=("55520000-1",))
    cleaning = supplier(11, "Kök", cpv_codes=("90910000",))
    school = need(300, "Upphandling", cpv_codes=("55524000",))
    built = MatchIndex.build([catering, cleaning], [school], labels())
    ranked = built.rank_suppliers(school)
    assert ranked[0].supplier_id == 10
    [link] = ranked[0].explanation.cpv
    assert (link.need_code, link.supplier_code, link.relation, link.weight) == (
        "55524000",
        "55520000",
        "broader",
        0.8,
    )


def test_it_support_need_does_not_match_support_for_people() -> None:
    it_need = need(202, "IT-support", "Support för skolans datorer.")
    ranked = ids(index().rank_suppliers(it_need))
    assert ranked[0] == 4
    assert 5 not in ranked


def test_pair_without_text_or_code_overlap_is_left_out() -> None:
    ranked = ids(index().rank_suppliers(need(203, "Vinterväghållning")))
    assert ranked == [6]


def test_shared_cpv_division_alone_is_not_a_match() -> None:
    interpreting = need(310, "Tolktjänster", cpv_codes=("79540000",))
    printing = supplier(12, "Offsettryck", cpv_codes=("79810000",))
    built = MatchIndex.build([printing], [interpreting], {})
    assert built.rank_suppliers(interpreting) == []


def test_cpv_group_without_shared_words_is_a_match() -> None:
    school_catering = need(311, "Upphandling", cpv_codes=("55524000",))
    canteen = supplier(13, "Personalrestaurang", cpv_codes=("55510000",))
    built = MatchIndex.build([canteen], [school_catering], {})
    [ranked] = built.rank_suppliers(school_catering)
    assert ranked.explanation.text_score == 0
    assert ranked.explanation.cpv[0].relation == "same_group"
    assert ranked.score == pytest.approx(CPV_WEIGHT * 0.3)


def test_need_with_no_eligible_supplier_ranks_nothing() -> None:
    far_away = need(204, "Lokalvård", kommun="2580")
    assert index().rank_suppliers(far_away) == []


def test_closed_need_ranks_nothing() -> None:
    assert index().rank_suppliers(need(205, "Lokalvård", status="closed")) == []


def test_inactive_supplier_never_appears_in_either_direction() -> None:
    active = supplier(20, "Städning av kontor")
    inactive = supplier(21, "Städning av kontor", active=False)
    cleaning = need(400, "Städning av kontor")
    built = MatchIndex.build([active, inactive], [cleaning], {})
    assert ids(built.rank_suppliers(cleaning)) == [20]
    assert built.rank_needs(inactive) == []


def test_region_filter_in_ranking_follows_the_service_area() -> None:
    cleaning = "Städning av kontor"
    suppliers = [
        supplier(30, cleaning, service_area=("0180",)),
        supplier(31, cleaning, service_area=("0181",)),
        supplier(32, cleaning, service_area=("01",)),
        supplier(33, cleaning, service_area=("SE",)),
        supplier(34, cleaning, service_area=("03", "0180")),
        supplier(35, cleaning, service_area=("25",)),
    ]
    built = MatchIndex.build(suppliers, [], {})
    assert sorted(ids(built.rank_suppliers(need(401, cleaning, kommun="0180")))) == [
        30,
        32,
        33,
        34,
    ]
    assert sorted(ids(built.rank_suppliers(need(402, cleaning, kommun="2580")))) == [33, 35]


def test_reserved_need_ranks_share_of_thirty_percent_but_not_twenty_nine() -> None:
    cleaning = "Städning av kontor"
    suppliers = [
        supplier(40, cleaning, target_group_share=0.3),
        supplier(41, cleaning, target_group_share=0.29),
        supplier(42, cleaning, target_group_share=0.7 - 0.4),
    ]
    built = MatchIndex.build(suppliers, [], {})
    assert sorted(ids(built.rank_suppliers(need(403, cleaning, reserved=True)))) == [40, 42]
    assert sorted(ids(built.rank_suppliers(need(404, cleaning)))) == [40, 41, 42]


def test_capacity_and_training_places_filter_ranking_at_their_boundaries() -> None:
    text = "Arbetsträning och städning"
    suppliers = [
        supplier(50, text, max_contract_value_sek=500_000, training_places=4),
        supplier(51, text, max_contract_value_sek=499_999, training_places=4),
        supplier(52, text, max_contract_value_sek=None, training_places=3),
    ]
    built = MatchIndex.build(suppliers, [], {})
    valued = need(405, text, estimated_value_sek=500_000)
    assert sorted(ids(built.rank_suppliers(valued))) == [50, 52]
    places = need(406, text, training_places=4)
    assert sorted(ids(built.rank_suppliers(places))) == [50, 51]


def test_rank_needs_returns_only_open_needs_the_supplier_may_take() -> None:
    cleaning = "Städning av kontor"
    needs = [
        need(60, cleaning, kommun="0180"),
        need(61, cleaning, kommun="0181"),
        need(62, cleaning, kommun="0180", status="closed"),
        need(63, cleaning, kommun="0180", reserved=True),
        need(64, cleaning, kommun="0180", estimated_value_sek=2_000_000),
        need(65, cleaning, kommun="0180", training_places=9),
        need(66, "Gräsklippning", kommun="0180"),
        need(67, cleaning, kommun="0114"),
    ]
    built = MatchIndex.build([], needs, {})
    firm = supplier(
        68,
        cleaning,
        service_area=("0180", "0114"),
        target_group_share=0.1,
        max_contract_value_sek=1_000_000,
        training_places=2,
    )
    assert sorted(ids(built.rank_needs(firm))) == [60, 67]
    county = supplier(69, cleaning, service_area=("01",), target_group_share=0.9)
    assert sorted(ids(built.rank_needs(county))) == [60, 61, 63, 64, 67]


def test_explanation_shows_terms_cpv_links_and_passed_filters() -> None:
    cleaning_need = need(
        500, "Lokalvård förskolor", "Lokalvård av förskolor.", cpv_codes=("90919300",)
    )
    cleaner = supplier(
        501, "Städning av förskolor och kontor.", cpv_codes=("90910000",), service_area=("01",)
    )
    built = MatchIndex.build([cleaner], [cleaning_need], labels())
    [ranked] = built.rank_suppliers(cleaning_need)
    explanation = ranked.explanation
    assert ranked.rank == 1
    assert 0 < explanation.text_score <= 1 and explanation.cpv_score == 0.8
    terms = [t.term for t in explanation.terms]
    assert {"förskolor", "lokalvård"} <= set(terms)
    assert not [t for t in terms if t.startswith(("#", "="))]
    weights = [t.weight for t in explanation.terms]
    assert weights == sorted(weights, reverse=True) and len(terms) <= 5
    [link] = explanation.cpv
    assert (link.supplier_code, link.relation) == ("90910000", "broader")
    region = next(f for f in explanation.filters if f.name == "region")
    assert region.reason == "supplier serves län 01 which contains kommun 0180"
    assert all(f.passed for f in explanation.filters)
    assert ranked.score == pytest.approx(
        TEXT_WEIGHT * explanation.text_score + CPV_WEIGHT * explanation.cpv_score, abs=2e-6
    )


def test_rank_needs_explains_with_the_suppliers_words() -> None:
    [ranked] = index().rank_needs(SUPPLIERS[0], limit=1)
    assert ranked.need_id == 100
    assert "städning" in [t.term for t in ranked.explanation.terms]


def test_pair_scores_the_same_in_both_directions() -> None:
    built = index()
    for n in NEEDS:
        for r in built.rank_suppliers(n, limit=50):
            s = next(x for x in SUPPLIERS if x.id == r.supplier_id)
            back = {x.need_id: x.score for x in built.rank_needs(s, limit=50)}
            assert back[n.id] == r.score


def test_limit_and_min_score_cut_the_list() -> None:
    everything = index().rank_suppliers(NEEDS[0], limit=100)
    assert len(everything) >= 2
    assert index().rank_suppliers(NEEDS[0], limit=1) == everything[:1]
    floor = everything[1].score
    assert all(r.score >= floor for r in index().rank_suppliers(NEEDS[0], min_score=floor))
    assert index().rank_suppliers(NEEDS[0], limit=0) == []


def test_ties_are_broken_by_lowest_id_whatever_the_input_order() -> None:
    twins = [supplier(i, "Städning av kontor") for i in (9, 3, 7)]
    built = MatchIndex.build(twins, [], {})
    ranked = built.rank_suppliers(need(600, "Städning"), limit=2)
    assert ids(ranked) == [3, 7]
    assert ranked[0].score == ranked[1].score


def test_build_is_deterministic_and_version_changes_with_the_corpus() -> None:
    first = MatchIndex.build(SUPPLIERS, NEEDS, labels())
    shuffled = MatchIndex.build(list(reversed(SUPPLIERS)), list(reversed(NEEDS)), labels())
    assert first.version == shuffled.version
    assert first.version.startswith("tfidf-9-")
    for n in NEEDS:
        assert first.rank_suppliers(n) == shuffled.rank_suppliers(n)
    grown = MatchIndex.build([*SUPPLIERS, supplier(99, "Flyttjänster")], NEEDS, labels())
    assert grown.version != first.version
    assert first.refit().version == first.version


def test_upserted_supplier_is_ranked_without_refit() -> None:
    built = MatchIndex.build(SUPPLIERS, NEEDS, labels())
    version = built.version
    built.upsert_supplier(supplier(70, "Lokalvård och städning av förskolor."))
    assert 70 in ids(built.rank_suppliers(NEEDS[0]))
    assert built.version == version
    assert built.supplier_count == len(SUPPLIERS) + 1


def test_upsert_replaces_the_old_version_of_a_supplier() -> None:
    built = MatchIndex.build(SUPPLIERS, NEEDS, labels())
    moved = supplier(1, SUPPLIERS[0].description, service_area=("2580",))
    built.upsert_supplier(moved)
    assert 1 not in ids(built.rank_suppliers(NEEDS[0]))
    built.upsert_supplier(SUPPLIERS[0])
    assert ids(built.rank_suppliers(NEEDS[0])).count(1) == 1
    built.upsert_supplier(supplier(1, SUPPLIERS[0].description, active=False))
    assert 1 not in ids(built.rank_suppliers(NEEDS[0]))


def test_unchanged_upsert_keeps_the_same_score() -> None:
    built = MatchIndex.build(SUPPLIERS, NEEDS, labels())
    before = built.rank_suppliers(NEEDS[0])
    for s in SUPPLIERS:
        built.upsert_supplier(s)
    assert built.rank_suppliers(NEEDS[0]) == before


def test_removed_supplier_and_need_disappear() -> None:
    built = MatchIndex.build(SUPPLIERS, NEEDS, labels())
    built.remove_supplier(1)
    built.remove_supplier(12345)
    assert 1 not in ids(built.rank_suppliers(NEEDS[0]))
    assert built.supplier_count == len(SUPPLIERS) - 1
    built.remove_need(100)
    assert 100 not in ids(built.rank_needs(SUPPLIERS[0]))
    assert built.need_count == len(NEEDS) - 1


def test_upserted_and_closed_needs_follow_in_rank_needs() -> None:
    built = MatchIndex.build(SUPPLIERS, NEEDS, labels())
    fresh = need(700, "Fönsterputs av kontor")
    built.upsert_need(fresh)
    assert 700 in ids(built.rank_needs(SUPPLIERS[0]))
    built.upsert_need(need(700, "Fönsterputs av kontor", status="closed"))
    assert 700 not in ids(built.rank_needs(SUPPLIERS[0]))


def test_needs_refit_after_a_fifth_of_the_corpus_changed() -> None:
    suppliers = [supplier(i, f"Städning {i}") for i in range(300)]
    built = MatchIndex.build(suppliers, [], {})
    assert not built.needs_refit()
    for s in suppliers[:60]:
        built.upsert_supplier(s)
    assert not built.needs_refit()
    built.remove_supplier(299)
    assert built.needs_refit()


def test_small_corpus_refits_only_after_fifty_changes() -> None:
    built = MatchIndex.build(SUPPLIERS, NEEDS, labels())
    for _ in range(50):
        built.upsert_supplier(SUPPLIERS[0])
    assert not built.needs_refit()
    built.upsert_supplier(SUPPLIERS[0])
    assert built.needs_refit()


WORDS = [
    "städning",
    "lokalvård",
    "fönsterputs",
    "catering",
    "måltider",
    "skolmåltider",
    "fika",
    "snöröjning",
    "trädgårdsskötsel",
    "tvätteri",
    "flyttjänster",
    "it-support",
    "arbetsträning",
    "praktik",
    "kontor",
    "skolor",
    "förskolor",
    "äldreboenden",
    "vaktmästeri",
    "fastighetsskötsel",
]
CODES = ("90910000", "90919300", "55520000", "55524000", "90620000", "77311000", "98310000", "")
KOMMUNER = ("0180", "0181", "0114", "2580", "2584")
AREAS = (("0180",), ("0181", "0114"), ("01",), ("SE",), ("25",), ("2580",), ("0180", "25"))


def random_corpus(seed: int) -> tuple[list[SupplierProfile], list[Need]]:
    rng = random.Random(seed)

    def text() -> str:
        return " ".join(rng.sample(WORDS, rng.randint(1, 4)))

    def codes() -> tuple[str, ...]:
        return tuple(c for c in rng.sample(CODES, rng.randint(0, 2)) if c)

    suppliers = [
        supplier(
            i,
            text(),
            cpv_codes=codes(),
            service_area=rng.choice(AREAS),
            target_group_share=rng.choice((0.1, 0.29, 0.3, 0.5)),
            max_contract_value_sek=rng.choice((None, 100_000, 500_000)),
            training_places=rng.choice((0, 2, 5)),
            active=rng.random() < 0.9,
        )
        for i in range(60)
    ]
    needs = [
        need(
            1000 + i,
            text(),
            text(),
            cpv_codes=codes(),
            kommun=rng.choice(KOMMUNER),
            estimated_value_sek=rng.choice((None, 100_000, 500_000)),
            reserved=rng.random() < 0.3,
            training_places=rng.choice((0, 0, 2, 5)),
            status="open" if rng.random() < 0.9 else "closed",
        )
        for i in range(30)
    ]
    return suppliers, needs


def reference_score(built: MatchIndex, n: Need, s: SupplierProfile) -> float:
    """The score by definition, from pure functions and fresh vectors (0: no evidence)."""
    model = built._model
    text = model.vectorize(need_document(n, labels())).dot(
        model.vectorize(supplier_document(s, labels()))
    )
    need_codes = tuple(c.split("-")[0] for c in n.cpv_codes)
    cpv = cpv_score(need_codes, tuple(c.split("-")[0] for c in s.cpv_codes))
    if text < MIN_TEXT_EVIDENCE and cpv < MIN_CPV_EVIDENCE:
        return 0.0
    weight = TEXT_WEIGHT if need_codes else 1.0
    return round(weight * text + (1 - weight) * cpv, SCORE_DECIMALS)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_index_agrees_with_pure_filters_and_scores_after_increments(seed: int) -> None:
    suppliers, needs = random_corpus(seed)
    built = MatchIndex.build(suppliers[:40], needs[:20], labels())
    rng = random.Random(seed)
    # Increments arrive one by one between queries, so several delta segments get merged.
    for s in suppliers[40:]:
        built.upsert_supplier(s)
        built.rank_suppliers(needs[0])
    for n in needs[20:]:
        built.upsert_need(n)
        built.rank_needs(suppliers[0])
    removed = {s.id for s in rng.sample(suppliers, 5)}
    for supplier_id in removed:
        built.remove_supplier(supplier_id)
    kept = [s for s in suppliers if s.id not in removed]
    for n in needs:
        expected = {s.id: reference_score(built, n, s) for s in kept if is_eligible(n, s)}
        expected = {k: v for k, v in expected.items() if v > 0}
        ranked = built.rank_suppliers(n, limit=1000)
        assert {r.supplier_id: r.score for r in ranked} == pytest.approx(expected, abs=2e-6)
        assert [(-r.score, r.supplier_id) for r in ranked] == sorted(
            (-r.score, r.supplier_id) for r in ranked
        )
    for s in kept:
        expected = {n.id: reference_score(built, n, s) for n in needs if is_eligible(n, s)}
        expected = {k: v for k, v in expected.items() if v > 0}
        ranked_needs = built.rank_needs(s, limit=1000)
        assert {r.need_id: r.score for r in ranked_needs} == pytest.approx(expected, abs=2e-6)


def test_empty_index_ranks_nothing_and_takes_upserts() -> None:
    built = MatchIndex.build([], [], labels())
    assert built.rank_suppliers(NEEDS[0]) == []
    assert built.rank_needs(SUPPLIERS[0]) == []
    built.upsert_supplier(supplier(1, "Städning", cpv_codes=("90910000",)))
    ranked = built.rank_suppliers(need(800, "Städning", cpv_codes=("90910000",)))
    assert [r.supplier_id for r in ranked] == [1]
    assert ranked[0].explanation.cpv[0].relation == "exact"
    assert built.needs_refit() is False


def test_rankings_are_the_same_with_four_byte_local_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # Segments of more than 65,536 documents keep their postings' rows in int32, the others in
    # uint16; a small threshold sends every segment of this corpus down the int32 path.
    suppliers, needs = random_corpus(4)
    short = MatchIndex.build(suppliers, needs, labels())
    monkeypatch.setattr("asfmatch.matching.postings._SHORT_ROWS", 1)
    wide = MatchIndex.build(suppliers, needs, labels())
    assert any(seg.rows.dtype.itemsize == 4 for seg in wide._suppliers.main.values())
    assert all(seg.rows.dtype.itemsize == 2 for seg in short._suppliers.main.values())
    for n in needs:
        assert wide.rank_suppliers(n, limit=100) == short.rank_suppliers(n, limit=100)
    for s in suppliers:
        assert wide.rank_needs(s, limit=100) == short.rank_needs(s, limit=100)


def test_supplier_of_several_kommuner_is_indexed_once_and_found_only_from_them() -> None:
    several = supplier(1, "Städning av kontor", service_area=("0180", "0114", "0181"))
    whole_lan = supplier(2, "Städning av kontor", service_area=("01",))
    other = supplier(3, "Städning av kontor", service_area=("0182", "0183"))
    built = MatchIndex.build([several, whole_lan, other], [], labels())
    # One copy of each supplier's postings: the län's shared segment holds all three.
    assert sum(seg.size for seg in built._suppliers.main.values()) == 3
    for kommun in ("0180", "0114", "0181"):
        ranked = built.rank_suppliers(need(900, "Städning kontor", kommun=kommun))
        assert [r.supplier_id for r in ranked] == [1, 2]
    assert [r.supplier_id for r in built.rank_suppliers(need(901, "Städning", kommun="0182"))] == [
        2,
        3,
    ]
    assert [r.supplier_id for r in built.rank_suppliers(need(902, "Städning", kommun="0186"))] == [
        2
    ]
    whole = need(903, "Städning", kommun="0100", whole_lan=True)
    assert sorted(r.supplier_id for r in built.rank_suppliers(whole)) == [1, 2, 3]


def test_build_indexes_each_supplier_with_its_own_document() -> None:
    # The build joins each distinct code list's labels once; every supplier still gets its
    # own supplier_document().
    suppliers = [
        supplier(1, "Städning", cpv_codes=("90910000", "77310000-6")),
        supplier(2, "Catering", cpv_codes=("90910000", "77310000-6")),
        supplier(3, "Tvätt", cpv_codes=("77310000", "90910000")),
        supplier(4, "Flytt"),
        supplier(5, "Skräp", cpv_codes=("nonsens", "90910000")),
    ]
    assert _supplier_documents(suppliers, labels()) == [
        supplier_document(s, labels()) for s in suppliers
    ]


def test_score_parts_are_rounded_as_pythons_round_including_near_half_way() -> None:
    rng = np.random.default_rng(31)
    # Random parts, and values at and around half a millionth, where scaling by 10**6 can
    # land on either side of the half-way point.
    halves = (np.arange(20_000) + 0.5) / 1e6
    values = np.concatenate([rng.random(20_000), halves, np.nextafter(halves, 0), halves * 1.3])
    assert _rounded(values) == [round(value, SCORE_DECIMALS) for value in values.tolist()]

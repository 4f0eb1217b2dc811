"""CPV hierarchy similarity between a need's codes and a supplier's codes."""

from __future__ import annotations

import random

import pytest

from asfmatch.matching.cpv import (
    best_links,
    cpv_score,
    normalise_code,
    normalise_codes,
    prefix_chain,
    relation_of,
    significant,
)
from asfmatch.matching.postings import CodeTable
from asfmatch.reference.cpv import cpv_catalog


def test_codes_are_accepted_with_or_without_check_digit() -> None:
    assert normalise_code("55520000-1") == "55520000"
    assert normalise_code(" 55520000 ") == "55520000"
    assert normalise_code("5552") is None
    assert normalise_codes(["55520000-1", "55520000", "junk", "90910000"]) == (
        "55520000",
        "90910000",
    )


def test_significant_prefix_drops_trailing_zeros_but_keeps_the_division() -> None:
    assert significant("55520000") == "5552"
    assert significant("55524000") == "55524"
    assert significant("50000000") == "50"
    assert prefix_chain("55524000") == ["55", "555", "5552", "55524"]


@pytest.mark.parametrize(
    ("need_code", "supplier_code", "relation", "weight"),
    [
        ("55520000", "55520000", "exact", 1.0),
        ("55524000", "55520000", "broader", 0.8),
        ("55520000", "55524000", "narrower", 0.8),
        ("90911200", "90919200", "same_class", 0.5),
        ("55524000", "55521000", "same_class", 0.5),
        ("55520000", "55510000", "same_group", 0.3),
        ("55520000", "55100000", "same_division", 0.1),
        ("90911200", "90000000", "broader", 0.35),
        ("55520000", "90910000", "none", 0.0),
    ],
)
def test_relation_of_two_codes(
    need_code: str, supplier_code: str, relation: str, weight: float
) -> None:
    assert relation_of(need_code, supplier_code) == (relation, weight)


def test_school_catering_need_is_close_to_catering_supplier() -> None:
    [link] = best_links(["55524000"], ["90910000", "55520000"])
    assert (link.supplier_code, link.relation, link.weight) == ("55520000", "broader", 0.8)


def test_cpv_score_averages_the_best_link_of_each_need_code() -> None:
    assert cpv_score(["55520000", "90910000"], ["55520000"]) == pytest.approx(0.5)
    assert cpv_score([], ["55520000"]) == 0.0
    assert cpv_score(["55520000"], []) == 0.0


def test_vectorised_code_similarity_equals_relation_of_on_real_codes() -> None:
    codes = sorted(cpv_catalog())
    sample = [*random.Random(5).sample(codes, 250), "55520000", "55524000", "50000000"]
    table = CodeTable()
    for code in sample:
        table.id_of(code)
    for query in sample[::5]:
        similarity = table.similarity(query)
        expected = [relation_of(query, code)[1] for code in sample]
        assert similarity.tolist() == expected

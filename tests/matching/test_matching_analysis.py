"""The Swedish analyser: normalisation, tokens, stop words, stems, n-grams and synonyms."""

from __future__ import annotations

import unicodedata

import pytest

from asfmatch.matching import analysis
from asfmatch.matching.analysis import (
    SwedishAnalyser,
    char_grams,
    document_pieces,
    normalise,
    split_normalised,
    split_words,
    stem,
    tokenize,
)
from asfmatch.matching.stopwords import STOP_WORDS


def test_normalise_composes_and_casefolds_swedish_letters() -> None:
    decomposed = unicodedata.normalize("NFD", "ÅTERBRUK Städ")
    assert normalise(decomposed) == "återbruk städ"


def test_tokenize_keeps_swedish_letters_and_drops_digits_and_stop_words() -> None:
    assert tokenize("Vi erbjuder städning och fönsterputs 2024 för 3 skolor i Örebro") == [
        "städning",
        "fönsterputs",
        "skolor",
        "örebro",
    ]


def test_hyphenated_word_yields_joined_form_and_parts() -> None:
    assert tokenize("IT-support") == ["itsupport", "it", "support"]


def test_trailing_hyphen_of_elided_compound_is_dropped() -> None:
    assert tokenize("barn- och ungdomsverksamhet") == ["barn", "ungdomsverksamhet"]


def test_soft_hyphen_does_not_split_a_word() -> None:
    assert tokenize("lokal\u00advård") == ["lokalvård"]


def test_stop_word_list_is_a_proper_swedish_list() -> None:
    assert 100 <= len(STOP_WORDS) <= 300
    assert {"och", "att", "för", "som", "med", "vi", "även", "samt"} <= STOP_WORDS
    assert "städning" not in STOP_WORDS


def test_stemming_joins_inflections() -> None:
    assert stem("lokalvården") == stem("lokalvård")
    assert stem("måltider") == stem("måltid")


def test_char_grams_have_boundary_marks_and_compounds_share_their_head() -> None:
    grams = set(char_grams(stem("måltider")))
    assert "#<målt" in grams and "#ltid>" in grams
    compound = set(char_grams(stem("skolmåltider")))
    assert {"#målt", "#ltid>", "#åltid"} <= compound & grams


def test_analyser_marks_synonym_groups_of_compounds() -> None:
    features = SwedishAnalyser(use_synonyms=True)("Kontorsstädning och städfirma")
    assert features.count("=lokalvård") == 2


def test_analyser_without_synonyms_emits_no_synonym_features() -> None:
    features = SwedishAnalyser(use_synonyms=False)("lokalvård städning")
    assert not [f for f in features if f.startswith("=")]


def test_support_is_not_a_synonym_of_stod() -> None:
    analyser = SwedishAnalyser(use_synonyms=True)
    it_support = set(analyser("IT-support"))
    personal_support = set(analyser("stöd till personer"))
    assert not it_support & personal_support


def test_short_synonym_entries_match_whole_words_only() -> None:
    analyser = SwedishAnalyser(use_synonyms=True)
    assert "=måltider" in analyser("mat")
    assert "=måltider" not in analyser("material matematik")


def test_compound_head_decides_the_synonym_group() -> None:
    analyser = SwedishAnalyser(use_synonyms=True)
    assert [f for f in analyser("flyttstädning") if f.startswith("=")] == ["=lokalvård"]
    assert [f for f in analyser("flyttfirma") if f.startswith("=")] == ["=flytt"]


def test_compound_head_matches_after_snowball_undoubles_it() -> None:
    # Snowball stems "kontorsflytt" to "kontorsflyt" but leaves "flytt" alone.
    assert "=flytt" in SwedishAnalyser(use_synonyms=True)("kontorsflyttar")


def test_ambiguous_tvatt_is_not_laundry_by_itself() -> None:
    analyser = SwedishAnalyser(use_synonyms=True)
    assert "=tvätteri" not in analyser("tvätt av bilar")
    assert "=tvätteri" in analyser("tvätteri")


# Texts whose edges could bleed into their neighbours' when documents are analysed together:
# combining marks and hyphens at the edges, the batch break character inside a text, white
# space of all kinds, letters whose case folding is context-dependent in str.lower().
AWKWARD_DOCUMENTS = [
    "Städning av KONTOR",
    "\u0301accent först",
    "slutar med ring a\u030a",
    "",
    "   ",
    "IT-support och barn- och ungdomsverksamhet-",
    "-bindestreck först, lokal\u00advård",
    "noll\x00tecken inne\x00i och \x00 ensam",
    "ΟΔΟΣ Σ",
    "tab\tny rad\nhårt\u00a0mellanslag\u2003em",
    "12 345 kr",
    "ǰ Straße ﬁnns",
    "och",
]


@pytest.mark.parametrize("batch", [1, 2, 5, 1000])
def test_document_pieces_give_each_document_its_own_words(
    monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(analysis, "DOCUMENT_BATCH", batch)
    documents = AWKWARD_DOCUMENTS * 3
    pieces, numbers, starts = document_pieces(documents)
    assert starts.size == len(documents) + 1
    for i, document in enumerate(documents):
        mine = numbers[starts[i] : starts[i + 1]]
        words = [word for n in mine.tolist() for word in split_normalised(pieces[n])]
        assert words == split_words(document), document


def test_document_pieces_are_the_distinct_pieces_str_split_finds_numbered_by_first_sight() -> None:
    documents = [
        "a\u3000b\u2028c\x1cd\x85e\u00a0f b a",
        "lone \ud800 surrogate \ud800 and \U0001f600 \U0001f600",
        "\x00 inside\x00 a document",
        "",
        "a",
    ]
    pieces, numbers, _ = document_pieces(documents)
    found = [p for d in documents for p in normalise(d.replace("\x00", " ")).split()]
    assert pieces == list(dict.fromkeys(found))
    assert [pieces[n] for n in numbers.tolist()] == found

"""The fitted text model equals scikit-learn's TF-IDF bit for bit (our counting is faster)."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from asfmatch.matching.analysis import SwedishAnalyser
from asfmatch.matching.tfidf import (
    GRAM,
    GRAM_MAX_DF,
    GRAM_PRUNING_MIN_DOCS,
    TextModel,
    block_normalise,
    block_of,
    count_features,
)

WORDS = [
    "lokalvård",
    "städning",
    "fönsterputsning",
    "skolmåltider",
    "catering",
    "måltider",
    "förskolor",
    "kontor",
    "snöröjning",
    "halkbekämpning",
    "it-support",
    "helpdesk",
    "arbetsträning",
    "praktikplatser",
    "tvätt",
    "mangling",
    "trädgårdsskötsel",
    "gräsklippning",
    "flytthjälp",
    "kontorsflytt",
    "återbruk",
    "möbelrenovering",
    "kommunen",
    "söker",
    "leverantör",
    "av",
    "för",
    "skolor",
    "och",
    "äldreboenden",
    "vi",
    "erbjuder",
    "tjänster",
]


def _corpus(size: int) -> list[str]:
    rng = random.Random(size)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(3, 25))) for _ in range(size)]
    # Documents without words, and with a stop word only, get empty rows.
    return [*texts, "", "12 345", "och"]


def _reference(
    documents: list[str], use_synonyms: bool
) -> tuple[list[str], np.ndarray, sparse.csr_matrix]:
    vectorizer = TfidfVectorizer(
        analyzer=SwedishAnalyser(use_synonyms), sublinear_tf=True, norm=None, dtype=np.float32
    )
    matrix = sparse.csr_matrix(vectorizer.fit_transform(documents))
    names = [str(name) for name in vectorizer.get_feature_names_out()]
    idf = np.asarray(vectorizer.idf_, np.float64)
    block = np.array([block_of(name) for name in names], np.int8)
    if len(documents) >= GRAM_PRUNING_MIN_DOCS:
        df = np.bincount(matrix.indices, minlength=len(names))
        keep = np.flatnonzero(~((block == GRAM) & (df > GRAM_MAX_DF * len(documents))))
        matrix = sparse.csr_matrix(matrix[:, keep])
        names, idf, block = [names[i] for i in keep], idf[keep], block[keep]
    block_normalise(matrix, block)
    matrix.sort_indices()
    return names, idf, matrix


@pytest.mark.parametrize(("size", "use_synonyms"), [(40, True), (1200, True), (1200, False)])
def test_fit_equals_scikit_learn_tfidf_bit_for_bit(size: int, use_synonyms: bool) -> None:
    documents = _corpus(size)
    model, matrix = TextModel.fit(documents, use_synonyms)
    names, idf, expected = _reference(documents, use_synonyms)
    assert list(model.feature_names) == names
    assert np.array_equal(model.idf, idf)
    assert np.array_equal(matrix.indptr, expected.indptr)
    assert np.array_equal(matrix.indices, expected.indices)
    assert matrix.dtype == np.float32
    assert np.array_equal(matrix.data, expected.data)


def test_fit_of_texts_without_words_is_an_empty_model() -> None:
    model, matrix = TextModel.fit(["", "123", "och"], use_synonyms=True)
    assert model.size == 0
    assert matrix.shape == (3, 0)


def test_counts_are_each_documents_analyser_features() -> None:
    documents = [
        "IT-support och it-support, IT\u00adsupport",
        "",
        "12 345",
        "Städning \x00 av KONTOR; städning av kontor",
        "\u0301först ring a\u030a",
        *_corpus(30),
    ]
    names, counts = count_features(documents, use_synonyms=True)
    analyser = SwedishAnalyser(use_synonyms=True)
    assert names == sorted({f for d in documents for f in analyser(d)})
    for i, document in enumerate(documents):
        row = counts.getrow(i)
        assert dict(zip([names[c] for c in row.indices], row.data.tolist(), strict=True)) == (
            Counter(analyser(document))
        )


def test_fit_of_a_large_vocabulary_equals_scikit_learn_tfidf_bit_for_bit() -> None:
    # Thousands of columns, so a row's columns lie in many words of the counting's bitmap
    # and of its summary, and rows in several ranges counted on different threads.
    rng = random.Random(3)
    letters = "abdefghiklmnoprstuvyåäö"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(4, 9))) for _ in range(3000)]
    documents = [" ".join(rng.choices(vocabulary, k=rng.randint(0, 60))) for _ in range(1500)]
    model, matrix = TextModel.fit(documents, use_synonyms=False)
    names, idf, expected = _reference(documents, use_synonyms=False)
    assert model.size > 20_000
    assert list(model.feature_names) == names
    assert np.array_equal(model.idf, idf)
    assert np.array_equal(matrix.indptr, expected.indptr)
    assert np.array_equal(matrix.indices, expected.indices)
    assert np.array_equal(matrix.data, expected.data)

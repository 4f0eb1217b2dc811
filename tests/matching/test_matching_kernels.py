"""The compiled posting loops give scipy's product bit for bit and find exactly the shared
features, whichever way they store local rows and however long the lists."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from asfmatch.matching import kernels
from asfmatch.matching.tfidf import TextModel


def _postings(
    documents: int, features: int, density: float, row_type: type[np.integer]
) -> tuple[sparse.csc_matrix, np.ndarray]:
    matrix = sparse.random(
        documents, features, density=density, format="csc", dtype=np.float32, random_state=7
    )
    matrix.sort_indices()
    return matrix, matrix.indices.astype(row_type)


@pytest.mark.parametrize("row_type", [np.uint16, np.int32])
def test_text_scores_equal_scipys_product_bit_for_bit(row_type: type[np.integer]) -> None:
    matrix, rows = _postings(3000, 400, 0.05, row_type)
    rng = np.random.default_rng(3)
    cols = np.sort(rng.choice(400, size=60, replace=False)).astype(np.int32)
    weights = rng.random(60)
    scores = np.zeros(3000)
    kernels.text_scores(matrix.indptr, rows, matrix.data, cols, weights, scores)
    # scipy's column-major product over the query's columns, in float64 like the kernel.
    expected = matrix[:, cols].astype(np.float64) @ weights
    assert np.array_equal(scores, expected)


@pytest.mark.parametrize("density", [0.002, 0.3])  # short lists are walked, long ones bisected
@pytest.mark.parametrize("row_type", [np.uint16, np.int32])
def test_shared_finds_every_query_feature_of_the_documents_and_nothing_else(
    density: float, row_type: type[np.integer]
) -> None:
    matrix, rows = _postings(2000, 300, density, row_type)
    dense = matrix.toarray()
    rng = np.random.default_rng(5)
    cols = np.sort(rng.choice(300, size=40, replace=False)).astype(np.int32)
    documents = rng.choice(2000, size=20, replace=False).astype(np.intp)
    which, position, values = kernels.shared(matrix.indptr, rows, matrix.data, cols, documents)
    found = sorted(zip(which.tolist(), position.tolist(), values.tolist(), strict=True))
    expected = sorted(
        (d, i, float(dense[documents[d], cols[i]]))
        for d in range(documents.size)
        for i in range(cols.size)
        if dense[documents[d], cols[i]] != 0
    )
    assert found == expected
    assert expected  # the case is not vacuous


@pytest.mark.parametrize("length", [1, 2, 3, 31, 32, 33, 64, 127, 128, 129, 1000])
def test_shared_finds_documents_at_the_ends_of_a_bisected_list_and_between(length: int) -> None:
    rng = np.random.default_rng(length)
    listed = np.sort(rng.choice(np.arange(1, 5000, 2), size=length, replace=False))
    indptr = np.array([0, length], dtype=np.int32)
    rows = listed.astype(np.int32)
    values = (np.arange(length) + 1).astype(np.float32)  # a row's value is its place + 1
    # The first and last rows, some inside, and rows before, after and between them: about
    # eight documents, so lists of 64 rows and more are bisected and shorter ones walked.
    sought = {int(listed[0]), int(listed[-1]), 0, 6000, int(listed[-1]) + 1}
    sought |= set(rng.choice(listed, size=min(length, 3)).tolist())
    sought |= {int(v) + 1 for v in rng.choice(listed, size=2)}
    documents = rng.permutation(sorted(sought)).astype(np.intp)
    which, position, found = kernels.shared(indptr, rows, values, np.zeros(1, np.int32), documents)
    expected = {d: float(np.searchsorted(listed, documents[d]) + 1) for d in range(documents.size)}
    expected = {d: v for d, v in expected.items() if documents[d] in set(listed.tolist())}
    assert dict(zip(which.tolist(), found.tolist(), strict=True)) == expected
    assert set(position.tolist()) <= {0}


def test_shared_of_no_documents_or_empty_lists_is_empty() -> None:
    matrix, rows = _postings(100, 10, 0.1, np.uint16)
    empty = np.zeros(11, dtype=np.int32)
    cols = np.arange(10, dtype=np.int32)
    for indptr, documents in ((matrix.indptr, np.zeros(0, np.intp)), (empty, np.arange(5))):
        which, position, values = kernels.shared(indptr, rows, matrix.data, cols, documents)
        assert which.size == position.size == values.size == 0


def test_weigh_gives_each_text_its_fitted_row_bit_for_bit() -> None:
    words = ["städning", "skolor", "fönsterputs", "lokalvård", "måltider", "skolmåltider"]
    rng = np.random.default_rng(13)
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 12))) for _ in range(60)]
    texts += ["städning " * 300, ""]  # a feature counted hundreds of times; no words
    model, matrix = TextModel.fit(texts, use_synonyms=True)
    for row, text in enumerate(texts):
        vector = model.vectorize(text)
        assert np.array_equal(
            vector.cols, matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
        )
        assert np.array_equal(vector.vals, matrix.data[matrix.indptr[row] : matrix.indptr[row + 1]])


@pytest.mark.parametrize("top", [1, 255, 256, 22_000, 2**31 - 1])  # one, two and four byte passes
@pytest.mark.parametrize("size", [0, 1, 2, 150, 3000])
def test_radix_order_is_numpys_stable_argsort(top: int, size: int) -> None:
    rng = np.random.default_rng(size + top)
    # Few distinct values among many, so equal values must keep their order.
    values = rng.integers(0, top + 1, size=size).astype(np.int32)
    values[: size // 3] = top
    assert np.array_equal(kernels._radix_order(values), np.argsort(values, kind="stable"))


def test_analysed_feature_of_two_words_is_owned_half_by_each() -> None:
    model, _ = TextModel.fit(["skolmåltider", "måltider", "städning"], use_synonyms=False)
    analysed = model.analyse("skolmåltider måltider")
    assert analysed.words == ["måltider", "skolmåltider"]
    assert np.array_equal(analysed.vector.cols, model.vectorize("skolmåltider måltider").cols)
    gram = model.vocabulary["#ltid"]
    own = model.vocabulary["skolmåltid"]
    shares = dict(zip(analysed.vector.cols.tolist(), analysed.share.tolist(), strict=True))
    assert shares[gram] == [0.5, 0.5]
    assert shares[own] == [0.0, 1.0]


@pytest.mark.parametrize("k", [1, 5, 40, 200])
def test_top_k_orders_by_score_then_lowest_id_with_ties_at_the_cut(k: int) -> None:
    rng = np.random.default_rng(17)
    score = rng.choice([0.1, 0.25, 0.5, 0.75], size=150)  # many ties
    keep = np.flatnonzero(rng.random(150) < 0.7)
    slots = rng.permutation(150).astype(np.int64)
    ids = rng.permutation(1000)[:150].astype(np.int64)
    expected = keep[np.lexsort((ids[slots[keep]], -score[keep]))][:k]
    assert np.array_equal(kernels.top_k(score, keep, slots, ids, k), expected)


@pytest.mark.parametrize("wanted", [1, 40, 80, 2000])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("id_offset", [0, 2**40, -7_500])  # radix sorts; a comparison sort
def test_ranked_best_keeps_the_wanted_best_in_rank_order_with_ties_at_the_cut(
    wanted: int, tied: bool, id_offset: int
) -> None:
    rng = np.random.default_rng(29)
    size = 1500
    # Scores of a handful of values tie at any cut; random ones rarely do, and many of them
    # share the histogram's bins.
    text = rng.choice([0.0, 0.2, 0.5, 0.9], size) if tied else rng.random(size) ** 3
    cpv = rng.choice([0.0, 0.35, 0.75, 1.0], size)
    slots = rng.permutation(size).astype(np.int64)
    ids = rng.permutation(10 * size)[:size].astype(np.int64) + id_offset
    weights = (np.array([0.6]), np.array([0.4]))
    score, best, kept = kernels.ranked_best(text, cpv, *weights, 0.1, 1e6, slots, ids, wanted)
    expected_score = np.round(np.clip(0.6 * text + 0.4 * cpv, 0.0, 1.0), 6)
    keep = np.flatnonzero(expected_score >= 0.1)
    order = keep[np.lexsort((ids[slots[keep]], -expected_score[keep]))]
    cut = expected_score[order[min(wanted, order.size) - 1]]
    assert np.array_equal(score, expected_score)
    assert kept == keep.size
    assert np.array_equal(best, order[expected_score[order] >= cut])
    assert best.size >= min(wanted, keep.size)
    if tied and wanted < keep.size:
        assert best.size > wanted  # ties at the cut were kept


@pytest.mark.parametrize("per_candidate", [False, True])
def test_combined_scores_equal_numpys_clip_and_round(per_candidate: bool) -> None:
    rng = np.random.default_rng(11)
    text = np.concatenate([rng.random(500) * 0.6, [0.0, 1.7, 0.4999995, 0.0000004]])
    cpv = np.concatenate([rng.choice([0.0, 0.35, 0.5, 0.75, 1.0], 500), [0.0, 1.0, 0.0, 0.0]])
    has_codes = rng.random(text.size) < 0.5 if per_candidate else np.array(True)
    text_weight = np.where(has_codes, 0.6, 1.0)
    cpv_weight = np.where(has_codes, 0.4, 0.0)
    expected = np.round(np.clip(text_weight * text + cpv_weight * cpv, 0.0, 1.0), 6)
    score, keep = kernels.combined_scores(
        text, cpv, text_weight.reshape(-1), cpv_weight.reshape(-1), 0.25, 1e6
    )
    assert np.array_equal(score, expected)
    assert np.array_equal(keep, np.flatnonzero((expected > 0) & (expected >= 0.25)))


def test_top_words_equal_numpys_round_and_stable_sort() -> None:
    rng = np.random.default_rng(19)
    per_word = rng.choice([0.0, 0.0, -0.1, 0.12344, 0.12346, 0.5, 0.50004], size=(30, 9))
    columns, weights, ends = kernels.top_words(per_word, 5, 1e4)
    rounded = np.round(per_word, 4)
    order = np.argsort(-rounded, axis=1, kind="stable")[:, :5]
    starts = [0, *ends[:-1].tolist()]
    for d in range(30):
        expected = [int(i) for i in order[d] if rounded[d, i] > 0]
        assert columns[starts[d] : ends[d]].tolist() == expected
        assert weights[starts[d] : ends[d]].tolist() == rounded[d, expected].tolist()
    counts = np.diff([0, *ends.tolist()])
    assert counts.min() < 5 < per_word.shape[1]  # rows with few positive weights occur
    assert ends[-1] == columns.size == weights.size


def test_contributions_weigh_each_documents_shared_features_into_its_row() -> None:
    matrix, rows = _postings(500, 80, 0.05, np.uint16)
    dense = matrix.toarray()
    rng = np.random.default_rng(23)
    cols = np.sort(rng.choice(80, size=30, replace=False)).astype(np.int32)
    weights = rng.random(30)
    local_rows = rng.choice(500, size=6, replace=False).astype(np.intp)
    documents = np.array([4, 0, 7, 2, 1, 5], dtype=np.intp)  # their rows in the output
    contribution = np.zeros((8, 30))
    kernels.contributions(
        matrix.indptr, rows, matrix.data, cols, weights, local_rows, documents, contribution
    )
    expected = np.zeros((8, 30))
    expected[documents] = weights * dense[local_rows][:, cols].astype(np.float64)
    assert np.array_equal(contribution, expected)
    assert np.count_nonzero(expected)  # the case is not vacuous


def test_by_source_groups_chosen_candidates_by_the_source_they_came_from() -> None:
    sizes = np.array([3, 0, 4, 2], dtype=np.intp)  # sources laid end to end: 0-2, 3-6, 7-8
    chosen = np.array([8, 0, 4, 2, 3, 7], dtype=np.intp)
    order, offsets, bounds = kernels.by_source(sizes, chosen)
    assert bounds.tolist() == [0, 2, 2, 4, 6]
    assert order.tolist() == [1, 3, 2, 4, 0, 5]  # positions in `chosen`, in chosen order
    assert offsets.tolist() == [0, 2, 1, 0, 1, 0]


def test_column_filters_of_suppliers_and_needs_equal_the_rules_in_numpy() -> None:
    rng = np.random.default_rng(37)
    n = 400
    at = rng.choice(n, size=150, replace=False).astype(np.int64)
    alive, flag = rng.random(n) < 0.9, rng.random(n) < 0.5
    amount = rng.choice([0, 100, 500, 1000, 5000], n).astype(np.int64)
    places = rng.choice([-1, 0, 1, 2, 5], n).astype(np.int64)
    # `switch`: the need is reserved (suppliers), the supplier is admitted to reserved (needs).
    for switch in (False, True):
        for value, has_value in ((0, False), (500, True)):
            for wanted in (int(np.iinfo(np.int64).min), 2):
                ok = kernels.eligible_suppliers(
                    at, alive, flag, switch, amount, value, has_value, places, wanted
                )
                expected = alive[at] & (flag[at] | (not switch))
                expected &= (amount[at] >= value) | (not has_value)
                assert np.array_equal(ok, expected & (places[at] >= wanted))
        for capacity, has_capacity in ((0, False), (500, True)):
            ok = kernels.eligible_needs(
                at, alive, flag, switch, amount, capacity, has_capacity, places, 2
            )
            expected = alive[at] & (~flag[at] | switch)
            expected &= (amount[at] <= capacity) | (not has_capacity)
            assert np.array_equal(ok, expected & ((places[at] <= 0) | (places[at] <= 2)))
